import type { Model, ModelStatic, Transaction } from 'sequelize';
import { bulkSignals, EVENT_NAMES, type EventName, type Signal } from '../../lib';

/** A signal reduced to plain data, for one deep-equality assertion over a whole sequence. */
export interface Recorded {
  event: EventName;
  model: string;
  operation: string;
  via: string;
  soft: boolean;
  newRecords: Record<string, unknown>[];
  oldRecords: Record<string, unknown>[];
  changedFields: string[];
}

type Values = Record<string, unknown>;

/** Picks some attributes of each record (ids, the fields a spec is about), in record order. */
function pick(records: readonly Values[], fields: readonly string[]): Values[] {
  return records.map((r) => Object.fromEntries(fields.map((f) => [f, r[f]])));
}

/** The records' values at delivery time (instances keep changing after the write). */
function snapshot(records: readonly Model[]): Values[] {
  return records.map((r) => ({ ...r.dataValues }));
}

/**
 * Registers a receiver on every event of the given models and records what each delivers. Call `off()` in
 * `afterEach`.
 */
export class Recorder {
  readonly signals: Signal<any>[] = [];
  private readonly seen: { newRecords: Values[]; oldRecords: Values[] }[] = [];
  readonly transactions: Transaction[] = [];
  private readonly offs: (() => void)[] = [];

  constructor(models: readonly ModelStatic<Model>[], events: readonly EventName[] = EVENT_NAMES) {
    for (const model of models) {
      for (const event of events) {
        this.offs.push(
          bulkSignals.on(model, event, (signal) => {
            this.signals.push(signal as Signal<Model>);
            this.seen.push({ newRecords: snapshot(signal.newRecords), oldRecords: snapshot(signal.oldRecords) });
            this.transactions.push(signal.transaction);
          }),
        );
      }
    }
  }

  /** The recorded sequence with the given attributes of each record. */
  summary(fields: readonly string[]): Recorded[] {
    return this.signals.map((s, i) => ({
      event: s.event,
      model: s.model.name,
      operation: s.operation,
      via: s.via,
      soft: s.soft,
      newRecords: pick(this.seen[i]!.newRecords, fields),
      oldRecords: pick(this.seen[i]!.oldRecords, fields),
      changedFields: [...s.changedFields].sort(),
    }));
  }

  events(): EventName[] {
    return this.signals.map((s) => s.event);
  }

  clear(): void {
    this.signals.length = 0;
    this.seen.length = 0;
    this.transactions.length = 0;
  }

  off(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

/** Collects unsubscribe functions of receivers a spec registers, to drop them all in `afterEach`. */
export class Receivers {
  private readonly offs: (() => void)[] = [];
  add(off: () => void): void {
    this.offs.push(off);
  }
  clear(): void {
    for (const off of this.offs.splice(0)) off();
  }
}

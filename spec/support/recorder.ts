import type { Model, ModelStatic, Transaction } from 'sequelize';
import { bulkSignals, EVENT_NAMES, type EventName, type Signal } from '../../lib';

/** A signal reduced to plain data, for one deep-equality assertion over a whole sequence. */
export interface Recorded {
  event: EventName;
  model: string;
  operation: string;
  via: string;
  newRecords: Record<string, unknown>[];
  oldRecords: Record<string, unknown>[];
  changedFields: string[];
}

/** Picks some attributes of each record (ids, the fields a spec is about), in record order. */
function pick(records: readonly Model[], fields: readonly string[]): Record<string, unknown>[] {
  return records.map((r) => Object.fromEntries(fields.map((f) => [f, r.get(f)])));
}

/**
 * Registers a receiver on every event of the given models and records what each delivers. Call `off()` in
 * `afterEach`.
 */
export class Recorder {
  readonly signals: Signal<Model>[] = [];
  readonly transactions: Transaction[] = [];
  private readonly offs: (() => void)[] = [];

  constructor(models: readonly ModelStatic<Model>[], events: readonly EventName[] = EVENT_NAMES) {
    for (const model of models) {
      for (const event of events) {
        this.offs.push(bulkSignals.on(model, event, (signal) => {
          this.signals.push(signal as Signal<Model>);
          this.transactions.push(signal.transaction);
        }));
      }
    }
  }

  /** The recorded sequence with the given attributes of each record. */
  summary(fields: readonly string[]): Recorded[] {
    return this.signals.map((s) => ({
      event: s.event,
      model: s.model.name,
      operation: s.operation,
      via: s.via,
      newRecords: pick(s.newRecords, fields),
      oldRecords: pick(s.oldRecords, fields),
      changedFields: [...s.changedFields].sort(),
    }));
  }

  events(): EventName[] {
    return this.signals.map((s) => s.event);
  }

  clear(): void {
    this.signals.length = 0;
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

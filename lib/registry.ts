import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { Condition } from './conditions';
import type { EventName } from './events';
import { shared } from './shared';
import { canonicalModel } from './data/model-info';

/** One registered receiver. */
export interface Entry {
  readonly receiver: (signal: never) => unknown;
  readonly priority: number;
  /** Registration order, process-wide: ties in priority run in this order, per-model and every-model alike. */
  readonly seq: number;
  readonly when: Condition | undefined;
  readonly onCommit: boolean;
  readonly name: string | undefined;
  /** Registered on a Sequelize instance (every model of it) rather than on one model. */
  readonly everyModel: boolean;
}

/** What receivers are registered on: a model class (canonical: scopes share it) or a Sequelize instance. */
export type Target = ModelStatic<Model> | Sequelize;

interface RegistryState {
  readonly byTarget: Map<object, Map<EventName, readonly Entry[]>>;
  readonly warned: WeakMap<object, Set<EventName>>;
  /** Per every-model entry with a `when`: the models its condition can be evaluated on. */
  readonly fits: WeakMap<Entry, WeakMap<object, boolean>>;
  seq: number;
}

// One registry per process, shared by the CommonJS and ESM builds.
const state: RegistryState = shared('registry@3', () => ({ byTarget: new Map(), warned: new WeakMap(), fits: new WeakMap(), seq: 0 }));

const EMPTY: readonly Entry[] = Object.freeze([]);

function entriesOf(target: object | undefined, event: EventName): readonly Entry[] {
  return (target && state.byTarget.get(target)?.get(event)) || EMPTY;
}

const byRunOrder = (a: Entry, b: Entry) => a.priority - b.priority || a.seq - b.seq;

/**
 * The receivers for a model and event, in run order: the model's own and those registered on its Sequelize
 * instance for every model, merged by priority, then registration order.
 */
export function receiversFor(model: ModelStatic<Model>, event: EventName): readonly Entry[] {
  const own = entriesOf(canonicalModel(model), event);
  const every = entriesOf(model.sequelize, event);
  if (every.length === 0) return own;
  if (own.length === 0) return every;
  return [...own, ...every].sort(byRunOrder);
}

/** The receivers registered on the model itself (not those for every model), in run order. */
export function ownReceiversFor(model: ModelStatic<Model>, event: EventName): readonly Entry[] {
  return entriesOf(canonicalModel(model), event);
}

/** Whether receivers registered on the model itself listen for any of `events`. */
export function listensOwn(model: ModelStatic<Model>, events: readonly EventName[]): boolean {
  const own = state.byTarget.get(canonicalModel(model));
  for (const event of events) if (own?.get(event)?.length) return true;
  return false;
}

/** Whether anyone listens for any of `events` on `model` (cheap: no payload is built when this is false). */
export function listensFor(model: ModelStatic<Model>, events: readonly EventName[]): boolean {
  const own = state.byTarget.get(canonicalModel(model));
  const every = model.sequelize && state.byTarget.get(model.sequelize);
  for (const event of events) if (own?.get(event)?.length || every?.get(event)?.length) return true;
  return false;
}

/** The receivers of one target and event (for the multiple-receivers rule). */
export function entriesFor(target: Target, event: EventName): readonly Entry[] {
  return entriesOf(keyOf(target), event);
}

function keyOf(target: Target): object {
  return typeof target === 'function' ? canonicalModel(target) : target;
}

/** Adds a receiver to a target; returns the function that removes it. */
export function addEntry(target: Target, event: EventName, entry: Omit<Entry, 'seq'>): { entry: Entry; off: () => void } {
  const key = keyOf(target);
  let byEvent = state.byTarget.get(key);
  if (!byEvent) state.byTarget.set(key, (byEvent = new Map<EventName, readonly Entry[]>()));
  const added: Entry = Object.freeze({ ...entry, seq: state.seq++ });
  // Copy on write: a dispatch already iterating the old array is unaffected by (un)subscribes.
  byEvent.set(event, Object.freeze([...(byEvent.get(event) ?? EMPTY), added].sort(byRunOrder)));
  const events = byEvent;
  return {
    entry: added,
    off: () => {
      const list = events.get(event) ?? EMPTY;
      if (list.includes(added)) events.set(event, Object.freeze(list.filter((e) => e !== added)));
    },
  };
}

/** Removes every receiver of `target`, or of every target. */
export function removeEntries(target?: Target): void {
  if (target === undefined) state.byTarget.clear();
  else state.byTarget.delete(keyOf(target));
}

/** Records that the multiple-receivers warning was raised for a target and event; false if it was already. */
export function firstWarning(target: Target, event: EventName): boolean {
  const key = keyOf(target);
  let events = state.warned.get(key);
  if (!events) state.warned.set(key, (events = new Set()));
  if (events.has(event)) return false;
  events.add(event);
  return true;
}

/**
 * Whether a receiver applies to a model: always, except an every-model receiver whose `when` reads an
 * attribute the model does not have — it is skipped for that model, with one process warning per receiver and
 * model (the condition cannot be evaluated there, and a write must not fail for it).
 */
export function appliesTo(entry: Entry, model: ModelStatic<Model>): boolean {
  if (!entry.everyModel || !entry.when) return true;
  let byModel = state.fits.get(entry);
  if (!byModel) state.fits.set(entry, (byModel = new WeakMap()));
  const key = canonicalModel(model);
  const known = byModel.get(key);
  if (known !== undefined) return known;
  const attributes = model.getAttributes();
  const missing = entry.when.fields.filter((f) => !(f in attributes));
  byModel.set(key, missing.length === 0);
  if (missing.length > 0) {
    process.emitWarning(
      `A receiver for every model${entry.name ? ` (${entry.name})` : ''} has a condition that reads ${missing.join(', ')}, ` +
        `which ${model.name} does not have; it is not called for ${model.name}.`,
      { type: 'BulkSignalsWarning', code: 'BULK_SIGNALS_CONDITION_FIELDS' },
    );
  }
  return missing.length === 0;
}

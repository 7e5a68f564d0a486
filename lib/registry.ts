import type { Model, ModelStatic } from 'sequelize';
import { InvalidReceiverError, NotInstalledError } from './errors';
import { isCondition, type Condition } from './conditions';
import { EVENT_NAMES, Priority, type AttributeName, type BulkSignalEventMap, type EventName, type Receiver } from './events';
import { installStateOf } from './install-state';
import { runInScope } from './scope';
import { canonicalModel, isModelClass } from './data/model-info';

/** Options of `bulkSignals.on`. */
export interface ReceiverOptions<M extends Model = Model> {
  /** Lower runs first; see {@link Priority}. Default `Priority.NORMAL` (50). */
  priority?: number;
  /**
   * Only rows that satisfy this condition: the receiver gets the matching pairs (still paired) and is not
   * called when none match. Build it with `changed`, `changedTo`, `changedFrom`, `isEqual`, `and`, `or`, `not`.
   */
  when?: Condition<AttributeName<M>>;
  /**
   * After events only: deliver once the outermost transaction has committed (never after a rollback or a
   * failed COMMIT). The write is final by then: a throw goes to `onCommitError`, not to the caller.
   */
  onCommit?: boolean;
}

export interface Entry {
  readonly receiver: (signal: never) => unknown;
  readonly priority: number;
  readonly seq: number;
  readonly when: Condition | undefined;
  readonly onCommit: boolean;
}

interface RegistryState {
  readonly byModel: WeakMap<object, Map<EventName, readonly Entry[]>>;
  readonly warned: WeakMap<object, Set<EventName>>;
  seq: number;
}

const KEY = Symbol.for('sequelize-bulk-signals/registry@1');
type Holder = { [KEY]?: RegistryState };

// One registry per process, kept on globalThis so a second copy of the module (CJS and ESM) shares it.
const state: RegistryState = ((globalThis as Holder)[KEY] ??= { byModel: new WeakMap(), warned: new WeakMap(), seq: 0 });

const EMPTY: readonly Entry[] = Object.freeze([]);
const EVENTS = new Set<string>(EVENT_NAMES);

/** The receivers for a model and event, in run order (priority, then registration). */
export function receiversFor(model: ModelStatic<Model>, event: EventName): readonly Entry[] {
  return state.byModel.get(canonicalModel(model))?.get(event) ?? EMPTY;
}

/** Whether anyone listens for any of `events` on `model` (cheap: no payload is built when this is false). */
export function listensFor(model: ModelStatic<Model>, events: readonly EventName[]): boolean {
  const byEvent = state.byModel.get(canonicalModel(model));
  if (!byEvent) return false;
  for (const event of events) if (byEvent.get(event)?.length) return true;
  return false;
}

function nameOf(target: unknown): string {
  if (typeof target === 'function') return target.name || '<anonymous function>';
  return target === null ? 'null' : typeof target;
}

function on<M extends Model, E extends EventName>(
  model: ModelStatic<M>,
  event: E,
  receiver: Receiver<M, E>,
  options: ReceiverOptions<M> = {},
): () => void {
  if (!isModelClass(model)) {
    throw new InvalidReceiverError(
      `bulkSignals.on expected a Sequelize model class as its first argument, got ${nameOf(model)}`,
      { event: String(event) },
    );
  }
  const modelName = model.name;
  if (typeof event !== 'string' || !EVENTS.has(event)) {
    throw new InvalidReceiverError(
      `bulkSignals.on(${modelName}, ${JSON.stringify(event)}): unknown event; expected one of ${EVENT_NAMES.join(', ')}`,
      { modelName, event: String(event) },
    );
  }
  if (typeof receiver !== 'function') {
    throw new InvalidReceiverError(
      `bulkSignals.on(${modelName}, '${event}'): the receiver must be a function, got ${nameOf(receiver)}`,
      { modelName, event },
    );
  }
  const priority = options.priority ?? Priority.NORMAL;
  if (typeof priority !== 'number' || !Number.isFinite(priority)) {
    throw new InvalidReceiverError(
      `bulkSignals.on(${modelName}, '${event}'): priority must be a finite number, got ${String(priority)}`,
      { modelName, event },
    );
  }
  if (options.when !== undefined && !isCondition(options.when)) {
    throw new InvalidReceiverError(
      `bulkSignals.on(${modelName}, '${event}'): when must be a condition built with changed(), changedTo(), `
        + `changedFrom(), isEqual(), and(), or() or not(), got ${nameOf(options.when)}`,
      { modelName, event },
    );
  }
  if (options.when) {
    const unknown = options.when.fields.filter((f) => !(f in model.getAttributes()));
    if (unknown.length) {
      throw new InvalidReceiverError(
        `bulkSignals.on(${modelName}, '${event}'): the condition reads ${unknown.join(', ')}, which ${modelName} does not have`,
        { modelName, event },
      );
    }
  }
  if (options.onCommit !== undefined && typeof options.onCommit !== 'boolean') {
    throw new InvalidReceiverError(`bulkSignals.on(${modelName}, '${event}'): onCommit must be a boolean, got ${nameOf(options.onCommit)}`, { modelName, event });
  }
  if (options.onCommit && !event.startsWith('after')) {
    throw new InvalidReceiverError(
      `bulkSignals.on(${modelName}, '${event}'): onCommit delivery is for after events only (afterCreate, afterUpdate, afterDelete)`,
      { modelName, event },
    );
  }
  const installed = installStateOf(model.sequelize);
  if (!installed) {
    throw new NotInstalledError(
      `bulkSignals.on(${modelName}, '${event}'): ${modelName} ${model.sequelize ? 'belongs to a Sequelize instance that never ran' : 'is not initialised on a Sequelize instance; initialise it and run'} installBulkSignals(sequelize) first, or its writes would never signal`,
      { modelName, event },
    );
  }

  const key = canonicalModel(model);
  let byEvent = state.byModel.get(key);
  if (!byEvent) state.byModel.set(key, (byEvent = new Map()));
  const current = byEvent.get(event) ?? EMPTY;
  if (current.length >= 1 && installed.options.warnOnMultipleReceivers) warnOnce(key, modelName, event, current.length + 1);

  const entry: Entry = Object.freeze({
    receiver: receiver as Entry['receiver'],
    priority,
    seq: state.seq++,
    when: options.when as Condition | undefined,
    onCommit: options.onCommit === true,
  });
  // Copy on write: a dispatch already iterating the old array is unaffected by (un)subscribes.
  const next = [...current, entry].sort((a, b) => a.priority - b.priority || a.seq - b.seq);
  byEvent.set(event, Object.freeze(next));

  return function off(): void {
    const list = byEvent!.get(event) ?? EMPTY;
    if (list.includes(entry)) byEvent!.set(event, Object.freeze(list.filter((e) => e !== entry)));
  };
}

function warnOnce(key: object, modelName: string, event: EventName, count: number): void {
  let events = state.warned.get(key);
  if (!events) state.warned.set(key, (events = new Set()));
  if (events.has(event)) return;
  events.add(event);
  process.emitWarning(
    `${modelName} now has ${count} receivers for '${event}'. One receiver per model and event keeps the order `
      + 'of side effects obvious; turn this off with installBulkSignals(sequelize, { warnOnMultipleReceivers: false }).',
    { type: 'BulkSignalsWarning', code: 'BULK_SIGNALS_MULTIPLE_RECEIVERS' },
  );
}

/**
 * Runs `fn` with no signals for any write inside it (an AsyncLocalStorage scope: concurrent work outside
 * the scope still signals).
 *
 * @example
 * await bulkSignals.bypass(() => Account.update({ flagged: false }, { where: {} }));
 */
function bypass<T>(fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new InvalidReceiverError(`bulkSignals.bypass expected a function, got ${nameOf(fn)}`);
  }
  return runInScope({ bypass: true }, fn);
}

/**
 * Runs `fn` with `value` as the signal context: every signal produced by writes inside it carries
 * `signal.context === value` (an AsyncLocalStorage scope: isolated between concurrent requests; an inner
 * `withContext` shadows an outer one until it returns).
 *
 * @example
 * app.use((req, res, next) => bulkSignals.withContext({ userId: req.user.id }, next));
 */
function withContext<T>(value: unknown, fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new InvalidReceiverError(`bulkSignals.withContext expected a function as its second argument, got ${nameOf(fn)}`);
  }
  return runInScope({ context: value }, fn);
}

/** Whether `model` has any receiver for `event`. */
function has<M extends Model>(model: ModelStatic<M>, event: EventName): boolean {
  return receiversFor(model, event).length > 0;
}

/**
 * The process-wide receiver registry.
 *
 * @example
 * const off = bulkSignals.on(Account, 'afterUpdate', ({ oldRecords, newRecords }) => { ... });
 * off(); // unsubscribe
 */
export const bulkSignals = Object.freeze({ on, bypass, withContext, has });

export type { BulkSignalEventMap };

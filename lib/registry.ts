import type { Model, ModelStatic } from 'sequelize';
import { InvalidReceiverError, NotInstalledError } from './errors';
import { isCondition, type Condition } from './conditions';
import {
  EVENT_NAMES,
  Priority,
  type AfterEventName,
  type AttributeName,
  type BulkSignalEventMap,
  type ContextValue,
  type EventName,
  type Receiver,
} from './events';
import { installStateOf } from './install-state';
import { debugLog } from './debug';
import { runInScope } from './scope';
import { shared } from './shared';
import { canonicalModel, isModelClass, isUninitialisedModelClass } from './data/model-info';

/**
 * Options of `bulkSignals.on`. `E` is the event, so `onCommit` only type-checks on after events.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', notify, { priority: Priority.LOW, when: changed('status'), onCommit: true, name: 'notify' });
 */
export interface ReceiverOptions<M extends Model = Model, E extends EventName = EventName> {
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
  onCommit?: E extends AfterEventName ? boolean : false;
  /**
   * A name for the receiver (in debug logs). A named receiver is a deliberate extra receiver: it never raises
   * the "more than one receiver" warning.
   */
  name?: string;
}

export interface Entry {
  readonly receiver: (signal: never) => unknown;
  readonly priority: number;
  readonly seq: number;
  readonly when: Condition | undefined;
  readonly onCommit: boolean;
  readonly name: string | undefined;
}

interface RegistryState {
  readonly byModel: Map<object, Map<EventName, readonly Entry[]>>;
  readonly warned: WeakMap<object, Set<EventName>>;
  seq: number;
}

// One registry per process, shared by the CommonJS and ESM builds.
const state: RegistryState = shared('registry@2', () => ({ byModel: new Map(), warned: new WeakMap(), seq: 0 }));

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

function fail(message: string, modelName?: string, event?: string): never {
  throw new InvalidReceiverError(message, { ...(modelName ? { modelName } : {}), ...(event ? { event } : {}) });
}

/** The model `on` registers for, or a typed error saying why `target` is not one. */
function modelTarget(target: unknown, event: unknown): ModelStatic<Model> {
  if (isModelClass(target)) return target;
  if (isUninitialisedModelClass(target)) {
    const modelName = (target as { name: string }).name;
    throw new NotInstalledError(
      `bulkSignals.on(${modelName}, ${JSON.stringify(event)}): ${modelName} is not initialised on a Sequelize instance yet; ` +
        'add it (Model.init, sequelize.define or sequelize.addModels) to an instance that ran installBulkSignals(sequelize) first',
      { modelName, event: String(event) },
    );
  }
  return fail(`bulkSignals.on expected a Sequelize model class as its first argument, got ${nameOf(target)}`, undefined, String(event));
}

/** Checks the event, the receiver and the options; returns the options with their defaults. */
function checked(
  model: ModelStatic<Model>,
  event: unknown,
  receiver: unknown,
  options: unknown,
): Required<Pick<ReceiverOptions, 'priority'>> & ReceiverOptions {
  const modelName = model.name;
  if (typeof event !== 'string' || !EVENTS.has(event)) {
    fail(
      `bulkSignals.on(${modelName}, ${JSON.stringify(event)}): unknown event; expected one of ${EVENT_NAMES.join(', ')}`,
      modelName,
      String(event),
    );
  }
  const at = `bulkSignals.on(${modelName}, '${event}')`;
  const wrong = (what: string) => fail(`${at}: ${what}`, modelName, event);
  if (typeof receiver !== 'function') wrong(`the receiver must be a function, got ${nameOf(receiver)}`);
  if (options !== undefined && (options === null || typeof options !== 'object'))
    wrong(`options must be an object, got ${nameOf(options)}`);
  const o = (options ?? {}) as ReceiverOptions;
  checkCondition(model, at, event, o.when);
  return { ...o, priority: checkedPriority(o.priority, wrong), ...checkedDelivery(o, event, wrong) };
}

function checkedPriority(priority: unknown, wrong: (what: string) => never): number {
  if (priority === undefined) return Priority.NORMAL;
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    wrong(`priority must be a finite number, got ${typeof priority === 'number' ? String(priority) : nameOf(priority)}`);
  return priority;
}

function checkedDelivery(o: ReceiverOptions, event: string, wrong: (what: string) => never): Pick<ReceiverOptions, 'onCommit' | 'name'> {
  if (o.onCommit !== undefined && typeof o.onCommit !== 'boolean') wrong(`onCommit must be a boolean, got ${nameOf(o.onCommit)}`);
  if (o.onCommit && !event.startsWith('after')) wrong('onCommit delivery is for after events only (afterCreate, afterUpdate, afterDelete)');
  if (o.name !== undefined && typeof o.name !== 'string') wrong(`name must be a string, got ${nameOf(o.name)}`);
  return { onCommit: o.onCommit, name: o.name };
}

function checkCondition(model: ModelStatic<Model>, at: string, event: string, when: unknown): void {
  if (when === undefined) return;
  if (!isCondition(when)) {
    fail(
      `${at}: when must be a condition built with changed(), changedTo(), changedFrom(), isEqual(), and(), or() or not(), got ${nameOf(when)}`,
      model.name,
      event,
    );
  }
  const unknown = when.fields.filter((f) => !(f in model.getAttributes()));
  if (unknown.length) fail(`${at}: the condition reads ${unknown.join(', ')}, which ${model.name} does not have`, model.name, event);
}

function on<M extends Model, E extends EventName>(
  target: ModelStatic<M>,
  event: E,
  receiver: Receiver<M, E>,
  options?: ReceiverOptions<M, E>,
): () => void {
  const model = modelTarget(target, event);
  const o = checked(model, event, receiver, options);
  const installed = installStateOf(model.sequelize);
  if (!installed) {
    throw new NotInstalledError(
      `bulkSignals.on(${model.name}, '${event}'): ${model.name} belongs to a Sequelize instance that never ran installBulkSignals(sequelize); ` +
        'install it first, or its writes would never signal',
      { modelName: model.name, event },
    );
  }
  const key = canonicalModel(model);
  let byEvent = state.byModel.get(key);
  if (!byEvent) state.byModel.set(key, (byEvent = new Map<EventName, readonly Entry[]>()));
  const current = byEvent.get(event) ?? EMPTY;
  const entry: Entry = Object.freeze({
    receiver: receiver,
    priority: o.priority,
    seq: state.seq++,
    when: o.when,
    onCommit: o.onCommit === true,
    name: o.name,
  });
  if (installed.options.warnOnMultipleReceivers) warnOnSecond(key, model.name, event, [...current, entry]);
  // Copy on write: a dispatch already iterating the old array is unaffected by (un)subscribes.
  byEvent.set(event, Object.freeze([...current, entry].sort((a, b) => a.priority - b.priority || a.seq - b.seq)));
  debugLog.registry(
    'on %s.%s%s priority %d%s%s',
    model.name,
    event,
    o.name ? ` (${o.name})` : '',
    o.priority,
    o.when ? ` when ${o.when.description}` : '',
    o.onCommit ? ' onCommit' : '',
  );

  return function off(): void {
    const list = byEvent.get(event) ?? EMPTY;
    if (list.includes(entry)) byEvent.set(event, Object.freeze(list.filter((e) => e !== entry)));
  };
}

/**
 * "One trigger per object": a second receiver for a model and event, both without a `when` condition and
 * without a `name`, raises one process warning. Conditional receivers handle their own rows, and named ones
 * were added on purpose.
 */
function warnOnSecond(key: object, modelName: string, event: EventName, entries: readonly Entry[]): void {
  const plain = entries.filter((e) => !e.when && !e.name);
  if (plain.length < 2) return;
  let events = state.warned.get(key);
  if (!events) state.warned.set(key, (events = new Set()));
  if (events.has(event)) return;
  events.add(event);
  process.emitWarning(
    `${modelName} now has ${plain.length} receivers for '${event}' without a condition or a name. One receiver per model and ` +
      'event keeps the order of side effects obvious; name deliberate extra receivers (bulkSignals.on(…, { name })), ' +
      'or turn this off with installBulkSignals(sequelize, { warnOnMultipleReceivers: false }).',
    { type: 'BulkSignalsWarning', code: 'BULK_SIGNALS_MULTIPLE_RECEIVERS' },
  );
}

/**
 * Removes receivers: every receiver of `model` (its events, all of them), or with no argument every receiver
 * of every model. Meant for test suites, between specs.
 *
 * @example
 * afterEach(() => bulkSignals.off());
 */
function off(model?: ModelStatic<Model>): void {
  if (model === undefined) {
    state.byModel.clear();
    return;
  }
  state.byModel.delete(canonicalModel(modelTarget(model, undefined)));
}

/** Runs `fn` with no signals for any write inside it (an AsyncLocalStorage scope: concurrent work outside still signals). */
function bypass<T>(fn: () => T): T {
  if (typeof fn !== 'function') fail(`bulkSignals.bypass expected a function, got ${nameOf(fn)}`);
  return runInScope({ bypass: true }, fn);
}

/**
 * Runs `fn` with `value` as the signal context: every signal produced by writes inside it carries
 * `signal.context === value` (an AsyncLocalStorage scope: isolated between concurrent requests; an inner
 * `withContext` shadows an outer one until it returns). Declare its type once with `SignalContext`.
 */
function withContext<T>(value: ContextValue, fn: () => T): T {
  if (typeof fn !== 'function') fail(`bulkSignals.withContext expected a function as its second argument, got ${nameOf(fn)}`);
  return runInScope({ context: value }, fn);
}

/** Whether `model` has any receiver for `event`. */
function has<M extends Model>(model: ModelStatic<M>, event: EventName): boolean {
  return receiversFor(model, event).length > 0;
}

/**
 * The type of {@link bulkSignals}: the process-wide receiver registry and its async scopes.
 *
 * @example
 * function registerAudit(signals: BulkSignals): () => void {
 *   return signals.on(Account, 'afterUpdate', audit);
 * }
 */
export interface BulkSignals {
  /**
   * Registers `receiver` for `event` on `model` and returns a function that removes it. Receivers of one event
   * run one at a time, awaited, by `priority` then registration order; a throw stops the write (before and
   * validate events) or rejects the call (after events, inside the write's transaction).
   *
   * @example
   * const off = bulkSignals.on(Account, 'afterUpdate', ({ oldRecords, newRecords, changedFields }) => {
   *   console.log(changedFields, oldRecords.map((r) => r.balance), newRecords.map((r) => r.balance));
   * });
   * off(); // unsubscribe
   */
  on<M extends Model, E extends EventName>(
    model: ModelStatic<M>,
    event: E,
    receiver: Receiver<M, E>,
    options?: ReceiverOptions<M, E>,
  ): () => void;
  /**
   * Removes every receiver of `model` (all its events), or with no argument every receiver of every model.
   *
   * @example
   * afterEach(() => bulkSignals.off());
   */
  off(model?: ModelStatic<Model>): void;
  /**
   * Removes every receiver of every model: `off()`.
   *
   * @example
   * after(() => bulkSignals.clear());
   */
  clear(): void;
  /**
   * Runs `fn` with no signals for any write inside it: an AsyncLocalStorage scope, so concurrent work outside
   * it still signals. For one call, pass `{ bypassSignals: true }` instead.
   *
   * @example
   * await bulkSignals.bypass(() => Account.update({ flagged: false }, { where: {} }));
   */
  bypass<T>(fn: () => T): T;
  /**
   * Runs `fn` with `value` as the signal context: every signal of a write inside it carries
   * `signal.context === value` (an AsyncLocalStorage scope: isolated between concurrent requests; an inner
   * `withContext` shadows an outer one until it returns). Declare its type once with {@link SignalContext}.
   *
   * @example
   * app.use((req, res, next) => bulkSignals.withContext({ userId: req.user.id }, next));
   */
  withContext<T>(value: ContextValue, fn: () => T): T;
  /**
   * Whether `model` has any receiver for `event`.
   *
   * @example
   * if (!bulkSignals.has(Account, 'afterUpdate')) bulkSignals.on(Account, 'afterUpdate', audit);
   */
  has<M extends Model>(model: ModelStatic<M>, event: EventName): boolean;
}

/**
 * The process-wide receiver registry: `on`, `off`, `clear`, `bypass`, `withContext`, `has` (see
 * {@link BulkSignals}). One per process, shared by the CommonJS and ESM builds.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', ({ newRecords }) => searchIndex.update(newRecords));
 */
export const bulkSignals: BulkSignals = shared('bulk-signals@2', () =>
  Object.freeze({ on, off, clear: () => off(), bypass, withContext, has }),
);

export type { BulkSignalEventMap };

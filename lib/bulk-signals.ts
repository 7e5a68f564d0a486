import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { NotInstalledError } from './errors';
import type { ContextValue, EventName, Receiver } from './events';
import { installStateOf, isSequelize } from './install-state';
import { debugLog } from './debug';
import { runInScope } from './scope';
import { shared } from './shared';
import { canonicalModel, isModelClass, isUninitialisedModelClass } from './data/model-info';
import { addEntry, entriesFor, firstWarning, receiversFor, removeEntries, type Target } from './registry';
import {
  checkedEvent,
  checkedOptions,
  failRegistration,
  nameOf,
  type CheckedOptions,
  type ReceiverOptions,
  type Registration,
} from './receiver-options';

const VIA = 'bulkSignals.on';

/** What `on` registers for — a model class or a Sequelize instance — or a typed error saying why `target` is neither. */
function targetOf(target: unknown, event: unknown): { target: Target; registration: Registration } {
  if (isModelClass(target)) {
    return { target, registration: { what: target.name, modelName: target.name, model: target, via: VIA } };
  }
  if (isSequelize(target)) return { target, registration: { what: 'sequelize', modelName: undefined, model: undefined, via: VIA } };
  if (isUninitialisedModelClass(target)) {
    const modelName = (target as { name: string }).name;
    throw new NotInstalledError(
      `bulkSignals.on(${modelName}, ${JSON.stringify(event)}): ${modelName} is not initialised on a Sequelize instance yet; ` +
        'add it (Model.init, sequelize.define or sequelize.addModels) to an instance that ran installBulkSignals(sequelize) first',
      { modelName, event: String(event) },
    );
  }
  return failRegistration(
    `bulkSignals.on expected a Sequelize model class or a Sequelize instance as its first argument, got ${nameOf(target)}`,
    undefined,
    String(event),
  );
}

function sequelizeOf(target: Target): Sequelize | undefined {
  return typeof target === 'function' ? target.sequelize : target;
}

function requireInstalled(target: Target, r: Registration, event: EventName) {
  const installed = installStateOf(sequelizeOf(target));
  if (installed) return installed;
  const whose = r.modelName ? `${r.modelName} belongs to a Sequelize instance that` : 'this Sequelize instance';
  throw new NotInstalledError(
    `bulkSignals.on(${r.what}, '${event}'): ${whose} never ran installBulkSignals(sequelize); install it first, or its writes would never signal`,
    { ...(r.modelName ? { modelName: r.modelName } : {}), event },
  );
}

/** Registers a checked receiver on a checked target (also used by `@OnSignal`). */
export function register(target: Target, r: Registration, event: EventName, receiver: unknown, o: CheckedOptions): () => void {
  const installed = requireInstalled(target, r, event);
  const everyModel = typeof target !== 'function';
  const { off } = addEntry(target, event, { receiver: receiver as (signal: never) => unknown, ...o, everyModel });
  if (installed.options.warnOnMultipleReceivers) warnOnSecond(target, r, event);
  debugLog.registry(
    'on %s.%s%s priority %d%s%s',
    everyModel ? 'every model' : r.what,
    event,
    o.name ? ` (${o.name})` : '',
    o.priority,
    o.when ? ` when ${o.when.description}` : '',
    o.onCommit ? ' onCommit' : '',
  );
  return off;
}

function on(target: unknown, event: unknown, receiver: unknown, options?: unknown): () => void {
  const t = targetOf(target, event);
  const e = checkedEvent(t.registration, event);
  return register(t.target, t.registration, e, receiver, checkedOptions(t.registration, e, receiver, options));
}

/**
 * "One trigger per object": a second receiver for the same target (a model, or every model of an instance)
 * and event, both without a `when` condition and without a `name`, raises one process warning. Conditional
 * receivers handle their own rows, and named ones were added on purpose.
 */
function warnOnSecond(target: Target, r: Registration, event: EventName): void {
  const plain = entriesFor(target, event).filter((e) => !e.when && !e.name);
  if (plain.length < 2 || !firstWarning(target, event)) return;
  const who = r.modelName ?? 'Every model of this Sequelize instance';
  process.emitWarning(
    `${who} now has ${plain.length} receivers for '${event}' without a condition or a name. One receiver per model and ` +
      'event keeps the order of side effects obvious; name deliberate extra receivers (bulkSignals.on(…, { name })), ' +
      'or turn this off with installBulkSignals(sequelize, { warnOnMultipleReceivers: false }).',
    { type: 'BulkSignalsWarning', code: 'BULK_SIGNALS_MULTIPLE_RECEIVERS' },
  );
}

function off(target?: unknown): void {
  if (target === undefined) return removeEntries();
  removeEntries(targetOf(target, undefined).target);
}

function bypass<T>(fn: () => T): T {
  if (typeof fn !== 'function') failRegistration(`bulkSignals.bypass expected a function, got ${nameOf(fn)}`);
  return runInScope({ bypass: true }, fn);
}

function withContext<T>(value: ContextValue, fn: () => T): T {
  if (typeof fn !== 'function') failRegistration(`bulkSignals.withContext expected a function as its second argument, got ${nameOf(fn)}`);
  return runInScope({ context: value }, fn);
}

function has(target: unknown, event: EventName): boolean {
  const t = targetOf(target, event).target;
  return typeof t === 'function' ? receiversFor(canonicalModel(t), event).length > 0 : entriesFor(t, event).length > 0;
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
   * Registers `receiver` for `event` on every model of a Sequelize instance — defined before or after this
   * call; `signal.model` says which. It runs among the model's own receivers of that event, by `priority`,
   * then registration order. A `when` condition is checked against each signalled model: a model lacking an
   * attribute it reads is skipped for this receiver, with one process warning.
   *
   * @example
   * bulkSignals.on(sequelize, 'afterDelete', ({ model, oldRecords }) => log(`${oldRecords.length} ${model.name} deleted`));
   */
  on<E extends EventName>(sequelize: Sequelize, event: E, receiver: Receiver<Model, E>, options?: ReceiverOptions<Model, E>): () => void;
  /**
   * Removes every receiver of `model` (all its events) — or, given a Sequelize instance, the receivers
   * registered on it for every model — or with no argument every receiver of every target.
   *
   * @example
   * afterEach(() => bulkSignals.off());
   */
  off(target?: ModelStatic<Model> | Sequelize): void;
  /**
   * Removes every receiver of every target: `off()`.
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
   * Whether `model` has any receiver for `event` (its own or one for every model of its instance); given a
   * Sequelize instance, whether a receiver for every model is registered on it.
   *
   * @example
   * if (!bulkSignals.has(Account, 'afterUpdate')) bulkSignals.on(Account, 'afterUpdate', audit);
   */
  has(target: ModelStatic<Model> | Sequelize, event: EventName): boolean;
}

/**
 * The process-wide receiver registry: `on`, `off`, `clear`, `bypass`, `withContext`, `has` (see
 * {@link BulkSignals}). One per process, shared by the CommonJS and ESM builds.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', ({ newRecords }) => searchIndex.update(newRecords));
 */
export const bulkSignals: BulkSignals = shared(
  'bulk-signals@3',
  () => Object.freeze({ on, off, clear: () => off(), bypass, withContext, has }) as BulkSignals,
);

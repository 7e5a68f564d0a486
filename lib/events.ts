import type { Attributes, Model, ModelStatic, Transaction } from 'sequelize';

/**
 * Receiver priorities: lower runs first, equal priorities run in registration order. Any finite number works;
 * these name the usual steps.
 *
 * @example
 * bulkSignals.on(Account, 'beforeUpdate', normalise, { priority: Priority.HIGH });
 * bulkSignals.on(Account, 'beforeUpdate', checkLimits); // Priority.NORMAL: runs after normalise
 */
export const Priority = Object.freeze({
  /** 0: runs before everything else. */
  HIGHEST: 0,
  /** 25 */
  HIGH: 25,
  /** 50: the default. */
  NORMAL: 50,
  /** 75 */
  LOW: 75,
  /** 100: runs after everything else. */
  LOWEST: 100,
} as const);

/**
 * The Sequelize call a signal came from.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', ({ operation, newRecords }) => {
 *   if (operation === 'increment') metrics.count('balance.increment', newRecords.length);
 * });
 */
export type Operation =
  | 'create' // Model.create
  | 'save' // instance.save()
  | 'update' // instance.update() or Model.update(values, { where })
  | 'bulkCreate' // Model.bulkCreate
  | 'destroy' // instance.destroy() or Model.destroy({ where })
  | 'increment' // Model.increment / instance.increment
  | 'decrement' // Model.decrement / instance.decrement
  | 'restore' // Model.restore / instance.restore() of a paranoid row
  | 'truncate' // Model.truncate / destroy({ truncate: true })
  | 'upsert' // Model.upsert
  | 'bulkUpdate' // bulkUpdate(Model, instances)
  | 'bulkDestroy' // bulkDestroy(Model, instancesOrKeys)
  | 'validate'; // instance.validate() called by the application (validate events only)

/**
 * `'instance'` when the call was made on one instance, `'model'` for static (where- or list-based) calls.
 *
 * @example
 * bulkSignals.on(Account, 'afterDelete', ({ via, oldRecords }) => log(`${via} delete of ${oldRecords.length} row(s)`));
 */
export type Via = 'instance' | 'model';

/**
 * The attribute names of a model, from Sequelize's own `Attributes<M>`.
 *
 * @example
 * const watched: AttributeName<Account>[] = ['balance', 'status'];
 * bulkSignals.on(Account, 'afterUpdate', ({ changedFields }) => changedFields.some((f) => watched.includes(f)));
 */
// A conditional type on purpose: it makes TypeScript compare signals structurally, so a receiver typed for any
// model (`(s: Signal<Model>) => …`) can be registered on a specific one.
export type AttributeName<M extends Model> = M extends Model ? Extract<keyof Attributes<M>, string> : never;

/**
 * The type of `signal.context` (and of `bulkSignals.withContext`'s value). Empty until an application declares
 * it once, by declaration merging; `signal.context` is `unknown` until then.
 *
 * @example
 * declare module 'sequelize-bulk-signals' {
 *   interface SignalContext { userId: number }
 * }
 * bulkSignals.on(Account, 'afterUpdate', ({ context }) => audit(context?.userId));
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by applications through declaration merging
export interface SignalContext {}

/**
 * `SignalContext` when an application declared one, else `unknown`: the type of `signal.context`.
 *
 * @example
 * function actor(context: ContextValue): string {
 *   return context?.userId ? `user ${context.userId}` : 'system'; // with SignalContext { userId: number } declared
 * }
 */
export type ContextValue = keyof SignalContext extends never ? unknown : SignalContext | undefined;

/**
 * What every receiver gets: one readonly object per call.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', async (signal: Signal<Account, 'afterUpdate'>) => {
 *   const rows = signal.newRecords.map((r, i) => ({ id: r.id, from: signal.oldRecords[i]!.balance, to: r.balance }));
 *   await AuditLog.bulkCreate(rows, { transaction: signal.transaction });
 * });
 */
export interface Signal<M extends Model, E extends EventName = EventName> {
  /** The event being delivered. */
  readonly event: E;
  /** The model class the operation ran on — for an ancestor's receivers (`inherit`), the ancestor: the records are its instances. */
  readonly model: ModelStatic<M>;
  /**
   * The most specific model of the rows (`inherit`): for a write on `Restaurant`, `Restaurant` — also in the
   * signals `Place`'s receivers get; for a plain `Place` write, `Place`. Without inheritance it is `model`.
   */
  readonly concreteModel: ModelStatic<Model>;
  /** Which Sequelize call produced the signal. */
  readonly operation: Operation;
  /** Whether the call was made on an instance or on the model. */
  readonly via: Via;
  /** The rows after the change (create, update); `[]` for deletes. `newRecords[i]` pairs with `oldRecords[i]`. */
  readonly newRecords: readonly M[];
  /** The rows before the change (update, delete); `[]` for creates. */
  readonly oldRecords: readonly M[];
  /**
   * update: attributes whose value differs between old and new in at least one pair (after events compare the
   * database's values); create: the attributes the new rows carry a value for; delete: `[]`.
   */
  readonly changedFields: readonly AttributeName<M>[];
  /** Delete events of a paranoid model's soft delete (only `deletedAt` was set): `true`; otherwise `false`. */
  readonly soft: boolean;
  /** The transaction the write runs in: the caller's, or one the library opened. Never null. */
  readonly transaction: Transaction;
  /** The options the caller passed to the Sequelize call. */
  readonly options: Readonly<Record<string, unknown>>;
  /** The value of the innermost `bulkSignals.withContext(value, fn)` around the write (e.g. the acting user). */
  readonly context: ContextValue;
}

/**
 * The one event map: each event name to the payload its receivers get. `on()`, dispatch and the docs derive
 * from it.
 *
 * @example
 * type AccountUpdate = BulkSignalEventMap<Account>['afterUpdate']; // Signal<Account, 'afterUpdate'>
 */
export interface BulkSignalEventMap<M extends Model> {
  /** Rows about to be inserted, first: a receiver that throws rejects them (skipped with `bypassValidation`). */
  validateCreate: Signal<M, 'validateCreate'>;
  /** Rows about to be inserted: what receivers set on `newRecords` is inserted. */
  beforeCreate: Signal<M, 'beforeCreate'>;
  /** Rows inserted, as the database returned them, inside the write's transaction. */
  afterCreate: Signal<M, 'afterCreate'>;
  /** Rows about to change (`oldRecords` locked, `newRecords` proposed), first: a receiver that throws rejects them. */
  validateUpdate: Signal<M, 'validateUpdate'>;
  /** Rows about to change: what receivers set on `newRecords` is written with the update. */
  beforeUpdate: Signal<M, 'beforeUpdate'>;
  /** Rows changed: `oldRecords[i]` as they were, `newRecords[i]` as the database wrote them. */
  afterUpdate: Signal<M, 'afterUpdate'>;
  /** Rows about to be deleted (read locked), first: a receiver that throws keeps them. */
  validateDelete: Signal<M, 'validateDelete'>;
  /** Rows about to be deleted. */
  beforeDelete: Signal<M, 'beforeDelete'>;
  /** Rows deleted (or soft-deleted: `soft`), as they were. */
  afterDelete: Signal<M, 'afterDelete'>;
}

/**
 * The nine events: `validate`, `before`, `after` × `Create`, `Update`, `Delete`.
 *
 * @example
 * const events: EventName[] = ['afterCreate', 'afterUpdate', 'afterDelete'];
 * for (const event of events) bulkSignals.on(Account, event, audit);
 */
export type EventName = keyof BulkSignalEventMap<Model>;

/**
 * The events whose receivers may ask for `onCommit` delivery.
 *
 * @example
 * const published: AfterEventName[] = ['afterCreate', 'afterUpdate'];
 * for (const event of published) bulkSignals.on(Account, event, publish, { onCommit: true });
 */
export type AfterEventName = Extract<EventName, `after${string}`>;

/**
 * A function that receives one event's payload. It may be async; it is awaited before the next one runs.
 *
 * @example
 * const audit: Receiver<Account, 'afterUpdate'> = ({ changedFields }) => console.log(changedFields);
 * bulkSignals.on(Account, 'afterUpdate', audit);
 */
export type Receiver<M extends Model, E extends EventName> = (signal: BulkSignalEventMap<M>[E]) => unknown;

/** The three operation families and their events in phase order. */
export type Family = 'Create' | 'Update' | 'Delete';
export type Phase = 'validate' | 'before' | 'after';

/**
 * Every event name, in phase order per family.
 *
 * @example
 * for (const event of EVENT_NAMES) bulkSignals.on(Account, event, (s) => log(s.event, s.operation));
 */
export const EVENT_NAMES: readonly EventName[] = Object.freeze([
  'validateCreate',
  'beforeCreate',
  'afterCreate',
  'validateUpdate',
  'beforeUpdate',
  'afterUpdate',
  'validateDelete',
  'beforeDelete',
  'afterDelete',
]);

export function eventName(phase: Phase, family: Family): EventName {
  return `${phase}${family}` as EventName;
}

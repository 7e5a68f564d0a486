import type { Model, ModelStatic, Transaction } from 'sequelize';
import { InvalidInputError } from '../errors';
import { installStateOf } from '../install-state';
import { type OperationContext } from '../dispatch';
import { eventName, type Family, type Operation, type Via } from '../events';
import { listensFor } from '../registry';
import { currentScope } from '../scope';

/**
 * Marks options this library passes back into Sequelize, so that a wrapped method reached from inside another
 * (a paranoid `destroy` calling `save`, `individualHooks` saves, Sequelize's own `validate` calls) does not
 * signal a second time. The tag is the model (covers that model's calls) or an instance (covers that one).
 */
export const INTERNAL = Symbol.for('sequelize-bulk-signals/internal@1');
/** Carries the public operation name from `Model.create` / `instance.update` down to `save`. */
export const OPERATION = Symbol.for('sequelize-bulk-signals/operation@1');
/** Row keys in the caller's order, for list operations routed through a where-based write (bulkDestroy). */
export const ORDER = Symbol.for('sequelize-bulk-signals/order@1');

export type AnyOptions = Record<string | symbol, unknown> & { transaction?: Transaction | null };

export function isInternal(options: AnyOptions | undefined, ...targets: object[]): boolean {
  const tag = options?.[INTERNAL];
  return tag !== undefined && targets.includes(tag as object);
}

/** `options` tagged as the library's own pass-through, for `target` (a model or an instance). */
export function tagged(options: AnyOptions | undefined, target: object): AnyOptions {
  return { ...options, [INTERNAL]: target };
}

/** Whether this call should produce signals: not bypassed per call or per scope, and someone listens. */
export function signalsOn(model: ModelStatic<Model>, family: Family, options: AnyOptions | undefined): boolean {
  if (options?.bypassSignals === true) return false;
  if (currentScope().bypass) return false;
  const events = [eventName('before', family), eventName('after', family)];
  if (options?.bypassValidation !== true) events.push(eventName('validate', family));
  return listensFor(model, events);
}

function clsTransaction(model: ModelStatic<Model>): Transaction | undefined {
  const cls = (model.sequelize!.constructor as unknown as { _cls?: { get(key: string): unknown } })._cls;
  return (cls?.get('transaction') as Transaction | undefined) ?? undefined;
}

/**
 * Runs `fn` in the caller's transaction (given, or Sequelize's CLS one) or, failing both, in one the library
 * opens and commits — rolled back if anything in `fn` throws, so the write and its signals stand or fall
 * together. The caller gets the original error.
 */
export async function withTransaction<T>(
  model: ModelStatic<Model>,
  options: AnyOptions | undefined,
  fn: (transaction: Transaction) => Promise<T>,
): Promise<T> {
  const given = options?.transaction ?? (options?.transaction === null ? undefined : clsTransaction(model));
  if (given) return fn(given);
  return model.sequelize!.transaction((t) => fn(t));
}

export function contextFor(
  model: ModelStatic<Model>,
  family: Family,
  operation: Operation,
  via: Via,
  transaction: Transaction,
  options: AnyOptions | undefined,
  soft = false,
): OperationContext {
  return {
    model,
    family,
    operation,
    via,
    transaction,
    // String keys only: the library's own Symbol tags stay out of receivers' sight.
    options: Object.freeze(Object.fromEntries(Object.entries(options ?? {}))),
    bypassValidation: options?.bypassValidation === true,
    soft,
  };
}

/** Whether a destroy with these options only soft-deletes (a paranoid model, not forced). */
export function isSoftDelete(model: ModelStatic<Model>, options: AnyOptions | undefined): boolean {
  return Boolean((model as unknown as { _timestampAttributes: { deletedAt?: string } })._timestampAttributes.deletedAt)
    && options?.force !== true;
}

/** The chunk size for where-based writes: the call's `chunkSize`, else the install option; none by default. */
export function chunkSizeFor(model: ModelStatic<Model>, options: AnyOptions | undefined): number | undefined {
  const size = options?.chunkSize ?? installStateOf(model.sequelize)?.options.chunkSize;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new InvalidInputError(`${model.name}: chunkSize must be a positive integer, got ${String(size)}; nothing was written`, { modelName: model.name });
  }
  return size;
}

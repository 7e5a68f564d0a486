import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { OperationContext } from './dispatch';
import type { Family, Operation, Via } from './events';
import { listeningFor, type Listening } from './listening';
import { InvalidInputError } from './errors';
import { installStateOf } from './install-state';
import { clsTransaction, internals } from './internals';
import { canonicalModel } from './data/model-info';
import { dialectFor } from './dialect';
import { currentScope, runInScope } from './scope';

/** Options as the wrappers see them: the caller's, with the library's Symbol tags. */
export type AnyOptions = Record<string | symbol, unknown> & { transaction?: Transaction | null };

/** Carries the call a Sequelize method runs for through Sequelize's pipeline to the query-interface seam. */
export const CALL = Symbol.for('sequelize-bulk-signals/call@2');

/**
 * One signalled Sequelize call (`Model.update`, `instance.save`, …): what it is, who listens, its
 * transaction. Sequelize clones options deeply; a call is shared, not copied (`clone` returns itself).
 */
const BRAND = Symbol.for('sequelize-bulk-signals/write-call@2');

export class WriteCall {
  /** A brand, not `instanceof`: a call made by one build of the library is seen by the other build's seams. */
  readonly [BRAND] = true;

  /**
   * The rows instance statements of this call wrote, by instance, as the tapped statement returned them: the
   * new version (insert, update) or the deleted row (delete).
   */
  readonly written = new Map<Model, Record<string, unknown>>();
  /** Where-based calls: at most this many rows read, signalled and written at a time. */
  chunkSize: number | undefined;
  /** Where-based calls made for a list (bulkDestroy): the rows' keys in the caller's order. */
  order: readonly string[] | undefined;
  /** The wrapped method that made the call (a second wrapper of that method for this call passes it through). */
  method: string | undefined;
  /** The class the caller called, where it is a copy of `ctx.model` (`Model.scope()`, `Model.schema()`). */
  target: ModelStatic<Model> | undefined;

  constructor(
    readonly ctx: OperationContext,
    readonly listening: Listening | undefined,
    /** `where`: Model.update/destroy/restore/increment; `list`: bulkCreate; `instance`: one instance's write. */
    readonly shape: 'where' | 'list' | 'instance',
    /** The instance of an instance call (save, destroy, restore). */
    readonly instance?: Model,
  ) {}

  get model(): ModelStatic<Model> {
    return this.ctx.model;
  }

  /** The context and listeners of this call for another family (upsert and bulkCreate conflicts create and update). */
  as(family: Family): { ctx: OperationContext; listening: Listening | undefined } {
    if (family === this.ctx.family) return { ctx: this.ctx, listening: this.listening };
    let other = this.families.get(family);
    if (!other) {
      other = { ctx: { ...this.ctx, family }, listening: listeningFor(this.ctx.model, family, this.ctx.options) };
      this.families.set(family, other);
    }
    return other;
  }
  private readonly families = new Map<Family, { ctx: OperationContext; listening: Listening | undefined }>();

  /** Whether this call is the one Sequelize runs for `model` (and, for instance calls, `instance`). */
  owns(model: ModelStatic<Model>, instance?: Model): boolean {
    return (
      canonicalModel(model) === this.ctx.model && (this.instance === undefined || instance === undefined || this.instance === instance)
    );
  }

  clone(): this {
    return this;
  }
}

/**
 * The call a Sequelize method or statement belongs to, for `model` (and `instance`): the one its options carry,
 * or the one whose Sequelize method is running around it in this async context (Sequelize copies some
 * options with string keys only, e.g. `increment`), in the same transaction. A call of another model, or of
 * another instance, is not this one's.
 */
export function callIn(options: unknown, model: ModelStatic<Model>, instance?: Model): WriteCall | undefined {
  const tagged = (options as AnyOptions | undefined)?.[CALL];
  if (isCall(tagged)) return tagged.owns(model, instance) ? tagged : undefined;
  const running = currentScope().writing;
  return isCall(running) && running.owns(model, instance) && (options as AnyOptions | undefined)?.transaction === running.ctx.transaction
    ? running
    : undefined;
}

export function isCall(value: unknown): value is WriteCall {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Runs Sequelize's own method for a call, with the call in the async scope (see `callIn`). */
export function runFor<T>(call: WriteCall, fn: () => T): T {
  return runInScope({ writing: call }, fn);
}

/** `options` without a call tag that belongs to another call (Sequelize passes its options down to nested calls). */
export function withoutForeignCall(options: AnyOptions | undefined): AnyOptions | undefined {
  if (!options || !(CALL in options)) return options;
  const { [CALL]: _dropped, ...rest } = options;
  return rest;
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
  const given = options?.transaction ?? (options?.transaction === null ? undefined : clsTransaction(model.sequelize!));
  if (given) return fn(given);
  return dialectFor(model).ownTransaction(fn, model);
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
  return Boolean(internals(model)._timestampAttributes.deletedAt) && options?.force !== true;
}

/** The chunk size for where-based writes: the call's `chunkSize`, else the install option; none by default. */
export function chunkSizeFor(model: ModelStatic<Model>, options: AnyOptions | undefined): number | undefined {
  const size = options?.chunkSize ?? installStateOf(model.sequelize)?.options.chunkSize;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new InvalidInputError(`${model.name}: chunkSize must be a positive integer, got ${JSON.stringify(size)}; nothing was written`, {
      modelName: model.name,
    });
  }
  return size;
}

/**
 * A call that signals nothing, for Sequelize methods the library runs internally (`bulkUpdate`'s validation):
 * the wrappers see it owns the instance and leave the call alone.
 */
export function silentCall(model: ModelStatic<Model>): WriteCall {
  return new WriteCall(contextFor(model, 'Update', 'bulkUpdate', 'model', undefined as never, undefined), undefined, 'list');
}

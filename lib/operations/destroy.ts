import type { Model, ModelStatic, WhereOptions } from 'sequelize';
import { canonicalModel, keyOf } from '../data/model-info';
import type { Operation } from '../events';
import { buildRecords, readLocked, rowBefore, whereKeys, type Row } from '../data/records';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { INTERNAL, OPERATION, ORDER, contextFor, tagged, isInternal, isSoftDelete, signalsOn, withTransaction, type AnyOptions } from './context';
import { destroyCascades } from './cascade';

type InstanceDestroyFn = (this: Model, options?: AnyOptions) => Promise<unknown>;
type ModelDestroyFn = (this: ModelStatic<Model>, options?: AnyOptions) => Promise<unknown>;

/** `instance.destroy()`: delete events with the instance's previous values as the old row (no query). */
export function wrapInstanceDestroy(original: InstanceDestroyFn): InstanceDestroyFn {
  return async function destroy(this: Model, options) {
    const model = canonicalModel(this.constructor as ModelStatic<Model>);
    // Always tag: a paranoid destroy saves the instance internally, and that save is not an update.
    if (isInternal(options, this, model) || !signalsOn(model, 'Delete', options)) {
      return original.call(this, { ...options, [INTERNAL]: this });
    }
    return withTransaction(model, options, async (transaction) => {
      const ctx = contextFor(model, 'Delete', 'destroy', 'instance', transaction, options, isSoftDelete(model, options));
      const old = await rowBefore(model, this, { transaction, logging: options?.logging });
      const rows = { newRecords: [], oldRecords: [old], changedFields: [] };
      if (hasBeforeReceivers(ctx)) await emitBefore(ctx, rows);
      const result = await original.call(this, { ...options, transaction, [INTERNAL]: this });
      if (hasAfterReceivers(ctx)) await emitAfter(ctx, rows);
      return result;
    });
  };
}

/**
 * `Model.destroy({ where })` and `Model.truncate()` / `destroy({ truncate: true })`: delete events for every
 * row the call removes (or soft-deletes), read once and locked. `onDelete: 'CASCADE', hooks: true`
 * associations are destroyed first through their own model, so their rows signal too (Sequelize itself
 * only does that for instance.destroy).
 */
export function wrapModelDestroy(original: ModelDestroyFn): ModelDestroyFn {
  return async function destroy(this: ModelStatic<Model>, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || !signalsOn(model, 'Delete', options)) return original.call(this, tagged(options, model));
    const truncate = options?.truncate === true;
    return withTransaction(model, options, async (transaction) => {
      const soft = isSoftDelete(model, options);
      const operation = (options?.[OPERATION] as Operation | undefined) ?? (truncate ? 'truncate' : 'destroy');
      const ctx = contextFor(model, 'Delete', operation, 'model', transaction, options, soft);
      const locked = await readLocked(this, truncate ? undefined : options?.where as WhereOptions | undefined, {
        transaction,
        // A forced destroy (and a truncate) also removes soft-deleted rows, so they are read (and signalled) too.
        paranoid: !soft ? false : (options?.paranoid as boolean | undefined),
        logging: options?.logging,
        benchmark: options?.benchmark,
      });
      const oldRows = inCallerOrder(model, locked, options?.[ORDER] as readonly string[] | undefined);
      if (oldRows.length === 0) return original.call(this, { ...options, transaction, [INTERNAL]: model });
      const rows = { newRecords: [], oldRecords: buildRecords(model, oldRows), changedFields: [] };
      if (hasBeforeReceivers(ctx)) await emitBefore(ctx, rows);
      if (!soft) await destroyCascades(model, oldRows, { ...options, transaction });
      // A truncate stays a TRUNCATE (the table is locked by then); a where-destroy targets the locked keys.
      const where = truncate ? {} : { where: whereKeys(model, oldRows) };
      const result = await original.call(this, { ...options, ...where, transaction, [INTERNAL]: model });
      if (hasAfterReceivers(ctx)) await emitAfter(ctx, rows);
      return result;
    });
  };
}

/** Rows in the order of `order` (row keys), when the caller gave a list; primary-key order otherwise. */
function inCallerOrder(model: ModelStatic<Model>, rows: Row[], order: readonly string[] | undefined): Row[] {
  if (!order) return rows;
  const rank = new Map(order.map((key, i) => [key, i]));
  return [...rows].sort((a, b) => (rank.get(keyOf(model, a)) ?? 0) - (rank.get(keyOf(model, b)) ?? 0));
}

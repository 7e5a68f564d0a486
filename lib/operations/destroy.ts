import type { Model, ModelStatic, WhereOptions } from 'sequelize';
import { canonicalModel, comparePrimaryKeys, keyOf } from '../data/model-info';
import type { Operation } from '../events';
import { buildRecords, forEachLockedChunk, readLocked, rowBefore, whereKeys, type Row } from '../data/records';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { INTERNAL, OPERATION, ORDER, chunkSizeFor, contextFor, tagged, isInternal, isSoftDelete, signalsOn, withTransaction, type AnyOptions } from './context';
import { destroyCascades, hasCascades } from './cascade';
import { deleteReturningOld, inPrimaryKeyLockOrder, splitOldNew } from '../data/returning-old';

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
      const readOptions = {
        transaction,
        // A forced destroy (and a truncate) also removes soft-deleted rows, so they are read (and signalled) too.
        paranoid: !soft ? false : (options?.paranoid as boolean | undefined),
        logging: options?.logging,
        benchmark: options?.benchmark,
      };
      const where = truncate ? undefined : options?.where as WhereOptions | undefined;
      const order = options?.[ORDER] as readonly string[] | undefined;
      const destroyRows = async (oldRows: Row[], keys: { where?: WhereOptions }) => {
        const rows = { newRecords: [], oldRecords: buildRecords(model, oldRows), changedFields: [] };
        if (hasBeforeReceivers(ctx)) await emitBefore(ctx, rows);
        if (!soft) await destroyCascades(model, oldRows, { ...options, transaction });
        const result = await original.call(this, { ...options, ...keys, transaction, [INTERNAL]: model });
        if (hasAfterReceivers(ctx)) await emitAfter(ctx, rows);
        return result;
      };
      const chunkSize = truncate || order ? undefined : chunkSizeFor(model, options);
      if (chunkSize === undefined && !truncate && !soft && !order && !hasBeforeReceivers(ctx) && !hasCascades(model)) {
        // After receivers only: DELETE … RETURNING hands back the deleted rows, locked in primary-key order first.
        const returned = await original.call(this, {
          ...options, where: inPrimaryKeyLockOrder(model, where), transaction, ...deleteReturningOld(model), [INTERNAL]: model,
        }) as Row[];
        const oldRows = splitOldNew(model, returned).old.sort((a, b) => comparePrimaryKeys(model, a, b));
        if (oldRows.length > 0 && hasAfterReceivers(ctx)) {
          await emitAfter(ctx, { newRecords: [], oldRecords: buildRecords(model, oldRows), changedFields: [] });
        }
        return oldRows.length;
      }
      if (chunkSize === undefined) {
        const oldRows = inCallerOrder(model, await readLocked(this, where, readOptions), order);
        if (oldRows.length === 0) return original.call(this, { ...options, transaction, [INTERNAL]: model });
        // A truncate stays a TRUNCATE (the table is locked by then); a where-destroy targets the locked keys.
        return destroyRows(oldRows, truncate ? {} : { where: whereKeys(model, oldRows) });
      }
      // Bounded memory: chunkSize rows at a time, each chunk its own dispatch.
      let deleted = 0;
      await forEachLockedChunk(this, where, chunkSize, readOptions, async (chunk) => {
        deleted += Number(await destroyRows(chunk, { where: whereKeys(model, chunk) }));
      });
      return deleted;
    });
  };
}

/** Rows in the order of `order` (row keys), when the caller gave a list; primary-key order otherwise. */
function inCallerOrder(model: ModelStatic<Model>, rows: Row[], order: readonly string[] | undefined): Row[] {
  if (!order) return rows;
  const rank = new Map(order.map((key, i) => [key, i]));
  return [...rows].sort((a, b) => (rank.get(keyOf(model, a)) ?? 0) - (rank.get(keyOf(model, b)) ?? 0));
}

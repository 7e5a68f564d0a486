import type { Model, ModelStatic, WhereOptions } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import { canonicalModel } from '../data/model-info';
import { buildRecords, previousRecord, readLocked, whereKeys } from '../data/records';
import { emitAfter, emitBefore, hasBeforeReceivers, hasAfterReceivers } from '../dispatch';
import { INTERNAL, contextFor, isInternal, signalsOn, withTransaction, type AnyOptions } from './context';

type InstanceDestroyFn = (this: Model, options?: AnyOptions) => Promise<unknown>;
type ModelDestroyFn = (this: ModelStatic<Model>, options?: AnyOptions) => Promise<unknown>;

/** `instance.destroy()`: delete events with the instance's previous values as the old row (no query). */
export function wrapInstanceDestroy(original: InstanceDestroyFn): InstanceDestroyFn {
  return async function destroy(this: Model, options) {
    const model = canonicalModel(this.constructor as ModelStatic<Model>);
    // Always tag: a paranoid destroy saves the instance internally, and that save is not an update.
    if (isInternal(options, this) || !signalsOn(model, 'Delete', options)) {
      return original.call(this, { ...options, [INTERNAL]: this });
    }
    return withTransaction(model, options, async (transaction) => {
      const ctx = contextFor(model, 'Delete', 'destroy', 'instance', transaction, options);
      const rows = { newRecords: [], oldRecords: [previousRecord(model, this)], changedFields: [] };
      if (hasBeforeReceivers(ctx)) await emitBefore(ctx, rows);
      const result = await original.call(this, { ...options, transaction, [INTERNAL]: this });
      if (hasAfterReceivers(ctx)) await emitAfter(ctx, rows);
      return result;
    });
  };
}

/** `Model.destroy({ where })`: delete events for every matched row, read once and locked. */
export function wrapModelDestroy(original: ModelDestroyFn): ModelDestroyFn {
  return async function destroy(this: ModelStatic<Model>, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || !signalsOn(model, 'Delete', options)) return original.call(this, options);
    if (options?.truncate) {
      throw new UnsupportedOperationError(
        `${model.name}.destroy({ truncate: true }) cannot be signalled yet; nothing was written. `
          + 'Pass bypassSignals: true to truncate without signals.',
        { modelName: model.name, event: 'beforeDelete' },
      );
    }
    return withTransaction(model, options, async (transaction) => {
      const ctx = contextFor(model, 'Delete', 'destroy', 'model', transaction, options);
      const oldRows = await readLocked(this, options?.where as WhereOptions | undefined, {
        transaction,
        // A forced destroy also removes soft-deleted rows, so they must be read (and signalled) too.
        paranoid: options?.force === true ? false : (options?.paranoid as boolean | undefined),
        logging: options?.logging,
        benchmark: options?.benchmark,
      });
      if (oldRows.length === 0) return original.call(this, { ...options, transaction, [INTERNAL]: true });
      const rows = { newRecords: [], oldRecords: buildRecords(model, oldRows), changedFields: [] };
      if (hasBeforeReceivers(ctx)) await emitBefore(ctx, rows);
      const result = await original.call(this, { ...options, where: whereKeys(model, oldRows), transaction, [INTERNAL]: true });
      if (hasAfterReceivers(ctx)) await emitAfter(ctx, rows);
      return result;
    });
  };
}

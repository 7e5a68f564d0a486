import type { Model, ModelStatic } from 'sequelize';
import { editedAttributes, presentIn } from '../data/diff';
import { UnsupportedOperationError } from '../errors';
import { canonicalModel, isModelClass, repairReturnedKeys, storedAttributes } from '../data/model-info';
import { listensFor } from '../registry';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { bulkCreateWithConflicts } from './bulk-create-conflicts';
import { prebuilt } from './prebuilt';
import { INTERNAL, contextFor, tagged, isInternal, signalsOn, withTransaction, type AnyOptions } from './context';

export type BulkCreateFn = (this: ModelStatic<Model>, records: readonly unknown[], options?: AnyOptions) => Promise<Model[]>;

/** `Model.bulkCreate(records)`: one create dispatch for all records, in the caller's order. */
export function wrapBulkCreate(original: BulkCreateFn): BulkCreateFn {
  return async function bulkCreate(this: ModelStatic<Model>, records, options) {
    const model = canonicalModel(this);
    const conflicts = Boolean(options?.updateOnDuplicate || options?.ignoreDuplicates);
    if (isInternal(options, model) || !Array.isArray(records) || records.length === 0
      || !(signalsOn(model, 'Create', options) || (conflicts && signalsOn(model, 'Update', options)))) {
      return original.call(this, records, tagged(options, model));
    }
    refuseDarkIncludes(model, options?.include);
    if (conflicts) return bulkCreateWithConflicts(this, original, records, options ?? {});
    return withTransaction(model, options, async (transaction) => {
      const ctx = contextFor(model, 'Create', 'bulkCreate', 'model', transaction, options);
      const attributes = storedAttributes(model);
      const instances = records.map((values) => this.build(values as never, {
        isNewRecord: true,
        ...(options?.include ? { include: options.include as never } : {}),
      }));
      let fields = Array.isArray(options?.fields) ? (options.fields as string[]) : undefined;
      if (hasBeforeReceivers(ctx)) {
        const before = fields ? instances.map((i) => ({ ...i.dataValues })) : [];
        await emitBefore(ctx, { newRecords: instances, oldRecords: [], changedFields: presentIn(instances, attributes) });
        // With explicit fields Sequelize inserts only those: add what receivers set.
        if (fields) fields = [...new Set([...fields, ...editedAttributes(instances, before, attributes)])];
      }
      const created = await original.call(prebuilt(this, instances), instances, {
        ...options, ...(fields ? { fields } : {}), transaction, [INTERNAL]: model,
      });
      for (const instance of created) repairReturnedKeys(model, instance);
      if (hasAfterReceivers(ctx)) {
        await emitAfter(ctx, { newRecords: created, oldRecords: [], changedFields: presentIn(created, attributes) });
      }
      return created;
    });
  };
}

type IncludeItem = { model?: unknown; association?: { target?: unknown }; include?: unknown };

/**
 * Sequelize inserts `include`d rows of a bulkCreate through its internal helper, not through the models'
 * methods, so those rows cannot be signalled. Refuse before writing when someone listens for them.
 */
function refuseDarkIncludes(model: ModelStatic<Model>, include: unknown): void {
  for (const item of (Array.isArray(include) ? include : include ? [include] : []) as IncludeItem[]) {
    const target = isModelClass(item) ? item : (item.model ?? item.association?.target);
    if (isModelClass(target) && listensFor(target, ['validateCreate', 'beforeCreate', 'afterCreate'])) {
      throw new UnsupportedOperationError(
        `${model.name}.bulkCreate with include: the included ${target.name} rows cannot be signalled (Sequelize inserts `
          + `them internally); nothing was written. Create them with ${target.name}.bulkCreate, or pass bypassSignals: true.`,
        { modelName: target.name, event: 'beforeCreate' },
      );
    }
    if (!isModelClass(item)) refuseDarkIncludes(model, item.include);
  }
}

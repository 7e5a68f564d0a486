import type { Model, ModelStatic } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import { editedAttributes, presentIn } from '../data/diff';
import { canonicalModel, internals, storedAttributes } from '../data/model-info';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { INTERNAL, contextFor, isInternal, signalsOn, withTransaction, type AnyOptions } from './context';

type BulkCreateFn = (this: ModelStatic<Model>, records: readonly unknown[], options?: AnyOptions) => Promise<Model[]>;

/**
 * A one-call subclass whose `build` hands Sequelize the instances receivers already saw (and may have
 * edited), so bulkCreate inserts exactly those — without running attribute setters a second time.
 */
function prebuilt(model: ModelStatic<Model>, instances: readonly Model[]): ModelStatic<Model> {
  const known = new Set<unknown>(instances);
  const Prebuilt = class extends (model as unknown as new (...args: never[]) => Model) {} as unknown as ModelStatic<Model>;
  Object.defineProperty(Prebuilt, 'name', { value: model.name });
  Object.defineProperty(Prebuilt, 'build', {
    value(this: ModelStatic<Model>, values: unknown, options: unknown) {
      return known.has(values) ? values : model.build.call(this, values as never, options as never);
    },
  });
  return Prebuilt;
}

/** `Model.bulkCreate(records)`: one create dispatch for all records, in the caller's order. */
export function wrapBulkCreate(original: BulkCreateFn): BulkCreateFn {
  return async function bulkCreate(this: ModelStatic<Model>, records, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || !Array.isArray(records) || records.length === 0
      || !signalsOn(model, 'Create', options)) {
      return original.call(this, records, options);
    }
    if (options?.updateOnDuplicate || options?.ignoreDuplicates) {
      throw new UnsupportedOperationError(
        `${model.name}.bulkCreate with ${options.updateOnDuplicate ? 'updateOnDuplicate' : 'ignoreDuplicates'} cannot be `
          + 'signalled yet; nothing was written. Pass bypassSignals: true to write without signals '
          + '(inserted and conflicting rows are not told apart yet).',
        { modelName: model.name, event: 'beforeCreate' },
      );
    }
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
        ...options, ...(fields ? { fields } : {}), transaction, [INTERNAL]: true,
      });
      if (hasAfterReceivers(ctx)) {
        await emitAfter(ctx, { newRecords: created, oldRecords: [], changedFields: presentIn(created, attributes) });
      }
      return created;
    });
  };
}

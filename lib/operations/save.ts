import type { Model, ModelStatic } from 'sequelize';
import { changedBetween, editedAttributes, presentIn } from '../data/diff';
import { canonicalModel, repairReturnedKeys, storedAttributes } from '../data/model-info';
import { rowBefore } from '../data/records';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import type { Operation } from '../events';
import { INTERNAL, OPERATION, contextFor, isInternal, signalsOn, tagged, withTransaction, type AnyOptions } from './context';

type SaveFn = (this: Model, options?: AnyOptions) => Promise<Model>;
type CreateFn = (this: ModelStatic<Model>, values: unknown, options?: AnyOptions) => Promise<Model>;
type InstanceUpdateFn = (this: Model, values: unknown, options?: AnyOptions) => Promise<Model>;

/**
 * `instance.save()` — and through it `Model.create` and `instance.update()`: create events for a new row,
 * update events for an existing one (old values from the instance's previous values, no query unless the
 * instance lacks attributes — see `rowBefore`). Nothing
 * changed means no write and no signal.
 */
export function wrapSave(original: SaveFn): SaveFn {
  return async function save(this: Model, options?: AnyOptions) {
    const model = canonicalModel(this.constructor as ModelStatic<Model>);
    if (isInternal(options, this, model)) return original.call(this, options);
    const isNew = this.isNewRecord;
    const family = isNew ? 'Create' : 'Update';
    if (!signalsOn(model, family, options)) return original.call(this, tagged(options, this));
    if (!isNew && !this.changed()) return original.call(this, tagged(options, this));

    const operation = (options?.[OPERATION] as Operation | undefined) ?? 'save';
    return withTransaction(model, options, async (transaction) => {
      const ctx = contextFor(model, family, operation, 'instance', transaction, options);
      const attributes = storedAttributes(model);
      const old = isNew ? undefined : await rowBefore(model, this, { transaction, logging: options?.logging });
      const oldRecords = old ? [old] : [];
      const explicitFields = Array.isArray(options?.fields) ? (options.fields as string[]) : undefined;
      let fields = explicitFields;

      if (hasBeforeReceivers(ctx)) {
        const before = { ...this.dataValues };
        await emitBefore(ctx, {
          newRecords: [this],
          oldRecords,
          changedFields: old ? changedBetween(oldRecords, [this], attributes) : presentIn([this], attributes),
        });
        // Sequelize writes receiver edits by itself unless the caller named the fields; then add them.
        if (explicitFields) {
          fields = [...new Set([...explicitFields, ...editedAttributes([this], [before], attributes)])];
        }
        if (!isNew && !this.changed()) return original.call(this, { ...options, transaction, [INTERNAL]: this });
      }

      const result = await original.call(this, {
        ...options,
        ...(fields ? { fields } : {}),
        transaction,
        [INTERNAL]: this,
      });
      if (isNew) repairReturnedKeys(model, this);
      if (hasAfterReceivers(ctx)) {
        await emitAfter(ctx, {
          newRecords: [this],
          oldRecords,
          changedFields: old ? changedBetween(oldRecords, [this], attributes) : presentIn([this], attributes),
        });
      }
      return result;
    });
  };
}

/** `Model.create`: tags the call so `save` reports `operation: 'create'`. */
export function wrapCreate(original: CreateFn): CreateFn {
  return function create(this: ModelStatic<Model>, values, options) {
    return original.call(this, values, { ...options, [OPERATION]: 'create' });
  };
}

/** `instance.update(values)`: tags the call so `save` reports `operation: 'update'`. */
export function wrapInstanceUpdate(original: InstanceUpdateFn): InstanceUpdateFn {
  return function update(this: Model, values, options) {
    return original.call(this, values, { ...options, [OPERATION]: 'update' });
  };
}

type InstanceRestoreFn = (this: Model, options?: AnyOptions) => Promise<unknown>;

/** `instance.restore()`: Sequelize saves `deletedAt = null`; tagged so `save` reports `operation: 'restore'`. */
export function wrapInstanceRestore(original: InstanceRestoreFn): InstanceRestoreFn {
  return function restore(this: Model, options) {
    return original.call(this, { ...options, [OPERATION]: 'restore' });
  };
}

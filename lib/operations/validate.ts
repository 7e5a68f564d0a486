import type { Model, ModelStatic } from 'sequelize';
import { changedBetween, presentIn } from '../data/diff';
import { canonicalModel, storedAttributes } from '../data/model-info';
import { rowBefore } from '../data/records';
import { emit } from '../dispatch';
import { eventName } from '../events';
import { listensFor } from '../registry';
import { currentScope } from '../scope';
import { OPERATION, contextFor, isInternal, withTransaction, type AnyOptions } from './context';
import type { Operation } from '../events';

type ValidateFn = (this: Model, options?: AnyOptions) => Promise<unknown>;

/**
 * `instance.validate()` called by the application: validateCreate (new instance) or validateUpdate receivers
 * run for that instance, then Sequelize's own validators. Sequelize's internal validate calls (inside save,
 * bulkCreate, update, upsert) carry the library's tag and are left alone — those paths run the validate
 * events themselves, once.
 */
export function wrapValidate(original: ValidateFn): ValidateFn {
  return async function validate(this: Model, options) {
    const model = canonicalModel(this.constructor as ModelStatic<Model>);
    const family = this.isNewRecord ? 'Create' : 'Update';
    const event = eventName('validate', family);
    if (isInternal(options, this, model) || options?.bypassSignals === true || options?.bypassValidation === true
      || currentScope().bypass || !listensFor(model, [event])) {
      return original.call(this, options);
    }
    await withTransaction(model, options, async (transaction) => {
      const operation = (options?.[OPERATION] as Operation | undefined) ?? 'validate';
      const ctx = contextFor(model, family, operation, 'instance', transaction, options);
      const attributes = storedAttributes(model);
      const old = this.isNewRecord ? undefined : await rowBefore(model, this, { transaction, logging: options?.logging });
      const oldRecords = old ? [old] : [];
      await emit(ctx, event, {
        newRecords: [this],
        oldRecords,
        changedFields: old ? changedBetween(oldRecords, [this], attributes) : presentIn([this], attributes),
      });
    });
    return original.call(this, options);
  };
}

import type { Model, ModelStatic } from 'sequelize';
import { callIn, contextFor, withTransaction, type AnyOptions } from '../call';
import { emit, rowsOf } from '../dispatch';
import { eventName, type EventName, type Operation } from '../events';
import { listensInHierarchy } from '../listening';
import { currentScope } from '../scope';
import { buildRecords, currentValues } from '../data/records';
import { oldRowOf } from './row-write';
import { OPERATION } from './save';
import { modelOf, type Original } from './method';

/** Whether an application's own validate() call has receivers to run: not bypassed and somebody listens. */
function validating(model: ModelStatic<Model>, event: EventName, options: AnyOptions | undefined): boolean {
  if (options?.bypassSignals === true || options?.bypassValidation === true || currentScope().bypass) return false;
  return listensInHierarchy(model, [event]);
}

/**
 * `instance.validate()` called by the application: validateCreate (new instance) or validateUpdate receivers
 * run for that instance, then Sequelize's own validators. Sequelize's internal validate calls (inside save,
 * bulkCreate, update, upsert) belong to the library's call for that write, which runs the validate events
 * itself, once.
 */
export function wrapValidate(original: Original): Original {
  return async function validate(this: unknown, ...args: unknown[]) {
    const instance = this as Model;
    const model = modelOf(instance);
    if (!model) return original.apply(this, args);
    const options = args[0] as AnyOptions | undefined;
    const family = instance.isNewRecord ? 'Create' : 'Update';
    const event = eventName('validate', family);
    if (callIn(options, model, instance) || !validating(model, event, options)) return original.apply(this, args);
    await withTransaction(model, options, async (transaction) => {
      const operation = (options?.[OPERATION] as Operation | undefined) ?? 'validate';
      const ctx = contextFor(model, family, operation, 'instance', transaction, options);
      const old = instance.isNewRecord
        ? []
        : buildRecords(model, [await oldRowOf(instance, { transaction, logging: options?.logging })], true);
      const proposed = buildRecords(model, [currentValues(model, instance)], true);
      await emit(ctx, event, rowsOf(ctx, old, proposed));
    });
    return original.apply(this, args);
  };
}

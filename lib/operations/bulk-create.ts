import type { Model, ModelStatic } from 'sequelize';
import { CALL, WriteCall, contextFor, runFor, withTransaction, type AnyOptions } from '../call';
import { internals, isModelClass } from '../data/model-info';
import { listeningFor } from '../listening';
import { finishRowBatches } from './row-batch';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';

/**
 * `Model.bulkCreate(records)`: one create dispatch for all records, in the caller's order. Sequelize builds,
 * hooks and validates the instances as always; the query-interface seam signals the INSERT it sends (and,
 * with `include`, the included models' and through rows' INSERTs); with `individualHooks` the per-row saves
 * join one batch.
 */
export function wrapBulkCreate(original: Original): Original {
  return async function bulkCreate(this: unknown, ...args: unknown[]) {
    const model = modelOf(this);
    const [records, options] = args as [unknown, AnyOptions | undefined];
    if (!model || !Array.isArray(records) || records.length === 0 || reentered(args, 1, 'bulkCreate', model)) return original.apply(this, args);
    warnOutsideTransaction(model, 'bulkCreate', options);
    const conflicts = Boolean(options?.updateOnDuplicate || options?.ignoreDuplicates);
    const listening = listeningFor(model, 'Create', options) ?? (conflicts ? listeningFor(model, 'Update', options) : undefined);
    if (!listening && !includedListens(model, options?.include, options)) return original.apply(this, ownArgs(args, 1, model));
    return withTransaction(model, options, async (transaction) => {
      const call = new WriteCall(contextFor(model, 'Create', 'bulkCreate', 'model', transaction, options), listening, 'list');
      call.method = 'bulkCreate';
      const result = await runFor(call, () => original.call(this, records, { ...options, transaction, [CALL]: call }));
      await finishRowBatches(call);
      return result;
    });
  };
}

type IncludeItem = string | ModelStatic<Model> | { model?: unknown; association?: unknown; as?: string; include?: unknown };

/** Whether a model `include`d in a bulkCreate (at any depth, through models too) listens for creates. */
function includedListens(model: ModelStatic<Model>, include: unknown, options: AnyOptions | undefined): boolean {
  const items = (Array.isArray(include) ? include : include ? [include] : []) as IncludeItem[];
  const associations = internals(model).associations ?? {};
  for (const item of items) {
    const name = typeof item === 'string' ? item : isModelClass(item) ? undefined : typeof item.association === 'string' ? item.association : item.as;
    const association = name ? associations[name] : Object.values(associations).find((a) => a.target === (isModelClass(item) ? item : (item as { model?: unknown }).model)
      || a === (item as { association?: unknown }).association);
    const target = association?.target ?? (isModelClass(item) ? item : (item as { model?: unknown }).model as ModelStatic<Model> | undefined);
    if (!target) continue;
    if (listeningFor(target, 'Create', options)) return true;
    if (association?.through && listeningFor(association.through.model, 'Create', options)) return true;
    if (typeof item === 'object' && !isModelClass(item) && includedListens(target, item.include, options)) return true;
  }
  return false;
}

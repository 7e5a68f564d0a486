import type { Model, ModelStatic } from 'sequelize';
import { CALL, WriteCall, contextFor, runFor, withTransaction, type AnyOptions } from '../call';
import { internals, isModelClass } from '../data/model-info';
import type { AssociationInternals } from '../internals';
import { listeningFor, type Listening } from '../listening';
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
    if (!model || !Array.isArray(records) || records.length === 0 || reentered(args, 1, 'bulkCreate', model)) {
      return original.apply(this, args);
    }
    warnOutsideTransaction(model, 'bulkCreate', options);
    const listening = listeningOf(model, options);
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

/** Create receivers, or with conflict options update receivers too. */
function listeningOf(model: ModelStatic<Model>, options: AnyOptions | undefined): Listening | undefined {
  const conflicts = Boolean(options?.updateOnDuplicate || options?.ignoreDuplicates);
  return listeningFor(model, 'Create', options) ?? (conflicts ? listeningFor(model, 'Update', options) : undefined);
}

type IncludeItem = string | ModelStatic<Model> | { model?: unknown; association?: unknown; as?: string; include?: unknown };
type Included = { target: ModelStatic<Model>; through: ModelStatic<Model> | undefined; include: unknown };

/** The association an `include` item names: by name (`'Books'`, `{ as }`, `{ association: 'Books' }`) or by model. */
function associationOf(model: ModelStatic<Model>, item: IncludeItem): AssociationInternals | undefined {
  const byName = internals(model).associations ?? {};
  if (typeof item === 'string') return byName[item];
  if (isModelClass(item)) return Object.values(byName).find((a) => a.target === item);
  const name = typeof item.association === 'string' ? item.association : item.as;
  if (name !== undefined) return byName[name];
  return Object.values(byName).find((a) => a === item.association || a.target === item.model);
}

/** What one `include` item names: the included model, its through model, its own includes. */
function included(model: ModelStatic<Model>, item: IncludeItem): Included | undefined {
  const association = associationOf(model, item);
  const own = typeof item === 'object' && !isModelClass(item) ? item : undefined;
  const target = association?.target ?? modelNamed(item);
  return target && { target, through: association?.through?.model, include: own?.include };
}

/** The model an `include` item names without an association: the class itself or `{ model }`. */
function modelNamed(item: IncludeItem): ModelStatic<Model> | undefined {
  if (isModelClass(item)) return item;
  return typeof item === 'object' && isModelClass(item.model) ? item.model : undefined;
}

/** Whether a model `include`d in a bulkCreate (at any depth, through models too) listens for creates. */
function includedListens(model: ModelStatic<Model>, include: unknown, options: AnyOptions | undefined): boolean {
  const items = (Array.isArray(include) ? include : include ? [include] : []) as IncludeItem[];
  return items.some((item) => {
    const found = included(model, item);
    if (!found) return false;
    if (listeningFor(found.target, 'Create', options)) return true;
    if (found.through && listeningFor(found.through, 'Create', options)) return true;
    return includedListens(found.target, found.include, options);
  });
}

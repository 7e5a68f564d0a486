import type { Attributes, Model, ModelStatic, Transaction } from 'sequelize';
import { Op } from 'sequelize';
import { InvalidInputError } from './errors';
import { valuesOf } from './internals';
import { canonicalModel, internals, isModelClass, keyOf } from './data/model-info';
import type { Row } from './data/records';
import { ORDER } from './operations/destroy';
import { OPERATION } from './operations/save';
import type { SignalCallOptions } from './options';

/**
 * Options of {@link bulkDestroy}.
 *
 * @example
 * await bulkDestroy(Ledger, [4, 5], { force: true, transaction });
 */
export interface BulkDestroyOptions extends SignalCallOptions {
  /** The transaction to delete in; without one (and no CLS transaction) the library opens one. */
  transaction?: Transaction | null;
  /** Paranoid models: delete for real instead of setting `deletedAt`. */
  force?: boolean;
  /** Sequelize's `logging` for the statements sent. */
  logging?: boolean | ((sql: string, timing?: number) => void);
}

function fail(model: ModelStatic<Model> | undefined, message: string): never {
  throw new InvalidInputError(`bulkDestroy(${model?.name ?? '?'}): ${message}; nothing was written`, {
    ...(model ? { modelName: model.name } : {}),
    event: 'beforeDelete',
  });
}

/** The primary key of one item: an instance, a key value (single-column keys) or an object of key values. */
function keyRowOf(model: ModelStatic<Model>, item: unknown, index: number): Row {
  const pks = internals(model).primaryKeyAttributes;
  const values = valuesOfItem(model, item, index);
  if (pks.some((pk) => values[pk] == null)) fail(model, `item ${index} has no value for the primary key (${pks.join(', ')})`);
  return Object.fromEntries(pks.map((pk) => [pk, values[pk]]));
}

function isKeyObject(item: unknown): item is Row {
  return item !== null && typeof item === 'object' && !(item instanceof Date) && !Buffer.isBuffer(item);
}

/** The values an item carries: an instance's, an object of key values, or a single key value. */
function valuesOfItem(model: ModelStatic<Model>, item: unknown, index: number): Row {
  const ctor = (item as { constructor?: unknown } | null)?.constructor;
  if (isModelClass(ctor)) {
    if (canonicalModel(ctor) !== canonicalModel(model)) fail(model, `item ${index} is a ${ctor.name}, not a ${model.name}`);
    if ((item as Model).isNewRecord) fail(model, `item ${index} is not saved yet (isNewRecord)`);
    return valuesOf(item as Model);
  }
  if (isKeyObject(item)) return item;
  const pks = internals(model).primaryKeyAttributes;
  if (pks.length !== 1)
    fail(model, `item ${index} is a single value, but ${model.name}'s primary key has ${pks.length} columns; pass objects`);
  return { [pks[0]!]: item };
}

/**
 * Deletes the rows of these instances or primary keys in one statement (soft for paranoid models unless
 * `force`), with delete events carrying the rows as they were (read once, locked) in the caller's order.
 * Resolves to the number of rows deleted. Duplicates are deleted once.
 *
 * @example
 * await bulkDestroy(Account, [3, 1, 2]);
 * await bulkDestroy(Membership, [{ groupId: 1, userId: 2 }]);
 */
export async function bulkDestroy<M extends Model>(
  model: ModelStatic<M>,
  items: readonly (M | Partial<Attributes<M>> | string | number | bigint)[],
  options: BulkDestroyOptions = {},
): Promise<number> {
  if (!isModelClass(model)) fail(undefined, `expected a model class as the first argument, got ${typeof model}`);
  if (!Array.isArray(items)) fail(model, `expected an array of instances or primary keys, got ${typeof items}`);
  if (internals(model).primaryKeyAttributes.length === 0) fail(model, `${model.name} has no primary key`);
  const keyed = new Map<string, Row>();
  items.forEach((item, i) => {
    const row = keyRowOf(model, item, i);
    const key = keyOf(model, row);
    if (!keyed.has(key)) keyed.set(key, row);
  });
  if (keyed.size === 0) return 0;
  const result = await model.destroy({
    ...options,
    where: whereKeys(model as ModelStatic<Model>, [...keyed.values()]),
    [OPERATION]: 'bulkDestroy',
    [ORDER]: [...keyed.keys()],
  } as never);
  return Array.isArray(result) ? result.length : Number(result);
}

/** A where clause matching exactly these rows by primary key. */
function whereKeys(model: ModelStatic<Model>, rows: readonly Row[]): Record<string | symbol, unknown> {
  const pks = internals(model).primaryKeyAttributes;
  if (pks.length === 1) return { [pks[0]!]: { [Op.in]: rows.map((r) => r[pks[0]!]) } };
  return { [Op.or]: rows.map((r) => Object.fromEntries(pks.map((pk) => [pk, r[pk]]))) };
}

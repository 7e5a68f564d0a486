import type { Model, ModelStatic, Transaction } from 'sequelize';
import { InvalidInputError } from './errors';
import { instanceInternals, valuesOf } from './internals';
import { CALL, WriteCall, contextFor, silentCall, withTransaction, type AnyOptions } from './call';
import { DescendantSignals } from './inheritance/descendants';
import { copyValues, editedAttributes } from './data/diff';
import { readLocked } from './data/locked-read';
import { canonicalModel, internals, isModelClass, keyOf, storedAttributes } from './data/model-info';
import { buildRecords, type Row } from './data/records';
import { generatorFor, identityInSql } from './data/sql';
import { updateRowsFromValues, type RowWrite } from './data/update-from-values';
import { emitAfter, emitBefore, rowsOf } from './dispatch';
import type { AttributeName } from './events';
import { listeningFor } from './listening';
import type { SignalCallOptions } from './options';

/**
 * Options of {@link bulkUpdate}.
 *
 * @example
 * await bulkUpdate(Account, accounts, { fields: ['balance'], batchSize: 500, transaction });
 */
export interface BulkUpdateOptions<M extends Model> extends SignalCallOptions {
  /** The attributes to write on every row. Default: each row's own `changed()` attributes. */
  fields?: readonly AttributeName<M>[];
  /** Rows per UPDATE statement. Default 1000. */
  batchSize?: number;
  /** Run in this transaction (else the library opens one when receivers listen or there is more than one batch). */
  transaction?: Transaction | null;
  /** Do not stamp `updatedAt`. */
  silent?: boolean;
  /** Run the model's attribute validators on the written fields first (Sequelize hooks are not run). Default true. */
  validate?: boolean;
  /** Sequelize's `logging` for the statements. */
  logging?: boolean | ((sql: string, timing?: number) => void);
}

const DEFAULT_BATCH = 1000;

function fail(model: ModelStatic<Model> | undefined, message: string): never {
  throw new InvalidInputError(`bulkUpdate(${model?.name ?? '?'}): ${message}; nothing was written`, {
    ...(model ? { modelName: model.name } : {}),
    event: 'beforeUpdate',
  });
}

interface Pending {
  readonly instance: Model;
  fields: string[];
}

/** Checks the input and works out, per instance, which attributes to write. */
function plan<M extends Model>(model: ModelStatic<M>, instances: readonly M[], options: BulkUpdateOptions<M>): Pending[] {
  if (!Array.isArray(instances)) fail(model, `expected an array of ${model.name} instances, got ${typeof instances}`);
  checkOptions(model, options);
  const seen = new Map<string, number>();
  const pending: Pending[] = [];
  instances.forEach((instance: Model, i) => {
    checkInstance(model, instance, i, seen);
    const fields = fieldsOf(model, instance, i, options);
    if (fields.length > 0) pending.push({ instance, fields });
  });
  return pending;
}

function checkOptions<M extends Model>(model: ModelStatic<M>, options: BulkUpdateOptions<M>): void {
  const attributes = new Set(storedAttributes(model));
  const pks = internals(model).primaryKeyAttributes;
  if (pks.length === 0) fail(model, `${model.name} has no primary key`);
  for (const f of options.fields ?? []) {
    if (!attributes.has(f)) fail(model, `'${String(f)}' is not an attribute of ${model.name}`);
    if (pks.includes(f)) fail(model, `'${String(f)}' is the primary key; bulkUpdate finds rows by it and cannot change it`);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) fail(model, `batchSize must be a positive integer, got ${String(batchSize)}`);
}

/** A saved instance of the model, with a primary key no earlier item has. */
function checkInstance(model: ModelStatic<Model>, instance: Model, i: number, seen: Map<string, number>): void {
  const ctor = (instance as { constructor?: unknown } | null)?.constructor;
  if (!isModelClass(ctor) || canonicalModel(ctor) !== canonicalModel(model)) {
    fail(model, `item ${i} is not a ${model.name} instance (got ${isModelClass(ctor) ? `a ${ctor.name}` : typeof instance})`);
  }
  if (instance.isNewRecord) fail(model, `item ${i} is not saved yet (isNewRecord); create it first`);
  if (internals(model).primaryKeyAttributes.some((pk) => valuesOf(instance)[pk] == null)) fail(model, `item ${i} has no primary key value`);
  const key = keyOf(model, valuesOf(instance));
  if (seen.has(key)) fail(model, `items ${seen.get(key)} and ${i} have the same primary key (${key})`);
  seen.set(key, i);
}

/** The attributes to write for one instance: `fields`, else its own changed ones. */
function fieldsOf<M extends Model>(model: ModelStatic<M>, instance: Model, i: number, options: BulkUpdateOptions<M>): string[] {
  if (options.fields) return [...options.fields] as string[];
  const changed: string[] = instance.changed() || [];
  const pks = internals(model).primaryKeyAttributes;
  if (changed.some((a) => pks.includes(a)))
    fail(model, `item ${i} changes its primary key; bulkUpdate finds rows by it and cannot change it`);
  const attributes = new Set(storedAttributes(model));
  return changed.filter((a) => attributes.has(a));
}

/** After a write: the instance holds the database's row and reports no changes. */
function settle(instance: Model, row: Row): void {
  Object.assign(valuesOf(instance), row);
  instanceInternals(instance)._previousDataValues = { ...valuesOf(instance) };
  for (const a of Object.keys(row)) instance.changed(a as never, false);
}

/**
 * Writes many instances' changes — a different value per row — in one `UPDATE … FROM (VALUES …)` statement per
 * batch, and resolves to the number of rows written. Each row gets only its own changed attributes (or
 * `fields`, when given) plus `updatedAt`, so concurrent changes to other columns survive. Update events are
 * delivered with old rows read once per batch, locked, in the caller's order; before-receiver edits go into
 * the same statement. Afterwards every instance holds the database's values and reports no changes.
 *
 * @example
 * accounts.forEach((a) => { a.balance += interest(a); });
 * await bulkUpdate(Account, accounts); // 1000 rows: 1 statement, 2 with receivers
 */
export async function bulkUpdate<M extends Model>(
  model: ModelStatic<M>,
  instances: readonly M[],
  options: BulkUpdateOptions<M> = {},
): Promise<number> {
  if (!isModelClass(model)) fail(undefined, `expected a model class as the first argument, got ${typeof model}`);
  const base = canonicalModel(model) as ModelStatic<Model>;
  const pending = plan(model, instances, options);
  if (pending.length === 0) return 0;

  if (options.silent !== true) stampUpdatedAt(base, pending);
  if (options.validate !== false) await validateFields(base, pending);

  return writeBatches(model, base, pending, options as BulkUpdateOptions<Model>);
}

/** Batches of `batchSize`, in one transaction when receivers listen or there is more than one batch. */
async function writeBatches(
  model: ModelStatic<Model>,
  base: ModelStatic<Model>,
  pending: Pending[],
  options: BulkUpdateOptions<Model>,
): Promise<number> {
  const callOptions = options as unknown as AnyOptions;
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const batches: Pending[][] = [];
  for (let i = 0; i < pending.length; i += batchSize) batches.push(pending.slice(i, i + batchSize));
  // The caller's class names the table (`Model.schema('tenant')`); the canonical model has the receivers.
  const tableName = model.getTableName();
  const run = async (transaction: Transaction | undefined) => {
    let written = 0;
    for (const batch of batches) written += await writeBatch(base, tableName, batch, options, transaction);
    return written;
  };
  const signals = listeningFor(base, 'Update', callOptions) !== undefined;
  if (!signals && batches.length === 1 && !options.transaction) return run(undefined);
  return withTransaction(base, callOptions, (t) => run(t));
}

/** Every row gets the same fresh `updatedAt` (when the model has one), written with its fields. */
function stampUpdatedAt(model: ModelStatic<Model>, pending: Pending[]): void {
  const updatedAt = internals(model)._timestampAttributes.updatedAt;
  if (!updatedAt) return;
  const now = new Date();
  for (const p of pending) {
    p.instance.setDataValue(updatedAt as never, new Date(now.getTime()));
    if (!p.fields.includes(updatedAt)) p.fields.push(updatedAt);
  }
}

/** Sequelize's attribute validators only: the validate events run once per batch, in `writeBatch`. */
async function validateFields(model: ModelStatic<Model>, pending: Pending[]): Promise<void> {
  const silent = silentCall(model);
  for (const p of pending) await p.instance.validate({ fields: p.fields, hooks: false, [CALL]: silent } as never);
}

async function writeBatch(
  model: ModelStatic<Model>,
  tableName: unknown,
  batch: Pending[],
  options: BulkUpdateOptions<Model>,
  transaction: Transaction | undefined,
): Promise<number> {
  const attributes = storedAttributes(model);
  const pks = internals(model).primaryKeyAttributes;
  const logging = { logging: options.logging };
  const keyRow = (instance: Model) => Object.fromEntries(pks.map((pk) => [pk, valuesOf(instance)[pk]]));
  const writesOf = (items: readonly Pending[]): RowWrite[] =>
    items.map((p) => ({
      key: keyRow(p.instance),
      set: Object.fromEntries(p.fields.map((f) => [f, valuesOf(p.instance)[f]])),
    }));

  const callOptions = options as unknown as AnyOptions;
  const listening = listeningFor(model, 'Update', callOptions);
  if (!transaction || !listening) {
    const rows = await updateRowsFromValues(model, writesOf(batch), { transaction, tableName, ...logging });
    return apply(batch, rows);
  }

  const ctx = contextFor(model, 'Update', 'bulkUpdate', 'model', transaction, callOptions);
  const conditions = identityInSql(
    model,
    batch.map((p) => keyRow(p.instance)),
    generatorFor(model),
  );
  const { rows: locked } = await readLocked({ model, tableName, conditions }, { transaction, ...logging });
  const byKey = new Map(locked.map((r) => [keyOf(model, r), r]));
  // Rows deleted meanwhile cannot be written; they are neither written nor signalled.
  const present = batch.filter((p) => byKey.has(keyOf(model, valuesOf(p.instance))));
  if (present.length === 0) return 0;
  const oldRows = present.map((p) => byKey.get(keyOf(model, valuesOf(p.instance)))!);
  const oldRecords = buildRecords(model, oldRows);
  const call = new WriteCall(ctx, listening, 'list');
  call.target = present[0]!.instance.constructor as ModelStatic<Model>;
  const descendants = DescendantSignals.of(call, options.logging);
  await descendantsBefore(descendants, present, oldRows);

  if (listening.before) {
    // Receivers get each row as it will be written (the locked row and the fields to write), copied; their
    // edits are set on the instances and ride in the same statement.
    const proposed = buildRecords(
      model,
      present.map((p, i) => ({ ...oldRows[i], ...Object.fromEntries(p.fields.map((f) => [f, valuesOf(p.instance)[f]])) })),
    );
    const snapshots = proposed.map((r) => copyValues(valuesOf(r), attributes));
    await emitBefore(ctx, rowsOf(ctx, oldRecords, proposed));
    present.forEach((p, i) => {
      const edited = editedAttributes([proposed[i]!], [snapshots[i]!], attributes).filter((a) => !pks.includes(a));
      for (const a of edited) p.instance.setDataValue(a as never, valuesOf(proposed[i]!)[a]);
      p.fields = [...new Set([...p.fields, ...edited])];
    });
  }
  const rows = await updateRowsFromValues(model, writesOf(present), { transaction, tableName, ...logging });
  const written = apply(present, rows);
  await descendants.finishUpdate();
  if (listening.after) {
    // The instances were settled on the same rows: the records get copies of their values.
    const news = buildRecords(
      model,
      present.flatMap((_, i) => (rows[i] ? [rows[i]] : [])),
    );
    // Before receivers had the old records: after receivers get their own.
    const olds =
      listening.before || news.length !== oldRecords.length
        ? buildRecords(
            model,
            oldRows.filter((_, i) => rows[i]),
          )
        : oldRecords;
    await emitAfter(ctx, rowsOf(ctx, olds, news));
  }
  return written;
}

/**
 * Receivers of descendants whose rows some of these are (`inherit`: instances of a parent that are also a
 * child's rows) run first; their edits to this model's attributes are set on the instances and written with them.
 */
async function descendantsBefore(descendants: DescendantSignals, present: Pending[], oldRows: Row[]): Promise<void> {
  if (!descendants.any) return;
  await descendants.read(oldRows);
  const edits = await descendants.before('Update', (i) =>
    Object.fromEntries(present[i]!.fields.map((f) => [f, valuesOf(present[i]!.instance)[f]])),
  );
  edits.forEach((set, i) => {
    const p = present[i]!;
    for (const [a, v] of Object.entries(set)) p.instance.setDataValue(a as never, v);
    p.fields = [...new Set([...p.fields, ...Object.keys(set)])];
  });
}

/** After the write: each instance holds the database's row and reports no changes. */
function apply(batch: readonly Pending[], rows: readonly (Row | undefined)[]): number {
  let written = 0;
  batch.forEach((p, i) => {
    const row = rows[i];
    if (!row) return;
    settle(p.instance, row);
    written++;
  });
  return written;
}

import { Utils, type Model, type ModelStatic, type Transaction, type WhereOptions } from 'sequelize';
import { changedBetween, copyValues, sameValue } from '../data/diff';
import { canonicalModel, comparePrimaryKeys, internals, keyOf, storedAttributes } from '../data/model-info';
import { PREDICTED, buildRecords, forEachLockedChunk, pairByKey, readLocked, whereKeys, type Row } from '../data/records';
import { updateRowsFromValues, type RowWrite } from '../data/update-from-values';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers, type OperationContext } from '../dispatch';
import type { Operation, Via } from '../events';
import { chunkSizeFor, contextFor, withTransaction, type AnyOptions } from './context';

/** How one where-based update call (Model.update, increment/decrement) plugs into the shared flow. */
export interface WhereUpdate {
  readonly operation: Operation;
  readonly via: Via;
  readonly options: AnyOptions;
  readonly where: WhereOptions | undefined;
  /** Whether the locked read applies the paranoid clause (Model.update does; increment does not). */
  readonly paranoid: boolean | undefined;
  /** Whether Sequelize's write sets `updatedAt` (then before receivers see a fresh one). */
  readonly stampsUpdatedAt: boolean;
  /** Plain values every row gets (expressions excluded): what before receivers see as the new values. */
  readonly plainValues: Row;
  /** Attributes set by expressions (literal, fn, col, increment): computed by the database. */
  readonly expressionFields: readonly string[];
  /**
   * SQL that computes, on the locked row, what some expression fields will become (side-effect free
   * arithmetic only, e.g. increment): before receivers then see those values instead of the current ones.
   */
  readonly predictions?: Readonly<Record<string, string>>;
  /** Runs Sequelize's own write restricted to `where` (the locked keys); returns new rows and the caller's result. */
  write(where: WhereOptions, transaction: Transaction): Promise<{ rows: Row[]; result: unknown }>;
  /** The caller's result when nothing matched (Sequelize's own write, which still runs its hooks). */
  writeNothing(transaction: Transaction): Promise<unknown>;
  /** Joins the results of chunked writes into the one the caller expects; without it the call is not chunked. */
  combine?(results: unknown[]): unknown;
  /**
   * One statement that writes `where` and returns each row's old and new version (PostgreSQL 18's
   * `RETURNING old.*, new.*`, a data-modifying CTE before 18); used when no validate/before receiver needs
   * the old rows first.
   */
  writeReturningOld?(transaction: Transaction): Promise<{ old: Row[]; next: Row[]; result: unknown }>;
}

export function isExpression(value: unknown): boolean {
  return value instanceof Utils.SequelizeMethod;
}

/**
 * The where-update flow: lock and read the matched rows (one SELECT … FOR UPDATE, primary-key order), run
 * validate/before receivers on proposed new rows, write exactly the locked keys with RETURNING, write any
 * per-row receiver edits in one more statement, then run after receivers with the database's values.
 */
export async function runWhereUpdate(scoped: ModelStatic<Model>, spec: WhereUpdate): Promise<unknown> {
  const model = canonicalModel(scoped);
  return withTransaction(model, spec.options, async (transaction) => {
    const ctx = contextFor(model, 'Update', spec.operation, spec.via, transaction, spec.options);
    const logging = { logging: spec.options.logging, benchmark: spec.options.benchmark };
    const chunkSize = chunkSizeFor(model, spec.options);
    if (spec.writeReturningOld && !hasBeforeReceivers(ctx) && chunkSize === undefined) {
      // After receivers only: one statement returns old and new rows, exact under concurrent writers.
      const { old, next, result } = await spec.writeReturningOld(transaction);
      const order = [...old.keys()].sort((a, b) => comparePrimaryKeys(model, old[a]!, old[b]!));
      const olds = buildRecords(model, order.map((i) => old[i]!));
      const news = buildRecords(model, order.map((i) => next[i]!));
      if (olds.length > 0) {
        await emitAfter(ctx, { newRecords: news, oldRecords: olds, changedFields: changedBetween(olds, news, storedAttributes(model)) });
      }
      return result;
    }
    const readOptions = { transaction, paranoid: spec.paranoid, computed: spec.predictions, ...logging };
    if (chunkSize === undefined || !spec.combine) {
      const locked = await readLocked(scoped, spec.where, readOptions);
      if (locked.length === 0) return spec.writeNothing(transaction);
      return updateLocked(model, spec, ctx, locked, transaction);
    }
    // Bounded memory: chunkSize rows at a time, each chunk its own dispatch.
    const results: unknown[] = [];
    await forEachLockedChunk(scoped, spec.where, chunkSize, readOptions, async (locked) => {
      results.push(await updateLocked(model, spec, ctx, locked, transaction));
    });
    return results.length === 0 ? spec.writeNothing(transaction) : spec.combine(results);
  });
}

/** One batch of locked rows: before receivers, the write by primary key, edits, after receivers. */
async function updateLocked(
  model: ModelStatic<Model>,
  spec: WhereUpdate,
  ctx: OperationContext,
  locked: Row[],
  transaction: Transaction,
): Promise<unknown> {
  const logging = { logging: spec.options.logging, benchmark: spec.options.benchmark };
  const { oldRows, predicted } = splitPredictions(locked);
  const attributes = storedAttributes(model);
  const oldRecords = buildRecords(model, oldRows);

  let writes: RowWrite[] = [];
  if (hasBeforeReceivers(ctx)) {
    const proposed = propose(model, oldRows, predicted, spec);
    const snapshots = proposed.map((p) => copyValues(p.dataValues, attributes));
    const changed = new Set([...changedBetween(oldRecords, proposed, attributes), ...spec.expressionFields]);
    await emitBefore(ctx, { newRecords: proposed, oldRecords, changedFields: attributes.filter((a) => changed.has(a)) });
    writes = receiverEdits(model, proposed, snapshots, attributes);
  }

  const { rows, result } = await spec.write(whereKeys(model, oldRows), transaction);
  let newRows = rows;
  if (writes.length > 0) {
    const edited = await updateRowsFromValues(model, writes, { transaction, ...logging });
    const byKey = new Map(edited.map((r) => [keyOf(model, r), r]));
    newRows = rows.map((r) => byKey.get(keyOf(model, r)) ?? r);
  }
  if (hasAfterReceivers(ctx)) {
    const { old, next } = pairByKey(model, oldRows, newRows);
    const olds = old.length === oldRows.length ? oldRecords : buildRecords(model, old);
    const news = buildRecords(model, next);
    await emitAfter(ctx, { newRecords: news, oldRecords: olds, changedFields: changedBetween(olds, news, attributes) });
  }
  return result;
}

/** Separates the computed prediction columns of a locked read from the rows themselves. */
function splitPredictions(locked: Row[]): { oldRows: Row[]; predicted: Row[] } {
  if (locked.length === 0 || !Object.keys(locked[0]!).some((k) => k.startsWith(PREDICTED))) return { oldRows: locked, predicted: [] };
  const predicted: Row[] = [];
  const oldRows = locked.map((row) => {
    const own: Row = {};
    const next: Row = {};
    for (const [k, v] of Object.entries(row)) {
      if (k.startsWith(PREDICTED)) next[k.slice(PREDICTED.length)] = v;
      else own[k] = v;
    }
    predicted.push(next);
    return own;
  });
  return { oldRows, predicted };
}

/**
 * New rows as the write is expected to leave them: old values plus the plain values (setters applied) and
 * any predicted expression values.
 */
function propose(model: ModelStatic<Model>, oldRows: readonly Row[], predicted: readonly Row[], spec: WhereUpdate): Model[] {
  const updatedAt = internals(model)._timestampAttributes.updatedAt;
  const stamp = updatedAt && spec.stampsUpdatedAt ? new Date() : undefined;
  const readOnly = (model as unknown as { _readOnlyAttributes?: Set<string> })._readOnlyAttributes;
  const records = buildRecords(model, predicted.length ? oldRows.map((row, i) => ({ ...row, ...predicted[i] })) : oldRows);
  return records.map((record) => {
    for (const [key, value] of Object.entries(spec.plainValues)) {
      // Sequelize's set() ignores timestamp attributes on existing rows; Model.update writes them anyway.
      if (readOnly?.has(key)) record.setDataValue(key as never, value as never);
      else record.set(key as never, value as never);
    }
    if (stamp && updatedAt) record.setDataValue(updatedAt as never, new Date(stamp.getTime()) as never);
    return record;
  });
}

/** What before receivers changed on each proposed row, relative to the proposal. */
export function receiverEdits(
  model: ModelStatic<Model>,
  proposed: readonly Model[],
  snapshots: readonly Row[],
  attributes: readonly string[],
): RowWrite[] {
  const pks = internals(model).primaryKeyAttributes;
  const writes: RowWrite[] = [];
  proposed.forEach((record, i) => {
    const snapshot = snapshots[i]!;
    const set: Row = {};
    for (const a of attributes) {
      if (!sameValue(snapshot[a], record.dataValues[a])) set[a] = record.dataValues[a];
    }
    if (Object.keys(set).length > 0) {
      writes.push({ key: Object.fromEntries(pks.map((pk) => [pk, snapshot[pk]])), set });
    }
  });
  return writes;
}

import type { Model, ModelStatic } from 'sequelize';
import { withTransaction, type AnyOptions, type WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf, type OperationContext } from '../dispatch';
import type { Listening } from '../listening';
import { valuesOf, type Row } from '../internals';
import { copyValues } from '../data/diff';
import { parseRow, readLocked } from '../data/locked-read';
import { columnOf, columnsToAttributes, identityOf, keyOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { rereadRows } from '../data/reread';
import { generatorFor, identityInSql } from '../data/sql';
import { updateRowsFromValues } from '../data/update-from-values';
import { dialectFor } from '../dialect';
import { beforeBulkInsert } from '../operations/bulk-insert';
import { editsOf } from '../operations/where-write';
import { insertLevels, insertReturns, levelQuery, type LevelQuery } from './level-writes';
import { DescendantSignals } from './descendants';

interface Side {
  readonly ctx: OperationContext | undefined;
  readonly listening: Listening | undefined;
}

/**
 * `bulkCreate` of a child model (`inherit`): one INSERT per table of the chain, root first (the root's keys
 * reused below), in one transaction; create events with the rows as written. `ignoreDuplicates` and
 * `updateOnDuplicate` resolve conflicts on the primary key: rows whose key the model already has (read locked
 * through the join first) are skipped, or updated — each table that stores an `updateOnDuplicate` column, with
 * update events carrying their old rows. Sequelize gets, per record, the row's key (every column on PostgreSQL).
 */
export async function writeInheritedBulkInsert(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  statement: { records: Row[]; options: AnyOptions },
): Promise<unknown> {
  const { records, options } = statement;
  return withTransaction(model, options, async (transaction) => {
    const query = levelQuery(options, transaction);
    const none: Side = { ctx: undefined, listening: undefined };
    const create = call ? call.as('Create') : none;
    const update = call && options.updateOnDuplicate ? call.as('Update') : none;
    const existing = await lockExisting(model, records, options, query);
    const fresh = records.flatMap((r, i) => (existing.has(keyOfRecord(model, r)) ? [] : [i]));
    const inserting = fresh.map((i) => records[i]!);
    if (create.listening?.before && inserting.length > 0) await beforeBulkInsert(create.ctx!, model, inserting);
    const updated = options.updateOnDuplicate ? await updateExisting(model, records, existing, options, update, query) : [];
    const written = await insertLevels(model, inserting, query);
    await afterCreates(model, create, written, query);
    await afterUpdates(model, update, updated);
    return resultRows(model, records, fresh, written, options);
  });
}

async function afterCreates(model: ModelStatic<Model>, create: Side, written: Row[], query: LevelQuery): Promise<void> {
  if (!create.listening?.after || written.length === 0) return;
  const rows = insertReturns(model) ? written : await rereadByKeys(model, written, query);
  await emitAfter(create.ctx!, rowsOf(create.ctx!, [], buildRecords(model, rows, true)));
}

async function afterUpdates(model: ModelStatic<Model>, update: Side, updated: [Row, Row][]): Promise<void> {
  if (!update.listening?.after || updated.length === 0) return;
  const olds = buildRecords(
    model,
    updated.map(([old]) => old),
  );
  const news = buildRecords(
    model,
    updated.map(([, now]) => now),
    true,
  );
  await emitAfter(update.ctx!, rowsOf(update.ctx!, olds, news));
}

function keyOfRecord(model: ModelStatic<Model>, record: Row): string {
  return keyOf(model, columnsToAttributes(model, record));
}

/** Rows the model already has for the records' keys (conflicts are on the primary key), read locked, by key. */
async function lockExisting(model: ModelStatic<Model>, records: Row[], options: AnyOptions, query: LevelQuery): Promise<Map<string, Row>> {
  if (!options.ignoreDuplicates && !options.updateOnDuplicate) return new Map();
  const pks = identityOf(model);
  // Rows without a key are numbered by the root's INSERT: they cannot conflict on it.
  const keyed = records.map((r) => columnsToAttributes(model, r)).filter((v) => pks.every((a) => v[a] != null));
  if (keyed.length === 0) return new Map();
  const { rows } = await readLocked(
    { model, tableName: model.getTableName(), conditions: identityInSql(model, keyed, generatorFor(model)) },
    query,
  );
  return new Map(rows.map((r) => [keyOf(model, r), r]));
}

/**
 * `updateOnDuplicate` for rows the model has: their `updateOnDuplicate` columns written per row (each table its
 * own, one statement per table); validate and before receivers see them first, and what they edit is written.
 * Returns the [old, new] rows, in the records' order.
 */
async function updateExisting(
  model: ModelStatic<Model>,
  records: Row[],
  existing: Map<string, Row>,
  options: AnyOptions,
  side: Side,
  query: LevelQuery,
): Promise<[Row, Row][]> {
  const columns = new Set(options.updateOnDuplicate as string[]);
  const attributes = storedAttributes(model).filter((a) => columns.has(columnOf(model, a)));
  const hits = records.flatMap((r) => {
    const old = existing.get(keyOfRecord(model, r));
    return old ? [{ old, set: Object.fromEntries(attributes.map((a) => [a, columnsToAttributes(model, r)[a]])) }] : [];
  });
  if (hits.length === 0) return [];
  const descendants = DescendantSignals.forContext(side.ctx, query.logging);
  await descendants.beforeRows(
    hits.map((h) => h.old),
    hits.map((h) => h.set),
  );
  if (side.listening?.before) await beforeUpdates(model, hits, side.ctx!);
  const writes = hits.map((h) => ({ key: Object.fromEntries(identityOf(model).map((a) => [a, h.old[a]])), set: h.set }));
  const written = await updateRowsFromValues(model, writes, { ...query, readBack: Boolean(side.listening?.after) });
  await descendants.finishUpdate();
  return hits.map((h, i) => [h.old, written[i] ?? { ...h.old, ...h.set }]);
}

/** The before phase of conflicting rows: proposed = old row + the update; receivers' edits join the update. */
async function beforeUpdates(model: ModelStatic<Model>, hits: { old: Row; set: Row }[], ctx: OperationContext): Promise<void> {
  const all = storedAttributes(model);
  const proposed = buildRecords(
    model,
    hits.map((h) => ({ ...h.old, ...h.set })),
  );
  const snapshots = proposed.map((p) => copyValues(valuesOf(p), all));
  await emitBefore(
    ctx,
    rowsOf(
      ctx,
      buildRecords(
        model,
        hits.map((h) => h.old),
      ),
      proposed,
    ),
  );
  proposed.forEach((p, i) => Object.assign(hits[i]!.set, editsOf(valuesOf(p), snapshots[i]!, all)));
}

async function rereadByKeys(model: ModelStatic<Model>, written: Row[], query: LevelQuery): Promise<Row[]> {
  const keys = written.map((w) => Object.fromEntries(identityOf(model).map((a) => [a, w[a]])));
  const raw = await rereadRows(model, model.getTableName(), keys, query);
  const byKey = new Map(raw.map((r) => parseRow(model, r, 'n')!).map((r) => [keyOf(model, r), r]));
  return keys.map((k) => byKey.get(keyOf(model, k)) ?? k);
}

/**
 * What Sequelize's bulkCreate reads back, one entry per record: the inserted row's key (PostgreSQL, with
 * `returning`: every column), column-keyed; nothing for a skipped or updated row.
 */
function resultRows(model: ModelStatic<Model>, records: Row[], fresh: number[], written: Row[], options: AnyOptions): Row[] {
  const all = dialectFor(model).tapsStatements && options.returning !== false;
  const out: Row[] = records.map(() => ({}));
  fresh.forEach((index, n) => {
    const row = written[n]!;
    const attributes = all ? storedAttributes(model) : identityOf(model);
    out[index] = Object.fromEntries(attributes.filter((a) => a in row).map((a) => [columnOf(model, a), row[a]]));
  });
  return out;
}

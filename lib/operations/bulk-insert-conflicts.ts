import type { Model, ModelStatic } from 'sequelize';
import type { OperationContext } from '../dispatch';
import type { WriteCall } from '../call';
import { emit, emitAfter, rowsOf } from '../dispatch';
import { eventName, type Family } from '../events';
import { ConcurrentWriteError } from '../errors';
import { generatorOf, internals, valuesOf, type QueryGenerator, type Row } from '../internals';
import { dialectFor } from '../dialect';
import { InsertedRows } from '../data/inserted-rows';
import { rereadRows } from '../data/reread';
import { queryOf, untapped } from './bulk-insert';
import type { Listening } from '../listening';
import { conflictLookupSql } from '../data/conflicts';
import { copyValues } from '../data/diff';
import { aliasOf, parseRow, readLocked, selectList } from '../data/locked-read';
import { attributeOfColumn, columnOf, columnsToAttributes, keyOf, keyPart, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { updateRowsFromValues } from '../data/update-from-values';
import { StatementTap } from '../statement-tap';
import { editsOf } from './where-write';

interface Side {
  readonly ctx: OperationContext;
  readonly listening: Listening | undefined;
}

/** What the conflict handling of one bulk INSERT needs, decided once. */
interface Conflicts {
  readonly call: WriteCall;
  readonly model: ModelStatic<Model>;
  readonly qg: QueryGenerator;
  readonly tableName: unknown;
  readonly options: Row;
  /** Sequelize's own column-keyed rows; edits are written into them. */
  readonly records: Row[];
  /** The same rows keyed by attribute. */
  readonly values: Row[];
  readonly updating: boolean;
  readonly create: Side;
  readonly update: Side;
  readonly send: (tap: StatementTap) => Promise<unknown>;
}

/**
 * `bulkCreate` with `updateOnDuplicate` or `ignoreDuplicates`: inserted rows fire create events, rows that hit a
 * conflict fire update events with their old values (`updateOnDuplicate`) or nothing (`ignoreDuplicates`).
 * Without before receivers, `ignoreDuplicates` is one statement on any server (DO NOTHING returns exactly the
 * rows it inserted), and so is `updateOnDuplicate` on PostgreSQL 18 (`RETURNING old.*` is NULL for an insert).
 * Otherwise the existing rows are read (locked) by Sequelize's own conflict target — and its `conflictWhere` —
 * first; a concurrent writer that changes the outcome fails the call with `ConcurrentWriteError`, nothing written.
 */
export async function insertWithConflicts(
  call: WriteCall,
  statement: { tableName: unknown; records: Row[]; options: Row },
  send: (tap: StatementTap) => Promise<unknown>,
): Promise<unknown> {
  const model = call.model;
  const updating = Boolean(statement.options.updateOnDuplicate);
  const c: Conflicts = {
    call,
    model,
    send,
    updating,
    qg: generatorOf(model.sequelize!),
    tableName: statement.tableName,
    options: statement.options,
    records: statement.records,
    values: statement.records.map((r) => columnsToAttributes(model, r)),
    create: call.as('Create'),
    update: updating ? call.as('Update') : { ctx: call.ctx, listening: undefined },
  };
  return strategyFor(c)(c);
}

/** Which of the four ways a conflicting insert is signalled, from the dialect and whether before receivers listen. */
function strategyFor(c: Conflicts): (c: Conflicts) => Promise<unknown> {
  const before = Boolean(c.create.listening?.before || c.update.listening?.before);
  const dialect = dialectFor(c.model);
  if (!dialect.tapsStatements) return insertAfterLookupThenRead;
  if (!c.updating && !before) return insertIgnoring;
  if (dialect.returnsOld() && !before) return insertReturningOld;
  return insertAfterLookup;
}

async function emitCreated(c: Conflicts, rows: Row[]): Promise<void> {
  if (rows.length && c.create.listening?.after) await emitAfter(c.create.ctx, rowsOf(c.create.ctx, [], buildRecords(c.model, rows, true)));
}

async function emitUpdated(c: Conflicts, olds: Row[], news: Row[]): Promise<void> {
  if (!news.length || !c.update.listening?.after) return;
  await emitAfter(c.update.ctx, rowsOf(c.update.ctx, buildRecords(c.model, olds), buildRecords(c.model, news, true)));
}

/** `ignoreDuplicates` without before receivers: ON CONFLICT DO NOTHING returns exactly the rows it inserted. */
async function insertIgnoring(c: Conflicts): Promise<unknown> {
  const tap = new StatementTap({ type: 'INSERT', callerReturns: Boolean(c.options.returning), returning: selectList(c.model, c.qg, 'n') });
  const result = await c.send(tap);
  await emitCreated(
    c,
    (tap.rows ?? []).map((r) => parseRow(c.model, r, 'n')!),
  );
  return result;
}

/** PostgreSQL 18, after receivers only: the statement says which rows it inserted and which it updated, from what. */
async function insertReturningOld(c: Conflicts): Promise<unknown> {
  const returning = `${selectList(c.model, c.qg, 'o', 'old.')}, ${selectList(c.model, c.qg, 'n', 'new.')}`;
  const tap = new StatementTap({ type: 'INSERT', callerReturns: Boolean(c.options.returning), returning });
  const result = await c.send(tap);
  const returned = (tap.rows ?? []).map((r) => ({ old: parseRow(c.model, r, 'o'), next: parseRow(c.model, r, 'n')! }));
  await emitCreated(
    c,
    returned.filter((r) => !r.old).map((r) => r.next),
  );
  const updated = returned.filter((r) => r.old);
  await emitUpdated(
    c,
    updated.map((r) => r.old!),
    updated.map((r) => r.next),
  );
  return result;
}

/**
 * The key sets a row can conflict on, as attribute lists: `updateOnDuplicate` — the one ON CONFLICT target
 * Sequelize chose (`upsertKeys`); `ignoreDuplicates` (ON CONFLICT DO NOTHING) — the primary key and every
 * unique key and unique index without a predicate.
 */
function conflictKeys(model: ModelStatic<Model>, options: Row): string[][] {
  const toAttributes = (columns: readonly string[]) => columns.map((c) => attributeOfColumn(model, c) ?? c);
  if (options.updateOnDuplicate && !dialectFor(model).conflictsOnAnyUniqueKey) return [toAttributes(options.upsertKeys as string[])];
  return everyUniqueKey(model);
}

/** The primary key, every unique key and every unique index without a predicate, as attribute lists. */
export function everyUniqueKey(model: ModelStatic<Model>): string[][] {
  const toAttributes = (columns: readonly string[]) => columns.map((c) => attributeOfColumn(model, c) ?? c);
  const info = internals(model);
  const sets = [info.primaryKeyAttributes, ...Object.values(info.uniqueKeys).map((k) => toAttributes(k.fields))];
  for (const index of info._indexes) {
    if (index.unique && !index.where)
      sets.push(toAttributes(index.fields.map((f) => (typeof f === 'string' ? f : (f.attribute ?? f.name ?? '')))));
  }
  return sets.filter((set) => set.length > 0);
}

/** `'<keyset>|<values>'` for each complete key set of a row (a NULL in a key never conflicts). */
function conflictIds(keys: readonly string[][], values: Row): string[] {
  return keys.flatMap((key, i) =>
    key.every((a) => values[a] != null) ? [`${i}|${key.map((a) => keyPart(values[a])).join('\u0000')}`] : [],
  );
}

interface Classified {
  readonly inserts: number[];
  readonly updates: { index: number; old: Row }[];
}

/** Reads the rows the new ones conflict with (locked) and sorts the new rows into inserts and updates, in order. */
async function classify(c: Conflicts): Promise<Classified> {
  const keys = conflictKeys(c.model, c.options);
  const conflictWhere = c.options.conflictWhere ? c.qg.whereQuery(c.options.conflictWhere, c.options).replace(/^\s*WHERE\s+/i, '') : '';
  const conditions = conflictLookupSql(c.model, c.tableName, keys, c.values, conflictWhere, c.qg);
  const query = { transaction: c.call.ctx.transaction, logging: c.options.logging, benchmark: c.options.benchmark };
  const { rows: existing } = await readLocked({ model: c.model, tableName: c.tableName, conditions }, query);
  const existingById = new Map<string, Row>();
  for (const row of existing) for (const id of conflictIds(keys, row)) existingById.set(id, row);
  // A later duplicate of a key inserted earlier in the same batch is skipped.
  const seen = new Set<string>();
  const classified: Classified = { inserts: [], updates: [] };
  c.values.forEach((v, index) => {
    const ids = conflictIds(keys, v);
    const old = ids.map((id) => existingById.get(id)).find(Boolean);
    if (old && c.updating) classified.updates.push({ index, old });
    else if (!old && !ids.some((id) => seen.has(id))) classified.inserts.push(index);
    for (const id of ids) seen.add(id);
  });
  return classified;
}

/** Writes receivers' edits of proposed records back into Sequelize's column-keyed rows. */
function writeBack(model: ModelStatic<Model>, record: Row, edits: Row): void {
  for (const [a, v] of Object.entries(edits)) record[columnOf(model, a)] = v;
}

interface Proposal {
  readonly side: Side;
  readonly family: Family;
  readonly olds: Model[];
  readonly news: Model[];
}

/** Runs the validate and before phases, creates then updates within each phase; returns each record's edits. */
async function beforePhases(c: Conflicts, proposals: readonly Proposal[]): Promise<Row[][]> {
  const attributes = storedAttributes(c.model);
  const snapshots = proposals.map((p) => p.news.map((r) => copyValues(valuesOf(r), attributes)));
  for (const phase of ['validate', 'before'] as const) {
    if (phase === 'validate' && c.options.bypassValidation === true) continue;
    for (const p of proposals) {
      if (p.news.length && p.side.listening?.before) await emit(p.side.ctx, eventName(phase, p.family), rowsOf(p.side.ctx, p.olds, p.news));
    }
  }
  return proposals.map((p, k) => p.news.map((r, n) => editsOf(valuesOf(r), snapshots[k]![n]!, attributes)));
}

interface Prepared extends Classified {
  /** Per update, the receivers' edits the statement does not carry (written after it). */
  readonly laterEdits: Row[];
}

/** The locked lookup and the before phases; receivers' edits written into Sequelize's rows where they can ride. */
async function lookupAndBefore(c: Conflicts): Promise<Prepared> {
  const { inserts, updates } = await classify(c);
  const updateFields = c.updating ? (c.options.updateOnDuplicate as string[]).map((col) => attributeOfColumn(c.model, col) ?? col) : [];
  const created = buildRecords(
    c.model,
    inserts.map((i) => c.values[i]!),
  );
  const proposed = buildRecords(
    c.model,
    updates.map((u) => ({ ...u.old, ...Object.fromEntries(updateFields.map((a) => [a, c.values[u.index]![a]])) })),
  );
  const olds = buildRecords(
    c.model,
    updates.map((u) => u.old),
  );
  const [createEdits, updateEdits] = (await beforePhases(c, [
    { side: c.create, family: 'Create', olds: [], news: created },
    { side: c.update, family: 'Update', olds, news: proposed },
  ])) as [Row[], Row[]];
  createEdits.forEach((edits, n) => writeBack(c.model, c.records[inserts[n]!]!, edits));
  // Update edits of updateOnDuplicate columns ride in the row (EXCLUDED.col); the rest need one more statement.
  const laterEdits = updateEdits.map((edits, n) => {
    writeBack(
      c.model,
      c.records[updates[n]!.index]!,
      pick(edits, (a) => updateFields.includes(a)),
    );
    return pick(edits, (a) => !updateFields.includes(a));
  });
  return { inserts, updates, laterEdits };
}

/** Before receivers, or updates before PostgreSQL 18: a locked lookup, the before phases, the statement, the edits. */
async function insertAfterLookup(c: Conflicts): Promise<unknown> {
  const { inserts, updates, laterEdits } = await lookupAndBefore(c);
  const xmax = c.qg.quoteIdentifier(aliasOf('x', 0));
  const tap = new StatementTap({
    type: 'INSERT',
    callerReturns: Boolean(c.options.returning),
    returning: `${selectList(c.model, c.qg, 'n')}, xmax AS ${xmax}`,
  });
  const result = await c.send(tap);
  const { insertedRows, updatedRows } = outcome(c, tap.rows ?? [], inserts.length, updates.length);
  const written = await writeLaterEdits(c, result, updatedRows, laterEdits);
  await emitCreated(c, insertedRows);
  await emitUpdated(
    c,
    updates.map((u) => u.old),
    written,
  );
  return result;
}

/**
 * Where the INSERT cannot return rows: the locked lookup (it also keeps concurrent writers of those keys out:
 * InnoDB's locks cover the gaps of missing keys, SQLite's write lock the whole database), the before phases,
 * Sequelize's statement as it is, then the inserted rows found again (by key, or the numbers the database gave
 * them) and the updated ones read by key.
 */
async function insertAfterLookupThenRead(c: Conflicts): Promise<unknown> {
  const { inserts, updates, laterEdits } = await lookupAndBefore(c);
  const query = queryOf(c.call, c.options);
  const wanted = inserts.length > 0 && c.create.listening?.after;
  const inserted = wanted ? new InsertedRows(c.model, c.tableName, c.records, inserts, query) : undefined;
  await inserted?.prepare();
  const result = await c.send(untapped());
  const insertedRows = inserted ? await inserted.rows() : [];
  const updatedRaw = await rereadRows(
    c.model,
    c.tableName,
    updates.map((u) => u.old),
    query,
  );
  const byKey = new Map(updatedRaw.map((r) => parseRow(c.model, r, 'n')!).map((r) => [keyOf(c.model, r), r]));
  const updatedRows = updates.map((u) => byKey.get(keyOf(c.model, u.old)));
  if (insertedRows.some((r) => !r) || updatedRows.some((r) => !r)) {
    throw new ConcurrentWriteError(
      `${c.model.name}.bulkCreate: rows the locked lookup predicted are not where it said after the write; nothing was written. Retry the call.`,
      { modelName: c.model.name, event: 'afterCreate' },
    );
  }
  const written = await writeLaterEdits(c, result, updatedRows as Row[], laterEdits);
  await emitCreated(c, insertedRows as Row[]);
  await emitUpdated(
    c,
    updates.map((u) => u.old),
    written,
  );
  return result;
}

function pick(row: Row, keep: (attribute: string) => boolean): Row {
  return Object.fromEntries(Object.entries(row).filter(([a]) => keep(a)));
}

/** Splits the returned rows by `xmax` (0: inserted) and checks they are what the lookup predicted. */
function outcome(c: Conflicts, returned: Row[], inserts: number, updates: number): { insertedRows: Row[]; updatedRows: Row[] } {
  const inserted = (r: Row) => String(r[aliasOf('x', 0)]) === '0';
  const insertedRows = returned.filter(inserted).map((r) => parseRow(c.model, r, 'n')!);
  const updatedRows = returned.filter((r) => !inserted(r)).map((r) => parseRow(c.model, r, 'n')!);
  if (insertedRows.length !== inserts || updatedRows.length !== updates) {
    throw new ConcurrentWriteError(
      `${c.model.name}.bulkCreate: a concurrent writer changed which rows conflict between the locked lookup and the write ` +
        `(${inserts} inserts and ${updates} updates expected, ${insertedRows.length} and ${updatedRows.length} happened); ` +
        'nothing was written. Retry the call.',
      { modelName: c.model.name, event: 'afterCreate' },
    );
  }
  return { insertedRows, updatedRows };
}

/** Update-receiver edits beyond what updateOnDuplicate carried, in one statement; returns the rows as written. */
async function writeLaterEdits(c: Conflicts, result: unknown, updatedRows: Row[], laterEdits: Row[]): Promise<Row[]> {
  const pks = internals(c.model).primaryKeyAttributes;
  const writes = updatedRows
    .map((row, n) => ({ key: Object.fromEntries(pks.map((a) => [a, row[a]])), set: laterEdits[n]! }))
    .filter((w) => Object.keys(w.set).length > 0);
  if (writes.length === 0) return updatedRows;
  const edited = await updateRowsFromValues(c.model, writes, {
    transaction: c.call.ctx.transaction,
    logging: c.options.logging,
    tableName: c.tableName,
  });
  const byKey = new Map(edited.filter((r): r is Row => Boolean(r)).map((r) => [keyOf(c.model, r), r]));
  patchReturned(c.model, result, byKey, new Set(writes.flatMap((w) => Object.keys(w.set))));
  return updatedRows.map((r) => byKey.get(keyOf(c.model, r)) ?? r);
}

/** The rows Sequelize copies into its instances, with the edited columns as written. */
function patchReturned(model: ModelStatic<Model>, result: unknown, edited: Map<string, Row>, attributes: Set<string>): void {
  if (!Array.isArray(result)) return;
  for (const item of result as Row[]) {
    const row = edited.get(keyOf(model, columnsToAttributes(model, item)));
    if (!row) continue;
    for (const a of attributes) if (columnOf(model, a) in item) item[columnOf(model, a)] = row[a];
  }
}

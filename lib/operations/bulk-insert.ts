import type { Model, ModelStatic } from 'sequelize';
import { WriteCall, contextFor, isCall, type AnyOptions } from '../call';
import { emit, emitAfter, emitBefore, rowsOf } from '../dispatch';
import { eventName } from '../events';
import { ConcurrentWriteError } from '../errors';
import { generatorOf, instanceInternals, internals, serverMajor, type Row } from '../internals';
import { listeningFor } from '../listening';
import { currentScope } from '../scope';
import { copyValues } from '../data/diff';
import { aliasOf, parseRow, readLocked, selectList } from '../data/locked-read';
import { conflictLookupSql } from '../data/conflicts';
import { attributeOfColumn, canonicalModel, columnOf, columnsToAttributes, keyOf, keyPart, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { updateRowsFromValues } from '../data/update-from-values';
import { StatementTap } from '../statement-tap';
import { editsOf } from './where-write';

/** A bulk INSERT as Sequelize's query interface receives it: the rows as column-keyed values (after hooks and validation). */
export interface BulkInsertStatement {
  readonly tableName: unknown;
  /** Sequelize's own array of rows; receivers' edits are written into it before it is sent. */
  readonly records: Row[];
  readonly options: Row;
}

/**
 * A bulkCreate's included models (`include`) and through rows are inserted by Sequelize's internal helper with
 * fresh options: they belong to the signalled bulkCreate running around them (same transaction).
 */
export function includedInsertCall(options: Row): WriteCall | undefined {
  const outer = currentScope().writing;
  const model = options.model as ModelStatic<Model> | undefined;
  if (!isCall(outer) || !model || options.transaction !== outer.ctx.transaction) return undefined;
  const target = canonicalModel(model);
  const listening = listeningFor(target, 'Create', outer.ctx.options);
  if (!listening) return undefined;
  return new WriteCall(contextFor(target, 'Create', 'bulkCreate', 'model', outer.ctx.transaction, outer.ctx.options), listening, 'list');
}

/** Writes receivers' edits of proposed records back into Sequelize's column-keyed rows. */
function writeBack(model: ModelStatic<Model>, record: Row, edits: Row): void {
  for (const [a, v] of Object.entries(edits)) record[columnOf(model, a)] = v;
}

/**
 * The seam of `bulkCreate`'s INSERT: create events for the rows, the before phase on records built from the
 * rows Sequelize is about to insert (after its hooks, validation and timestamps), edits written into those rows;
 * after receivers get the rows the database returned. With `updateOnDuplicate` / `ignoreDuplicates`, see
 * `insertWithConflicts`.
 */
export async function writeBulkInsert(call: WriteCall, statement: BulkInsertStatement, send: (tap: StatementTap) => Promise<unknown>): Promise<unknown> {
  const { options } = statement;
  if (options.updateOnDuplicate || options.ignoreDuplicates) return insertWithConflicts(call, statement, send);
  const model = call.model;
  const { ctx, listening } = call.as('Create');
  if (!listening) return send(new StatementTap({ type: 'INSERT', callerReturns: true }));
  const attributes = storedAttributes(model);
  if (listening.before) {
    const proposed = buildRecords(model, statement.records.map((r) => columnsToAttributes(model, r)));
    const snapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
    await emitBefore(ctx, rowsOf(ctx, [], proposed));
    proposed.forEach((p, i) => writeBack(model, statement.records[i]!, editsOf(instanceInternals(p).dataValues, snapshots[i]!, attributes)));
  }
  const tap = new StatementTap({ type: 'INSERT', callerReturns: Boolean(options.returning), returning: selectList(model, generatorOf(model.sequelize!), 'n') });
  const result = await send(tap);
  const rows = (tap.rows ?? []).map((r) => parseRow(model, r, 'n')!);
  if (listening.after && rows.length > 0) await emitAfter(ctx, rowsOf(ctx, [], buildRecords(model, rows, true)));
  return result;
}

/**
 * The key sets a row can conflict on, as attribute lists: `updateOnDuplicate` — the one ON CONFLICT target
 * Sequelize chose (`upsertKeys`); `ignoreDuplicates` (ON CONFLICT DO NOTHING) — the primary key and every
 * unique key and unique index without a predicate.
 */
function conflictKeys(model: ModelStatic<Model>, options: Row): string[][] {
  const toAttributes = (columns: readonly string[]) => columns.map((c) => attributeOfColumn(model, c) ?? c);
  if (options.updateOnDuplicate) return [toAttributes(options.upsertKeys as string[])];
  const info = internals(model);
  const sets = [info.primaryKeyAttributes, ...Object.values(info.uniqueKeys).map((k) => toAttributes(k.fields))];
  for (const index of info._indexes) {
    if (index.unique && !index.where) sets.push(toAttributes(index.fields.map((f) => (typeof f === 'string' ? f : (f.attribute ?? f.name ?? '')))));
  }
  return sets.filter((s) => s.length > 0);
}

/** `'<keyset>|<values>'` for each complete key set of a row (a NULL in a key never conflicts). */
function conflictIds(keys: readonly string[][], values: Row): string[] {
  return keys.flatMap((key, i) => (key.every((a) => values[a] != null)
    ? [`${i}|${key.map((a) => keyPart(values[a])).join('\u0000')}`]
    : []));
}

/**
 * `bulkCreate` with `updateOnDuplicate` or `ignoreDuplicates`: inserted rows fire create events, rows that hit a
 * conflict fire update events with their old values (`updateOnDuplicate`) or nothing (`ignoreDuplicates`).
 * PostgreSQL 18 with after receivers only: one statement tells them apart (`RETURNING old.*` is NULL for an
 * insert). Otherwise the existing rows are read (locked) by Sequelize's own conflict target — and its
 * `conflictWhere` — first; a concurrent writer that changes the outcome fails the call with
 * `ConcurrentWriteError`, nothing written.
 */
async function insertWithConflicts(call: WriteCall, statement: BulkInsertStatement, send: (tap: StatementTap) => Promise<unknown>): Promise<unknown> {
  const model = call.model;
  const { options, records } = statement;
  const qg = generatorOf(model.sequelize!);
  const updating = Boolean(options.updateOnDuplicate);
  const create = call.as('Create');
  const update = updating ? call.as('Update') : { ctx: call.ctx, listening: undefined };
  const callerReturns = Boolean(options.returning);
  const attributes = storedAttributes(model);
  const values = records.map((r) => columnsToAttributes(model, r));

  if (!updating && !create.listening?.before) {
    // ON CONFLICT DO NOTHING returns exactly the rows it inserted: no lookup needed, on any server.
    const tap = new StatementTap({ type: 'INSERT', callerReturns, returning: selectList(model, qg, 'n') });
    const result = await send(tap);
    const inserted = (tap.rows ?? []).map((r) => parseRow(model, r, 'n')!);
    if (inserted.length && create.listening?.after) await emitAfter(create.ctx, rowsOf(create.ctx, [], buildRecords(model, inserted, true)));
    return result;
  }
  if (serverMajor(model.sequelize!) >= 18 && !create.listening?.before && !update.listening?.before) {
    const tap = new StatementTap({ type: 'INSERT', callerReturns, returning: `${selectList(model, qg, 'o', 'old.')}, ${selectList(model, qg, 'n', 'new.')}` });
    const result = await send(tap);
    const returned = tap.rows ?? [];
    const inserted = returned.filter((r) => !parseRow(model, r, 'o'));
    const updated = returned.filter((r) => parseRow(model, r, 'o'));
    if (inserted.length && create.listening?.after) {
      await emitAfter(create.ctx, rowsOf(create.ctx, [], buildRecords(model, inserted.map((r) => parseRow(model, r, 'n')!), true)));
    }
    if (updated.length && update.listening?.after) {
      await emitAfter(update.ctx, rowsOf(update.ctx, buildRecords(model, updated.map((r) => parseRow(model, r, 'o')!), true),
        buildRecords(model, updated.map((r) => parseRow(model, r, 'n')!), true)));
    }
    return result;
  }

  const keys = conflictKeys(model, options);
  const conflictWhere = options.conflictWhere ? qg.whereQuery(options.conflictWhere, options).replace(/^\s*WHERE\s+/i, '') : '';
  const lookup = conflictLookupSql(model, statement.tableName, keys, values, conflictWhere, qg);
  const query = { transaction: call.ctx.transaction, logging: options.logging, benchmark: options.benchmark };
  const { rows: existing } = await readLocked({ model, tableName: statement.tableName, conditions: lookup }, query);
  const existingById = new Map<string, Row>();
  for (const row of existing) for (const id of conflictIds(keys, row)) existingById.set(id, row);

  // Classify in the caller's order; a later duplicate of a key inserted earlier in the batch is skipped.
  const seen = new Set<string>();
  const inserts: number[] = [];
  const updates: { index: number; old: Row }[] = [];
  values.forEach((v, index) => {
    const ids = conflictIds(keys, v);
    const old = ids.map((id) => existingById.get(id)).find(Boolean);
    if (old) {
      if (updating) updates.push({ index, old });
    } else if (!ids.some((id) => seen.has(id))) {
      inserts.push(index);
    }
    for (const id of ids) seen.add(id);
  });

  const updateFields = updating ? (options.updateOnDuplicate as string[]).map((c) => attributeOfColumn(model, c) ?? c) : [];
  const created = buildRecords(model, inserts.map((i) => values[i]!));
  const oldRecords = buildRecords(model, updates.map((u) => u.old));
  const proposed = buildRecords(model, updates.map((u) => ({ ...u.old, ...Object.fromEntries(updateFields.map((a) => [a, values[u.index]![a]])) })));
  const createSnapshots = created.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
  const updateSnapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
  for (const phase of ['validate', 'before'] as const) {
    if (phase === 'validate' && options.bypassValidation === true) continue;
    if (created.length && create.listening?.before) await emit(create.ctx, eventName(phase, 'Create'), rowsOf(create.ctx, [], created));
    if (proposed.length && update.listening?.before) await emit(update.ctx, eventName(phase, 'Update'), rowsOf(update.ctx, oldRecords, proposed));
  }
  created.forEach((p, n) => writeBack(model, records[inserts[n]!]!, editsOf(instanceInternals(p).dataValues, createSnapshots[n]!, attributes)));
  const laterEdits = proposed.map((p, n) => {
    const edits = editsOf(instanceInternals(p).dataValues, updateSnapshots[n]!, attributes);
    const inRow = Object.fromEntries(Object.entries(edits).filter(([a]) => updateFields.includes(a)));
    writeBack(model, records[updates[n]!.index]!, inRow);
    return Object.fromEntries(Object.entries(edits).filter(([a]) => !updateFields.includes(a)));
  });

  const tap = new StatementTap({
    type: 'INSERT', callerReturns,
    returning: `${selectList(model, qg, 'n')}, xmax AS ${qg.quoteIdentifier(aliasOf('x', 0))}`,
  });
  const result = await send(tap);
  const returned = tap.rows ?? [];
  const insertedRows = returned.filter((r) => String(r[aliasOf('x', 0)]) === '0').map((r) => parseRow(model, r, 'n')!);
  const updatedRows = returned.filter((r) => String(r[aliasOf('x', 0)]) !== '0').map((r) => parseRow(model, r, 'n')!);
  if (insertedRows.length !== inserts.length || updatedRows.length !== updates.length) {
    throw new ConcurrentWriteError(
      `${model.name}.bulkCreate: a concurrent writer changed which rows conflict between the locked lookup and the write `
        + `(${inserts.length} inserts and ${updates.length} updates expected, ${insertedRows.length} and ${updatedRows.length} happened); `
        + 'nothing was written. Retry the call.',
      { modelName: model.name, event: 'afterCreate' },
    );
  }
  // Update-receiver edits beyond what updateOnDuplicate carried: one more statement.
  const writes = updates.map((_, n) => ({ key: keyRowOf(model, updatedRows[n]!), set: laterEdits[n]! })).filter((w) => Object.keys(w.set).length > 0);
  if (writes.length > 0) {
    const edited = await updateRowsFromValues(model, writes, { transaction: call.ctx.transaction, logging: options.logging, tableName: statement.tableName });
    const byKey = new Map(edited.filter((r): r is Row => Boolean(r)).map((r) => [keyOf(model, r), r]));
    updatedRows.forEach((r, n) => { updatedRows[n] = byKey.get(keyOf(model, r)) ?? r; });
    patchReturned(model, result, byKey, writes.map((w) => w.set));
  }
  if (insertedRows.length && create.listening?.after) await emitAfter(create.ctx, rowsOf(create.ctx, [], buildRecords(model, insertedRows, true)));
  if (updatedRows.length && update.listening?.after) {
    // Before receivers had the old records: after receivers get their own.
    const olds = update.listening.before ? buildRecords(model, updates.map((u) => u.old)) : oldRecords;
    await emitAfter(update.ctx, rowsOf(update.ctx, olds, buildRecords(model, updatedRows, true)));
  }
  return result;
}

function keyRowOf(model: ModelStatic<Model>, row: Row): Row {
  return Object.fromEntries(internals(model).primaryKeyAttributes.map((a) => [a, row[a]]));
}

/** The rows Sequelize copies into its instances, with the edited columns as written. */
function patchReturned(model: ModelStatic<Model>, result: unknown, edited: Map<string, Row>, sets: Row[]): void {
  if (!Array.isArray(result)) return;
  const edits = new Set(sets.flatMap((s) => Object.keys(s)));
  for (const item of result as Row[]) {
    const row = edited.get(keyOf(model, columnsToAttributes(model, item)));
    if (!row) continue;
    for (const a of edits) if (columnOf(model, a) in item) item[columnOf(model, a)] = row[a];
  }
}

export type { AnyOptions };

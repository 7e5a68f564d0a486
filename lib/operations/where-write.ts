import { Op, literal, type Model, type ModelStatic, type Transaction, type WhereOptions } from 'sequelize';
import type { WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import { instanceInternals, serverMajor, type InstanceInternals, type QueryGenerator, type Row } from '../internals';
import { changedBetween, copyValue, copyValues, sameValue } from '../data/diff';
import { aliasOf, lockedSelectSql, parseRow, readLocked, selectList, type LockTarget } from '../data/locked-read';
import { CTID, columnsToAttributes, hasPrimaryKey, identityOf, keyOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { generatorFor, identityIn, identitySql } from '../data/sql';
import { updateRowsFromValues, type RowWrite } from '../data/update-from-values';
import { StatementTap } from '../statement-tap';
import { destroyCascades, listeningCascades } from './cascade';
import { debugLog } from '../debug';

/**
 * One where-based statement as Sequelize's query interface receives it (`bulkUpdate`, `bulkDelete`,
 * `increment`/`decrement`): Sequelize has already applied its option checks, scopes, the paranoid clause and
 * every user hook, so this is the statement it decided to send. The library reads the rows it matches, locked,
 * and narrows it to them by adding a key restriction to Sequelize's own `where`.
 */
export interface WhereStatement {
  /** Sequelize's query type for the statement (what the tap waits for). */
  readonly type: 'BULKUPDATE' | 'BULKDELETE' | 'UPDATE';
  readonly tableName: unknown;
  /** Sequelize's final `where`, keyed by column. */
  readonly where: WhereOptions | undefined;
  /** The same `where` as SQL, rendered the way the statement renders it. */
  readonly conditions: string;
  /** At most this many rows (a delete's `limit`). */
  readonly limit?: number | undefined;
  /** Whether Sequelize's own statement returns rows (`returning`). */
  readonly callerReturns: boolean;
  /** A TRUNCATE: the whole table, no `where` to narrow. */
  readonly truncate?: boolean;
  /** Updates: the values every row gets, keyed by attribute; SQL expressions are listed in `expressions`. */
  readonly values: Row;
  readonly expressions: readonly string[];
  /** SQL that computes, on the locked row, what some expression attributes become (increment's arithmetic). */
  readonly predictions?: Readonly<Record<string, string>>;
  /** Logging options of the caller, for the library's own statements. */
  readonly logging: { logging?: unknown; benchmark?: unknown };
  /** Sends Sequelize's statement with `where` narrowed and the tap in its options. */
  send(where: WhereOptions | undefined, tap: StatementTap | undefined): Promise<unknown>;
}

/** Sequelize's `where` plus `restriction` (never replacing it). */
function narrowed(where: WhereOptions | undefined, restriction: ReturnType<typeof literal>): WhereOptions {
  return where === undefined ? restriction : { [Op.and]: [where, restriction] };
}

/** Splits a statement's values (keyed by column, as Sequelize passes them) into plain values and expressions. */
export function splitValues(model: ModelStatic<Model>, columnValues: Row, isExpression: (v: unknown) => boolean): { values: Row; expressions: string[] } {
  const byAttribute = columnsToAttributes(model, columnValues);
  const values: Row = {};
  const expressions: string[] = [];
  for (const [attribute, value] of Object.entries(byAttribute)) {
    if (isExpression(value)) expressions.push(attribute);
    else values[attribute] = value;
  }
  return { values, expressions };
}

/** Whether the statement changes what identifies a row (a primary key, or any column of a key-less table). */
function movesIdentity(model: ModelStatic<Model>, statement: WhereStatement): boolean {
  if (!hasPrimaryKey(model)) return true;
  return identityOf(model).some((a) => a in statement.values || statement.expressions.includes(a));
}

/** Runs one where-based statement for a signalled call: see `WhereStatement`. */
export async function writeWhere(call: WriteCall, statement: WhereStatement): Promise<unknown> {
  const model = call.model;
  const listening = call.listening!;
  const pg18 = serverMajor(model.sequelize!) >= 18;
  const deleting = call.ctx.family === 'Delete';
  const cascades = deleting && statement.type === 'BULKDELETE' ? listeningCascades(model) : [];
  const single = !listening.before && call.chunkSize === undefined && !statement.truncate && cascades.length === 0
    && (pg18 || statement.type === 'BULKDELETE' || !movesIdentity(model, statement));
  if (debugLog.call.enabled) {
    const how = single ? `one statement (${statement.type === 'BULKDELETE' ? 'DELETE … RETURNING' : pg18 ? 'RETURNING old.*, new.*' : 'data-modifying CTE'})`
      : call.chunkSize !== undefined ? `locked read in chunks of ${call.chunkSize}` : statement.truncate ? 'LOCK TABLE, read, TRUNCATE' : 'locked read, then the statement';
    debugLog.call('%s.%s (%s): %s', model.name, call.ctx.operation, call.ctx.family.toLowerCase(), how);
  }
  return single ? writeInOneStatement(call, statement, pg18) : writeLocked(call, statement, pg18, cascades);
}

/**
 * After receivers only: one statement locks the rows (in identity order, the order every writer uses, so
 * concurrent multi-row writes cannot deadlock), writes them and returns each row's old and new version —
 * `RETURNING old.*, new.*` on PostgreSQL 18, a data-modifying CTE before it, `DELETE … RETURNING` for deletes.
 */
async function writeInOneStatement(call: WriteCall, statement: WhereStatement, pg18: boolean): Promise<unknown> {
  const model = call.model;
  const qg = generatorFor(model);
  const target: LockTarget = { model, tableName: statement.tableName, conditions: statement.conditions };
  const ids = identitySql(model, qg);
  const tuple = (list: string[]) => (list.length === 1 ? list[0]! : `(${list.join(', ')})`);
  const idAliases = identityOf(model).map((a) => qg.quoteIdentifier(aliasOf('o', a === CTID ? 'ctid' : storedAttributes(model).indexOf(a))));
  const orderByOld = idAliases.join(', ');
  let tap: StatementTap;
  let restriction: ReturnType<typeof literal>;
  if (statement.type === 'BULKDELETE') {
    restriction = literal(`${tuple(ids)} IN (${lockedSelectSql(target, 'o', { limit: statement.limit }, ids.join(', '))})`);
    tap = new StatementTap({
      type: statement.type, callerReturns: false, returning: selectList(model, qg, 'o'),
      wrap: (sql) => `WITH d AS (${sql}) SELECT * FROM d ORDER BY ${orderByOld}`,
    });
  } else if (pg18) {
    restriction = literal(`${tuple(ids)} IN (${lockedSelectSql(target, 'o', { limit: statement.limit }, ids.join(', '))})`);
    tap = new StatementTap({
      type: statement.type, callerReturns: statement.callerReturns,
      returning: `${selectList(model, qg, 'o', 'old.')}, ${selectList(model, qg, 'n', 'new.')}`,
      wrap: (sql) => `WITH n AS (${sql}) SELECT * FROM n ORDER BY ${orderByOld}`,
    });
  } else {
    // The UPDATE must read `o`, or PostgreSQL may run it before `o` and the locked read would miss the rows
    // it already changed; `o`'s FOR UPDATE returns the newest version of each row, the one the UPDATE replaces.
    restriction = literal(`${tuple(ids)} IN (SELECT ${idAliases.join(', ')} FROM o)`);
    const newIds = identityOf(model).map((a) => qg.quoteIdentifier(aliasOf('n', storedAttributes(model).indexOf(a))));
    const join = idAliases.map((o, i) => `o.${o} = n.${newIds[i]}`).join(' AND ');
    tap = new StatementTap({
      type: statement.type, callerReturns: statement.callerReturns, returning: selectList(model, qg, 'n'),
      wrap: (sql) => `WITH o AS (${lockedSelectSql(target, 'o', { limit: statement.limit })}), n AS (${sql}) `
        + `SELECT n.*, o.* FROM n JOIN o ON ${join} ORDER BY ${idAliases.map((a) => `o.${a}`).join(', ')}`,
    });
  }
  const result = await statement.send(narrowed(statement.where, restriction), tap);
  const returned = inCallerOrder(call, tap.rows ?? [], (r) => parseRow(model, r, 'o')!);
  if (debugLog.call.enabled) debugLog.call('%s.%s: %d row(s) written', model.name, call.ctx.operation, returned.length);
  if (returned.length > 0 && call.listening!.after) {
    const olds = buildRecords(model, returned.map((r) => parseRow(model, r, 'o')!), true);
    const news = call.ctx.family === 'Update' ? buildRecords(model, returned.map((r) => parseRow(model, r, 'n')!), true) : [];
    await emitAfter(call.ctx, rowsOf(call.ctx, olds, news));
  }
  return result;
}

/**
 * Before receivers (or chunks, cascades, a TRUNCATE): read the rows locked first, run validate/before receivers
 * on the proposed new rows, send Sequelize's statement narrowed to the locked rows, write per-row receiver
 * edits in one more statement, then run after receivers with the database's values.
 */
async function writeLocked(call: WriteCall, statement: WhereStatement, pg18: boolean, cascades: ReturnType<typeof listeningCascades>): Promise<unknown> {
  const model = call.model;
  const query = { transaction: call.ctx.transaction, ...statement.logging };
  const target: LockTarget = { model, tableName: statement.tableName, conditions: statement.truncate ? '' : statement.conditions };
  if (statement.truncate) await lockTable(model, statement.tableName, query);
  const results: unknown[] = [];
  let remaining = statement.limit ?? undefined;
  let after: Row | undefined;
  for (;;) {
    const limit = call.chunkSize === undefined ? remaining : Math.min(call.chunkSize, remaining ?? Infinity);
    const locked = await readLocked(target, query, { limit, after, predictions: statement.predictions });
    if (debugLog.call.enabled) debugLog.call('%s.%s: %d row(s) read locked', model.name, call.ctx.operation, locked.rows.length);
    if (locked.rows.length === 0 && results.length > 0) break;
    results.push(await writeBatch(call, statement, locked.rows, locked.predicted, pg18, cascades));
    if (call.chunkSize === undefined || locked.rows.length < limit!) break;
    if (remaining !== undefined && (remaining -= locked.rows.length) <= 0) break;
    after = locked.rows[locked.rows.length - 1];
  }
  return results.length === 1 ? results[0] : combine(results);
}

/** Rows in the caller's order when the call was made for a list (bulkDestroy); identity order otherwise. */
function inCallerOrder<T>(call: WriteCall, rows: T[], row: (item: T) => Row): T[] {
  if (!call.order) return rows;
  const rank = new Map(call.order.map((key, i) => [key, i]));
  return [...rows].sort((a, b) => (rank.get(keyOf(call.model, row(a))) ?? 0) - (rank.get(keyOf(call.model, row(b))) ?? 0));
}

/** Joins chunked statement results as Sequelize would have returned one: counts add up, row lists concatenate. */
function combine(results: unknown[]): unknown {
  if (results.every((r) => typeof r === 'number')) return (results as number[]).reduce((a, b) => a + b, 0);
  return results.flatMap((r) => (Array.isArray(r) ? r : []));
}

/** `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` before a TRUNCATE's read: no row can be added between read and truncate. */
async function lockTable(model: ModelStatic<Model>, tableName: unknown, query: { transaction: Transaction; logging?: unknown }): Promise<void> {
  await model.sequelize!.query(`LOCK TABLE ${generatorFor(model).quoteTable(tableName)} IN ACCESS EXCLUSIVE MODE`, {
    transaction: query.transaction, ...(query.logging === undefined ? {} : { logging: query.logging as never }),
  });
}

async function writeBatch(
  call: WriteCall,
  statement: WhereStatement,
  oldRows: Row[],
  predicted: Row[],
  pg18: boolean,
  cascades: ReturnType<typeof listeningCascades>,
): Promise<unknown> {
  const { ctx, listening } = call;
  const model = call.model;
  const qg = generatorFor(model);
  const updating = ctx.family === 'Update';
  const attributes = storedAttributes(model);
  const oldRecords = buildRecords(model, updating ? oldRows : inCallerOrder(call, oldRows, (r) => r));

  let edits: Row[] = [];
  if (listening!.before && oldRows.length > 0) {
    const proposed = updating ? propose(model, oldRows, predicted, statement) : [];
    const snapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
    await emitBefore(ctx, updating
      ? { oldRecords, newRecords: proposed, changedFields: proposedChanges(model, oldRecords, proposed, statement) }
      : rowsOf(ctx, oldRecords, []));
    edits = proposed.map((p, i) => editsOf(instanceInternals(p).dataValues, snapshots[i]!, attributes));
  }
  if (cascades.length > 0 && oldRows.length > 0) await destroyCascades(cascades, oldRows, ctx.transaction, ctx.options);

  const wantsNew = updating && (listening!.after || edits.some((e) => Object.keys(e).length > 0));
  const trackOld = wantsNew && pg18 && movesIdentity(model, statement);
  const tap = statement.truncate ? undefined : new StatementTap({
    type: statement.type,
    callerReturns: statement.callerReturns,
    ...(wantsNew ? { returning: trackOld ? `${identityReturning(model, qg)}, ${selectList(model, qg, 'n', 'new.')}` : selectList(model, qg, 'n') } : {}),
  });
  const restriction = identityIn(model, oldRows, qg);
  const result = await statement.send(statement.truncate ? statement.where : narrowed(statement.where, restriction), tap);
  if (!updating) {
    const olds = listening!.before ? buildRecords(model, inCallerOrder(call, oldRows, (r) => r)) : oldRecords;
    if (oldRows.length > 0 && listening!.after) await emitAfter(ctx, rowsOf(ctx, olds, []));
    return result;
  }
  if (!wantsNew) return result;

  const returned = tap?.rows ?? [];
  const pairs = pairRows(model, statement, oldRows, returned, trackOld);
  const newRows = returned.map((r) => parseRow(model, r, 'n')!);
  const writes: RowWrite[] = [];
  const writtenAt: number[] = [];
  for (const [i, j] of pairs) {
    const set = edits[i];
    if (!set || Object.keys(set).length === 0) continue;
    writes.push({ key: identityRow(model, newRows[j]!), set });
    writtenAt.push(j);
  }
  if (writes.length > 0) {
    const edited = await updateRowsFromValues(model, writes, { transaction: ctx.transaction, logging: statement.logging.logging, tableName: statement.tableName });
    edited.forEach((row, n) => {
      if (!row) return;
      const j = writtenAt[n]!;
      patchResult(model, result, newRows[j]!, row, writes[n]!.set);
      newRows[j] = row;
    });
  }
  if (listening!.after && pairs.length > 0) {
    // Before receivers had the old records: after receivers get their own.
    const olds = pairs.length === oldRows.length && !listening!.before ? oldRecords : buildRecords(model, pairs.map(([i]) => oldRows[i]!));
    const news = buildRecords(model, pairs.map(([, j]) => newRows[j]!), true);
    await emitAfter(ctx, rowsOf(ctx, olds, news));
  }
  return result;
}

/** The identity attributes of a row. */
function identityRow(model: ModelStatic<Model>, row: Row): Row {
  return Object.fromEntries(identityOf(model).map((a) => [a, row[a]]));
}

/** `old.<identity> AS "__bso_…"` — on PostgreSQL 18 a statement that moves identities still pairs exactly. */
function identityReturning(model: ModelStatic<Model>, qg: QueryGenerator): string {
  const attributes = storedAttributes(model);
  return identityOf(model).map((a) => (a === CTID
    ? `old.ctid AS ${qg.quoteIdentifier(aliasOf('o', 'ctid'))}`
    : `${identitySql(model, qg, 'old.')[identityOf(model).indexOf(a)]} AS ${qg.quoteIdentifier(aliasOf('o', attributes.indexOf(a)))}`)).join(', ');
}

/**
 * Pairs locked old rows with the rows the statement returned, as `[oldIndex, returnedIndex]` in the locked
 * read's order. By identity when it did not move; by the old identity PostgreSQL 18 returns when it did; before
 * 18, by the identity the plain values give, else by every attribute the statement did not set (rows alike in
 * all of those are interchangeable for the payload when only plain values were set).
 */
function pairRows(model: ModelStatic<Model>, statement: WhereStatement, oldRows: Row[], returned: Row[], trackOld: boolean): [number, number][] {
  const ids = identityOf(model);
  const moves = movesIdentity(model, statement);
  let newKey: (r: Row) => string;
  let oldKey: (r: Row) => string;
  if (!moves) {
    oldKey = (r) => keyOf(model, r);
    newKey = (r) => keyOf(model, parseRow(model, r, 'n')!);
  } else if (trackOld) {
    oldKey = (r) => keyOf(model, r);
    newKey = (r) => keyOf(model, parseRow(model, r, 'o')!);
  } else if (hasPrimaryKey(model) && ids.every((a) => !statement.expressions.includes(a))) {
    oldKey = (r) => keyOf(model, { ...r, ...Object.fromEntries(ids.filter((a) => a in statement.values).map((a) => [a, statement.values[a]])) });
    newKey = (r) => keyOf(model, parseRow(model, r, 'n')!);
  } else {
    const unchanged = storedAttributes(model).filter((a) => !(a in statement.values) && !statement.expressions.includes(a));
    const signature = (r: Row) => JSON.stringify(unchanged.map((a) => r[a] instanceof Date ? (r[a] as Date).getTime() : r[a]));
    oldKey = signature;
    newKey = (r) => signature(parseRow(model, r, 'n')!);
  }
  const byKey = new Map<string, number[]>();
  returned.forEach((r, j) => {
    const k = newKey(r);
    const list = byKey.get(k);
    if (list) list.push(j);
    else byKey.set(k, [j]);
  });
  const pairs: [number, number][] = [];
  oldRows.forEach((r, i) => {
    const j = byKey.get(oldKey(r))?.shift();
    if (j !== undefined) pairs.push([i, j]);
  });
  return pairs;
}

/**
 * New rows as the statement is expected to leave them: the locked old row plus the values Sequelize is about
 * to write (its setters, timestamps and user hooks already applied) and any predicted expression values.
 */
function propose(model: ModelStatic<Model>, oldRows: readonly Row[], predicted: readonly Row[], statement: WhereStatement): Model[] {
  const rows = oldRows.map((row, i) => ({ ...row, ...predicted[i], ...statement.values }));
  return buildRecords(model, rows);
}

/** `changedFields` of a before phase: what differs from the old rows, plus expression attributes (not known yet). */
function proposedChanges(model: ModelStatic<Model>, olds: readonly Model[], proposed: readonly Model[], statement: WhereStatement): string[] {
  const changed = new Set([...changedBetween(olds, proposed, storedAttributes(model)), ...statement.expressions]);
  return storedAttributes(model).filter((a) => changed.has(a));
}

/** What a before receiver changed on one proposed row, relative to the proposal. */
export function editsOf(values: Row, snapshot: Row, attributes: readonly string[]): Row {
  const set: Row = {};
  for (const a of attributes) if (!sameValue(snapshot[a], values[a])) set[a] = values[a];
  return set;
}

/**
 * Sequelize's own result for a `returning` call, with the row a receiver edited showing the written values
 * (only the edited attributes the caller's result carries).
 */
function patchResult(model: ModelStatic<Model>, result: unknown, written: Row, edited: Row, set: Row): void {
  if (!Array.isArray(result)) return;
  const key = keyOf(model, written);
  for (const item of result as unknown[]) {
    if (item === null || typeof item !== 'object') continue;
    const instance = item as Partial<InstanceInternals>;
    const values = instance.dataValues ?? (item as Row);
    if (keyOf(model, values) !== key) continue;
    for (const a of Object.keys(set)) {
      if (!(a in values)) continue;
      values[a] = edited[a];
      if (instance._previousDataValues) instance._previousDataValues[a] = copyValue(edited[a]);
    }
  }
}

import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import { valuesOf, type InstanceInternals, type QueryGenerator, type Row } from '../internals';
import { changedBetween, copyValue, copyValues } from '../data/diff';
import {
  attributeAlias,
  overParser,
  parseRow,
  readLocked,
  selectList,
  selectListOf,
  type LockTarget,
  type Side,
} from '../data/locked-read';
import { learnQuiet, probeColumn, quietReturned } from '../data/quiet-tables';
import { CTID, hasPrimaryKey, identityOf, keyOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { generatorFor, identityIn, identitySql, indistinctRows } from '../data/sql';
import { ConcurrentWriteError } from '../errors';
import { isInherited } from '../inheritance/chain';
import type { DescendantSignals } from '../inheritance/descendants';
import { updateRowsFromValues, type RowWrite } from '../data/update-from-values';
import { rereadRows } from '../data/reread';
import { dialectFor } from '../dialect';
import { StatementTap } from '../statement-tap';
import { destroyCascades, type CascadingAssociation } from './cascade';
import { debugLog } from '../debug';
import { editsOf, inCallerOrder, movesIdentity, narrowed, type WhereStatement } from './where-write';

/** One call's locked path: what every batch (chunk) shares. */
interface Locked {
  readonly call: WriteCall;
  readonly model: ModelStatic<Model>;
  readonly statement: WhereStatement;
  readonly pg18: boolean;
  /** Whether the dialect's statements return the rows they wrote (the statement tap); if not, they are read again. */
  readonly taps: boolean;
  readonly cascades: readonly CascadingAssociation[];
  /** Rows without identity (see `indistinctRows`): the statement is sent as Sequelize made it. */
  readonly indistinct: boolean;
  /** Descendants (`inherit`) whose receivers listen, for the written rows that are theirs. */
  readonly descendants: DescendantSignals;
}

/**
 * Before receivers (or chunks, cascades, a TRUNCATE): read the rows locked first, run validate/before receivers
 * on the proposed new rows, send Sequelize's statement narrowed to the locked rows, write per-row receiver
 * edits in one more statement, then run after receivers with the database's values.
 */
export async function writeLocked(
  call: WriteCall,
  statement: WhereStatement,
  pg18: boolean,
  cascades: readonly CascadingAssociation[],
  descendants: DescendantSignals,
): Promise<unknown> {
  const l: Locked = {
    descendants,
    call,
    model: call.model,
    statement,
    pg18,
    // A child model's statement is several, one per table: its rows are read again through the join.
    taps: dialectFor(call.model).tapsStatements && !isInherited(call.model),
    cascades,
    indistinct: indistinctRows(call.model),
  };
  const query = { transaction: call.ctx.transaction, ...statement.logging };
  if (statement.truncate) await lockTable(l.model, statement.tableName, query);
  const target: LockTarget = { model: l.model, tableName: statement.tableName, conditions: statement.truncate ? '' : statement.conditions };
  const results: unknown[] = [];
  for (let chunk: Chunk | undefined = firstChunk(l); chunk; chunk = nextChunk(l, chunk)) {
    const locked = await readChunk(l, target, query, chunk);
    if (locked.rows.length === 0 && results.length > 0) break;
    results.push(await writeBatch(l, locked.rows, locked.predicted));
    chunk.read = locked.rows;
  }
  return results.length === 1 ? results[0] : combine(results);
}

/** A chunk's locked read; the quiet-table probe rides in it until the table is known. */
async function readChunk(l: Locked, target: LockTarget, query: Parameters<typeof readLocked>[1], chunk: Chunk) {
  const { statement } = l;
  const probe = probeColumn(l.model, statement.tableName);
  const locked = await readLocked(target, query, { limit: chunk.limit, after: chunk.after, predictions: statement.predictions, probe });
  if (probe) learnQuiet(l.model, statement.tableName, locked.probe);
  if (debugLog.call.enabled) debugLog.call('%s.%s: %d row(s) read locked', l.model.name, l.call.ctx.operation, locked.rows.length);
  return locked;
}

/** One chunk of the keyset loop: at most `limit` rows after `after` (all rows, without chunks). */
interface Chunk {
  readonly limit: number | undefined;
  readonly after: Row | undefined;
  readonly remaining: number | undefined;
  read?: Row[];
}

function firstChunk(l: Locked): Chunk {
  const remaining = l.statement.limit ?? undefined;
  return { limit: chunkLimit(l, remaining), after: undefined, remaining };
}

function chunkLimit(l: Locked, remaining: number | undefined): number | undefined {
  return l.call.chunkSize === undefined ? remaining : Math.min(l.call.chunkSize, remaining ?? Infinity);
}

/** The next chunk, or none: without chunks, after a short chunk, or once a delete's `limit` is used up. */
function nextChunk(l: Locked, chunk: Chunk): Chunk | undefined {
  const read = chunk.read ?? [];
  if (l.call.chunkSize === undefined || read.length < chunk.limit!) return undefined;
  const remaining = chunk.remaining === undefined ? undefined : chunk.remaining - read.length;
  if (remaining !== undefined && remaining <= 0) return undefined;
  return { limit: chunkLimit(l, remaining), after: read[read.length - 1], remaining };
}

/** Joins chunked statement results as Sequelize would have returned one: counts add up, row lists concatenate. */
function combine(results: unknown[]): unknown {
  if (results.every((r) => typeof r === 'number')) return results.reduce((a, b) => a + b, 0);
  return results.flatMap((r) => (Array.isArray(r) ? (r as unknown[]) : []));
}

/** `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` before a TRUNCATE's read: no row can be added between read and truncate. */
async function lockTable(
  model: ModelStatic<Model>,
  tableName: unknown,
  query: { transaction: Transaction; logging?: unknown },
): Promise<void> {
  const sql = dialectFor(model).lockTableSql(generatorFor(model).quoteTable(tableName));
  if (!sql) return;
  await model.sequelize!.query(sql, {
    transaction: query.transaction,
    ...(query.logging === undefined ? {} : { logging: query.logging as never }),
  });
}

/**
 * The before phase of a batch, with the edits receivers made per row: descendants' receivers first (`inherit`;
 * their edits to this model's attributes join its own), then this model's (when before receivers listen).
 */
async function editsOfBatch(l: Locked, oldRows: Row[], predicted: Row[]): Promise<Row[]> {
  if (oldRows.length === 0) return [];
  await l.descendants.read(oldRows);
  const preEdits = await l.descendants.before(l.call.ctx.family, (i) => ({ ...predicted[i], ...l.statement.values }));
  return l.call.listening!.before ? beforeBatch(l, oldRows, predicted, preEdits) : preEdits;
}

/** One batch of locked rows: before phase, cascades, the statement, edits, after phase. */
async function writeBatch(l: Locked, oldRows: Row[], predicted: Row[]): Promise<unknown> {
  const edits = await editsOfBatch(l, oldRows, predicted);
  if (l.call.ctx.family !== 'Update') return deleteBatch(l, oldRows);
  const listening = l.call.listening;
  const wantsNew = listening!.after || edits.some((e) => Object.keys(e).length > 0);
  const trackOld = wantsNew && l.pg18 && movesIdentity(l.model, l.statement);
  const only = returnedAttributes(l, trackOld);
  const tap = tapFor(l, wantsNew, trackOld, only);
  const result = await l.statement.send(narrowedTo(l, oldRows), tap);
  if (!wantsNew) {
    await l.descendants.finishUpdate();
    return result;
  }
  // No RETURNING: receivers' edits, then the rows as both statements left them read by key.
  const written = l.taps
    ? { edits, returned: tap?.rows ?? [] }
    : { edits: [], returned: await editThenReread(l, oldRows, predicted, edits) };
  await afterBatch(l, { oldRows, ...written, trackOld, only, result });
  return result;
}

/** No RETURNING: receivers' edits first, then one read by key of the rows as both statements left them. */
async function editThenReread(l: Locked, oldRows: Row[], predicted: Row[], edits: Row[]): Promise<Row[]> {
  const keys = writtenKeys(l, oldRows, predicted);
  await writeEditsByKey(l, keys, edits);
  // An edit may move a key too.
  const ids = identityOf(l.model);
  const moved = keys.map((key, i) => ({
    ...key,
    ...Object.fromEntries(ids.filter((a) => a in (edits[i] ?? {})).map((a) => [a, edits[i]![a]])),
  }));
  return rereadWritten(l, moved);
}

/** Deletes (soft ones are UPDATEs): children first, then the statement; the locked rows are the rows removed. */
async function deleteBatch(l: Locked, oldRows: Row[]): Promise<unknown> {
  const { ctx, listening } = l.call;
  if (l.cascades.length > 0 && oldRows.length > 0) await destroyCascades(l.cascades, oldRows, ctx.transaction, ctx.options);
  const result = await l.statement.send(narrowedTo(l, oldRows), l.statement.truncate ? undefined : tapFor(l, false, false));
  checkCount(l, oldRows, result);
  if (oldRows.length > 0) await l.descendants.after('Delete');
  if (oldRows.length > 0 && listening!.after)
    await emitAfter(
      ctx,
      rowsOf(
        ctx,
        buildRecords(
          l.model,
          inCallerOrder(l.call, oldRows, (r) => r),
        ),
        [],
      ),
    );
  return result;
}

/**
 * Sequelize's `where` restricted to the locked rows — or as it is for a TRUNCATE, and for rows that cannot be told
 * apart (MariaDB/MySQL without a primary key), which the locked read's next-key locks hold still: the statement
 * then writes exactly what it read (checked by `checkCount`).
 */
function narrowedTo(l: Locked, oldRows: Row[]): ReturnType<typeof narrowed> | undefined {
  // A child model's tables are written by key alone (the where may name columns of any of them).
  if (isInherited(l.model)) return identityIn(l.model, oldRows, generatorFor(l.model));
  if (l.statement.truncate || l.indistinct) return l.statement.where;
  return narrowed(l.statement.where, identityIn(l.model, oldRows, generatorFor(l.model)));
}

/** An un-narrowed statement (rows without identity) must have removed exactly the rows locked. */
function checkCount(l: Locked, oldRows: Row[], result: unknown): void {
  if (!l.indistinct || l.statement.truncate || typeof result !== 'number' || result === oldRows.length) return;
  throw new ConcurrentWriteError(
    `${l.model.name}.${l.call.ctx.operation}: the statement removed ${result} row(s) where the locked read held ${oldRows.length}; ` +
      'rows without a primary key cannot be narrowed to the rows read, and another transaction changed which rows match ' +
      '(at READ COMMITTED). Nothing was signalled; retry, or run the call in a REPEATABLE READ transaction.',
    { modelName: l.model.name, event: `after${l.call.ctx.family}` },
  );
}

/**
 * The keys of the locked rows as the statement leaves them: the locked keys, with the plain values the statement
 * sets on a key, or the key expressions evaluated on the locked rows.
 */
function writtenKeys(l: Locked, oldRows: Row[], predicted: Row[]): Row[] {
  const ids = identityOf(l.model);
  const keyValue = (a: string, row: Row, i: number) =>
    a in l.statement.values ? l.statement.values[a] : a in (predicted[i] ?? {}) ? predicted[i]![a] : row[a];
  return oldRows.map((row, i) => Object.fromEntries(ids.map((a) => [a, keyValue(a, row, i)])));
}

/** Receivers' per-row edits by key, in one statement, where it returns nothing (the read by key follows). */
async function writeEditsByKey(l: Locked, keys: Row[], edits: Row[]): Promise<void> {
  const writes = keys.flatMap((key, i) => {
    const set = edits[i];
    return set && Object.keys(set).length > 0 ? [{ key, set }] : [];
  });
  if (writes.length === 0) return;
  await updateRowsFromValues(l.model, writes, {
    transaction: l.call.ctx.transaction,
    logging: l.statement.logging.logging,
    tableName: l.statement.tableName,
    readBack: false,
  });
}

/** Where the statement cannot return rows: the rows it wrote, read again by their keys as written. */
async function rereadWritten(l: Locked, keys: Row[]): Promise<Row[]> {
  const { logging, benchmark } = l.statement.logging;
  return rereadRows(l.model, l.statement.tableName, keys, {
    transaction: l.call.ctx.transaction,
    ...(logging === undefined ? {} : { logging: logging as never }),
    ...(benchmark === undefined ? {} : { benchmark: benchmark as boolean }),
  });
}

/** The tap of the batch's statement: new rows (and, when identities move on PostgreSQL 18, their old identity). */
function tapFor(l: Locked, wantsNew: boolean, trackOld: boolean, only?: string[]): StatementTap | undefined {
  const dialect = dialectFor(l.model);
  if (!l.taps) {
    const narrows = dialect.narrowedWrite && !l.indistinct && !isInherited(l.model);
    return narrows ? new StatementTap({ type: l.statement.type, callerReturns: false, narrowed: true }) : undefined;
  }
  const qg = generatorFor(l.model);
  const returning = !wantsNew
    ? undefined
    : trackOld
      ? `${identityReturning(l.model, qg)}, ${selectList(l.model, qg, 'n', 'new.')}`
      : only
        ? selectListOf(l.model, qg, 'n', only)
        : selectList(l.model, qg, 'n');
  return new StatementTap({ type: l.statement.type, callerReturns: l.statement.callerReturns, ...(returning ? { returning } : {}) });
}

/**
 * What the statement returns, decided once per batch: on a quiet table (see quiet-tables.ts) the key and the
 * attributes it sets, the rest of each new row being its locked old row; every attribute (`undefined`) where it
 * does not return its rows, or old identities are tracked (PostgreSQL 18, a statement that moves them).
 */
function returnedAttributes(l: Locked, trackOld: boolean): string[] | undefined {
  return l.taps && !trackOld ? quietReturned(l.model, l.statement) : undefined;
}

/** The rows the statement returned as whole new rows: returned attributes over the paired old rows where only some came back. */
function newRowsOf(l: Locked, w: Written, pairs: [number, number][]): Row[] {
  if (!w.only) return w.returned.map((r) => parseRow(l.model, r, 'n')!);
  const parse = overParser(l.model, 'n', w.only);
  const rows: Row[] = [];
  for (const [i, j] of pairs) rows[j] = parse(w.returned[j]!, w.oldRows[i]!);
  return rows;
}

/** Validate and before receivers; returns each row's edits (updates), nothing for deletes. */
async function beforeBatch(l: Locked, oldRows: Row[], predicted: Row[], preEdits: readonly Row[]): Promise<Row[]> {
  const { ctx } = l.call;
  if (ctx.family !== 'Update') {
    await emitBefore(
      ctx,
      rowsOf(
        ctx,
        buildRecords(
          l.model,
          inCallerOrder(l.call, oldRows, (r) => r),
        ),
        [],
      ),
    );
    return [];
  }
  const attributes = storedAttributes(l.model);
  const oldRecords = buildRecords(l.model, oldRows);
  const proposed = propose(l.model, oldRows, predicted, l.statement);
  const snapshots = proposed.map((p) => copyValues(valuesOf(p), attributes));
  preEdits.forEach((set, i) => Object.assign(valuesOf(proposed[i]!), set));
  const changedFields = proposedChanges(l.model, oldRecords, proposed, l.statement, [...predicted, ...preEdits]);
  await emitBefore(ctx, { oldRecords, newRecords: proposed, changedFields });
  return proposed.map((p, i) => editsOf(valuesOf(p), snapshots[i]!, attributes));
}

interface Written {
  readonly oldRows: Row[];
  readonly edits: Row[];
  readonly returned: Row[];
  readonly trackOld: boolean;
  /** The attributes the statement returned, where not all (a quiet table). */
  readonly only?: string[] | undefined;
  readonly result: unknown;
}

/** Pairs what the statement wrote with the locked rows, writes receivers' edits, runs after receivers. */
async function afterBatch(l: Locked, w: Written): Promise<void> {
  const pairs = pairRows(l.model, l.statement, w.oldRows, w.returned, w.trackOld);
  const newRows = newRowsOf(l, w, pairs);
  await writeEdits(l, pairs, w, newRows);
  // Descendants' edits and after receivers first (deepest first), with their rows as every write left them.
  await l.descendants.finishUpdate();
  if (!l.call.listening!.after || pairs.length === 0) return;
  const olds = buildRecords(
    l.model,
    pairs.map(([i]) => w.oldRows[i]!),
  );
  const news = buildRecords(
    l.model,
    pairs.map(([, j]) => newRows[j]!),
    true,
  );
  // On a quiet table the rest of each new row is its old row: only what the statement returned, and edits, can differ.
  const differing = w.only && [...w.only, ...new Set(w.edits.flatMap((e) => (e ? Object.keys(e) : [])))];
  await emitAfter(l.call.ctx, rowsOf(l.call.ctx, olds, news, differing));
}

/** Per-row receiver edits in one `UPDATE … FROM (VALUES …)`; `newRows` and the caller's result show them. */
async function writeEdits(l: Locked, pairs: [number, number][], w: Written, newRows: Row[]): Promise<void> {
  const writes: RowWrite[] = [];
  const writtenAt: number[] = [];
  for (const [i, j] of pairs) {
    const set = w.edits[i];
    if (!set || Object.keys(set).length === 0) continue;
    writes.push({ key: Object.fromEntries(identityOf(l.model).map((a) => [a, newRows[j]![a]])), set });
    writtenAt.push(j);
  }
  if (writes.length === 0) return;
  const edited = await updateRowsFromValues(l.model, writes, {
    transaction: l.call.ctx.transaction,
    logging: l.statement.logging.logging,
    tableName: l.statement.tableName,
  });
  edited.forEach((row, n) => {
    if (!row) return;
    const j = writtenAt[n]!;
    patchResult(l.model, w.result, newRows[j]!, row, writes[n]!.set);
    newRows[j] = row;
  });
}

/** `old.<identity> AS "__bso_…"` — on PostgreSQL 18 a statement that moves identities still pairs exactly. */
function identityReturning(model: ModelStatic<Model>, qg: QueryGenerator): string {
  const quoted = identitySql(model, qg, 'old.');
  return identityOf(model)
    .map((a, k) => `${a === CTID ? 'old.ctid' : quoted[k]} AS ${qg.quoteIdentifier(attributeAlias(model, 'o', a))}`)
    .join(', ');
}

/**
 * How a locked old row and a returned row are recognised as the same row: by identity when it did not move; by
 * the old identity PostgreSQL 18 returns when it did; before 18, by the identity the plain values give, else by
 * every attribute the statement did not set (rows alike in all of those are interchangeable for the payload
 * when only plain values were set).
 */
function pairingKeys(
  model: ModelStatic<Model>,
  statement: WhereStatement,
  trackOld: boolean,
): { oldKey: (r: Row) => string; newKey: (r: Row) => string } {
  const ids = identityOf(model);
  const byIdentity = (r: Row) => keyOf(model, r);
  if (!movesIdentity(model, statement)) return { oldKey: byIdentity, newKey: identityKeyOf(model, 'n') };
  if (trackOld) return { oldKey: byIdentity, newKey: identityKeyOf(model, 'o') };
  if (hasPrimaryKey(model) && ids.every((a) => !statement.expressions.includes(a))) {
    const set = Object.fromEntries(ids.filter((a) => a in statement.values).map((a) => [a, statement.values[a]]));
    return { oldKey: (r) => byIdentity({ ...r, ...set }), newKey: identityKeyOf(model, 'n') };
  }
  const unchanged = storedAttributes(model).filter((a) => !(a in statement.values) && !statement.expressions.includes(a));
  const signature = (r: Row) => JSON.stringify(unchanged.map((a) => (r[a] instanceof Date ? r[a].getTime() : r[a])));
  return { oldKey: signature, newKey: (r) => signature(parseRow(model, r, 'n')!) };
}

/** Pairs locked old rows with the rows the statement returned, as `[oldIndex, returnedIndex]` in the locked read's order. */
function pairRows(
  model: ModelStatic<Model>,
  statement: WhereStatement,
  oldRows: Row[],
  returned: Row[],
  trackOld: boolean,
): [number, number][] {
  const { oldKey, newKey } = pairingKeys(model, statement, trackOld);
  const byKey = new Map<string, number[]>();
  returned.forEach((r, j) => {
    const k = newKey(r);
    const at = byKey.get(k);
    if (at) at.push(j);
    else byKey.set(k, [j]);
  });
  const pairs: [number, number][] = [];
  oldRows.forEach((r, i) => {
    const j = byKey.get(oldKey(r))?.shift();
    if (j !== undefined) pairs.push([i, j]);
  });
  return pairs;
}

/** `keyOf` of a returned row (`side`'s aliases), reading only its identity columns. */
function identityKeyOf(model: ModelStatic<Model>, side: Side): (raw: Row) => string {
  const read = identityOf(model).map((a) => [a, attributeAlias(model, side, a)] as const);
  const dialect = dialectFor(model);
  return (raw) => {
    const row: Row = {};
    for (const [a, alias] of read) row[a] = a === CTID ? raw[alias] : dialect.readValue(model, a, raw[alias]);
    return keyOf(model, row);
  };
}

/**
 * New rows as the statement is expected to leave them: the locked old row plus the values Sequelize is about
 * to write (its setters, timestamps and user hooks already applied) and any predicted expression values.
 */
function propose(model: ModelStatic<Model>, oldRows: readonly Row[], predicted: readonly Row[], statement: WhereStatement): Model[] {
  return buildRecords(
    model,
    oldRows.map((row, i) => ({ ...row, ...predicted[i], ...statement.values })),
  );
}

/**
 * `changedFields` of a before phase: what differs from the old rows, plus expression attributes (not known yet).
 * Only what the proposal sets over its old row can differ (`statement.values`, and the attributes of `over`:
 * predicted expression values, descendants' edits); the rest is a copy of the old row.
 */
function proposedChanges(
  model: ModelStatic<Model>,
  olds: readonly Model[],
  proposed: readonly Model[],
  statement: WhereStatement,
  over: readonly Row[],
): string[] {
  const set = new Set(Object.keys(statement.values));
  for (const row of over) if (row) for (const a of Object.keys(row)) set.add(a);
  const attributes = storedAttributes(model);
  const changed = new Set([
    ...changedBetween(
      olds,
      proposed,
      attributes.filter((a) => set.has(a)),
    ),
    ...statement.expressions,
  ]);
  return attributes.filter((a) => changed.has(a));
}

/**
 * Sequelize's own result for a `returning` call, with the row a receiver edited showing the written values
 * (only the edited attributes the caller's result carries).
 */
function patchResult(model: ModelStatic<Model>, result: unknown, written: Row, edited: Row, set: Row): void {
  if (!Array.isArray(result)) return;
  const key = keyOf(model, written);
  for (const item of result as unknown[]) {
    const instance = item as Partial<InstanceInternals> | null;
    const values = instance?.dataValues ?? (item as Row | null);
    if (!values || typeof values !== 'object' || keyOf(model, values) !== key) continue;
    for (const a of Object.keys(set)) patchOne(instance!, values, a, edited[a]);
  }
}

function patchOne(instance: Partial<InstanceInternals>, values: Row, attribute: string, value: unknown): void {
  if (!(attribute in values)) return;
  values[attribute] = value;
  if (instance._previousDataValues) instance._previousDataValues[attribute] = copyValue(value);
}

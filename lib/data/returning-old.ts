import { Op, Utils, literal, type Model, type ModelStatic, type Sequelize, type WhereOptions } from 'sequelize';
import { columnOf, internals, storedAttributes } from './model-info';
import { generatorOf } from './sql';
import type { Row } from './records';

/**
 * One statement that updates rows and returns each row's old and new version, for after-only receivers.
 * The library asks Sequelize for a marker column in RETURNING and, just before the statement runs, rewrites
 * it — so Sequelize's whole `Model.update` pipeline (values, setters, timestamps, scopes, paranoid clause,
 * bulk hooks) still builds the UPDATE:
 *
 * - PostgreSQL ≥ 18: `UPDATE … RETURNING old.col AS …, new.col AS …`.
 * - older servers: `WITH o AS (SELECT … FOR UPDATE), n AS (UPDATE … RETURNING …) SELECT … FROM o JOIN n` — the
 *   CTE's `FOR UPDATE` returns the newest version of each row it locks, which is the version the UPDATE then
 *   replaces, so the old values are exact under concurrent writers too.
 *
 * Deletes need no trick: `DELETE … RETURNING` gives the old rows on every version.
 */
export const RETURNING_MARKER = '__bulk_signals_returning_marker__';
const REWRITE = Symbol.for('sequelize-bulk-signals/returning-rewrite@1');
const HOOK_NAME = 'sequelize-bulk-signals:returning-rewrite';

interface QueryGen {
  quoteIdentifier(id: string): string;
  quoteTable(table: unknown): string;
  selectQuery(table: unknown, options: object, model: ModelStatic<Model>): string;
}

type Rewrite = (sql: string, marker: string) => string;

function qgOf(model: ModelStatic<Model>): QueryGen {
  return generatorOf(model) as unknown as QueryGen;
}

/** The server's major version (Sequelize records it on its first connection). */
export function serverMajor(sequelize: Sequelize): number {
  const version = String((sequelize as unknown as { options: { databaseVersion?: unknown } }).options.databaseVersion ?? '0');
  return Number(version.split('.')[0]) || 0;
}

/** `where` with attribute names mapped to columns, as Sequelize's own queries see it. */
function mappedWhere(model: ModelStatic<Model>, where: WhereOptions | undefined): WhereOptions | undefined {
  const utils = Utils as unknown as { mapOptionFieldNames(o: object, m: unknown): { where?: WhereOptions }; cloneDeep<T>(x: T): T };
  return utils.mapOptionFieldNames({ where: utils.cloneDeep(where) }, model).where;
}

/** `SELECT <columns> FROM table AS "Model" WHERE … ORDER BY pk FOR UPDATE`, without the trailing semicolon. */
function lockingSelect(model: ModelStatic<Model>, where: WhereOptions | undefined, attributes: (string | [string, string])[]): string {
  const columns = internals(model).primaryKeyAttributes.map((pk) => columnOf(model, pk));
  return qgOf(model).selectQuery(model.getTableName(), {
    attributes,
    where: mappedWhere(model, where),
    order: columns.map((c) => [c, 'ASC']),
    lock: true,
  }, model).replace(/;\s*$/, '');
}

/**
 * `where` plus "the primary key is among the rows `where` matches, locked FOR UPDATE in primary-key order":
 * a plain UPDATE or DELETE locks rows in scan order, and concurrent multi-row writes in different orders
 * deadlock (the reliability spec saw it). The subquery locks first, in the order every writer uses.
 */
export function inPrimaryKeyLockOrder(model: ModelStatic<Model>, where: WhereOptions | undefined): WhereOptions {
  const qg = qgOf(model);
  const columns = internals(model).primaryKeyAttributes.map((pk) => columnOf(model, pk));
  const table = qg.quoteTable(model.getTableName());
  const keys = columns.map((c) => `${table}.${qg.quoteIdentifier(c)}`).join(', ');
  const locked = literal(`(${keys}) IN (${lockingSelect(model, where, columns)})`);
  return where === undefined ? locked : { [Op.and]: [where, locked] };
}

const alias = (qg: QueryGen, side: 'o' | 'n', i: number) => qg.quoteIdentifier(`__bs${side}_${i}`);

/**
 * Options for `Model.update` that make the beforeQuery hook turn its RETURNING marker into old and new
 * rows (see the module comment). `where` is the caller's where, for the CTE's locked read.
 */
export function updateReturningOldNew(model: ModelStatic<Model>, where: WhereOptions | undefined): Record<string | symbol, unknown> {
  const qg = qgOf(model);
  const columns = storedAttributes(model).map((a) => columnOf(model, a));
  let rewrite: Rewrite;
  if (serverMajor(model.sequelize!) >= 18) {
    const list = [
      ...columns.map((c, i) => `old.${qg.quoteIdentifier(c)} AS ${alias(qg, 'o', i)}`),
      ...columns.map((c, i) => `new.${qg.quoteIdentifier(c)} AS ${alias(qg, 'n', i)}`),
    ].join(', ');
    rewrite = (sql, marker) => replaceLast(sql, marker, `RETURNING ${list}`);
  } else {
    const table = qg.quoteTable(model.getTableName());
    const oldSelect = lockingSelect(model, where, columns.map((c, i) => [c, `__bso_${i}`]));
    const newList = columns.map((c, i) => `${table}.${qg.quoteIdentifier(c)} AS ${alias(qg, 'n', i)}`).join(', ');
    const pkIndexes = internals(model).primaryKeyAttributes.map((pk) => storedAttributes(model).indexOf(pk));
    const join = pkIndexes.map((i) => `o.${alias(qg, 'o', i)} = n.${alias(qg, 'n', i)}`).join(' AND ');
    const out = columns.flatMap((_, i) => [`o.${alias(qg, 'o', i)}`, `n.${alias(qg, 'n', i)}`]).join(', ');
    // The UPDATE must read `o`, or PostgreSQL may run it before `o` and the locked read would skip the rows
    // the UPDATE already changed. Sequelize renders the where (an Op.and of two) as one parenthesised
    // expression right before RETURNING, so an appended AND binds to all of it.
    const pkColumns = pkIndexes.map((i) => `${table}.${qg.quoteIdentifier(columns[i]!)}`).join(', ');
    const pkAliases = pkIndexes.map((i) => alias(qg, 'o', i)).join(', ');
    const fromOld = `AND (${pkColumns}) IN (SELECT ${pkAliases} FROM o) RETURNING ${newList}`;
    rewrite = (sql, marker) => `WITH o AS (${oldSelect}), n AS (${replaceLast(sql, marker, fromOld)}) `
      + `SELECT ${out} FROM o JOIN n ON ${join}`;
  }
  return { returning: [RETURNING_MARKER], [REWRITE]: rewrite };
}

/** Options for `Model.destroy` (a hard delete) that make it return the deleted rows: `DELETE … RETURNING`. */
export function deleteReturningOld(model: ModelStatic<Model>): Record<string | symbol, unknown> {
  const qg = qgOf(model);
  const list = storedAttributes(model).map((a, i) => `${qg.quoteIdentifier(columnOf(model, a))} AS ${alias(qg, 'o', i)}`).join(', ');
  const rewrite: Rewrite = (sql) => `${sql.replace(/;\s*$/, '')} RETURNING ${list}`;
  return { [REWRITE]: rewrite, [RETURNS_ROWS]: true };
}
const RETURNS_ROWS = Symbol.for('sequelize-bulk-signals/returns-rows@1');

function replaceLast(sql: string, marker: string, replacement: string): string {
  const at = sql.lastIndexOf(marker);
  if (at < 0) throw new Error(`sequelize-bulk-signals: expected ${marker} in the statement Sequelize generated`);
  return `${sql.slice(0, at)}${replacement}${sql.slice(at + marker.length)}`;
}

/** Splits rows returned by these rewrites into old (and new) rows keyed by attribute. */
export function splitOldNew(model: ModelStatic<Model>, rows: readonly Row[]): { old: Row[]; next: Row[] } {
  const attributes = storedAttributes(model);
  const old: Row[] = [];
  const next: Row[] = [];
  for (const row of rows) {
    const o: Row = {};
    const n: Row = {};
    attributes.forEach((a, i) => {
      o[a] = row[`__bso_${i}`];
      n[a] = row[`__bsn_${i}`];
    });
    old.push(o);
    next.push(n);
  }
  return { old, next };
}

/** Installs the (named, idempotent) beforeQuery hook that performs the rewrite for tagged calls only. */
export function installReturningRewrite(sequelize: Sequelize): void {
  const qg = (sequelize.getQueryInterface() as unknown as { queryGenerator: QueryGen }).queryGenerator;
  const marker = `RETURNING ${qg.quoteIdentifier(RETURNING_MARKER)}`;
  sequelize.addHook('beforeQuery', HOOK_NAME, (options: object, query: unknown) => {
    const rewrite = (options as { [REWRITE]?: Rewrite })[REWRITE];
    if (!rewrite) return;
    const q = query as { run(sql: string, params?: unknown): Promise<unknown>; options: { type?: string; raw?: boolean } };
    if ((options as { [RETURNS_ROWS]?: boolean })[RETURNS_ROWS]) {
      // A BULKDELETE result is a row count; read the RETURNING rows as a raw SELECT instead.
      q.options.type = 'SELECT';
      q.options.raw = true;
    }
    const run = q.run;
    q.run = function runRewritten(this: unknown, sql: string, params?: unknown) {
      return run.call(this, rewrite(sql, marker), params);
    };
  });
}

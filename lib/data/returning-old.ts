import { Op, Utils, literal, type Model, type ModelStatic, type Sequelize, type WhereOptions } from 'sequelize';
import { columnOf, internals, storedAttributes } from './model-info';
import { generatorOf } from './sql';
import type { Row } from './records';

/**
 * PostgreSQL 18 can return the old and the new version of each updated row from the UPDATE itself
 * (`RETURNING old.*, new.*`). The library asks Sequelize for a marker column in RETURNING and, just before the
 * statement runs, swaps the marker for the old/new column list — so Sequelize's whole `Model.update`
 * pipeline (values, setters, timestamps, scopes, paranoid clause, bulk hooks) still builds the statement.
 */
export const RETURNING_MARKER = '__bulk_signals_returning_old_new__';
const REWRITE = Symbol.for('sequelize-bulk-signals/returning-old-new@1');
const HOOK_NAME = 'sequelize-bulk-signals:returning-old-new';

/** Whether the connected server can do it (known once Sequelize has connected: it records the version). */
export function supportsReturningOld(sequelize: Sequelize): boolean {
  const version = String((sequelize as unknown as { options: { databaseVersion?: unknown } }).options.databaseVersion ?? '0');
  return Number(version.split('.')[0]) >= 18;
}

/** Options that make the beforeQuery hook rewrite this call's RETURNING marker. */
export function returningOldNew(model: ModelStatic<Model>): { returning: string[]; [REWRITE]: string } {
  const qg = generatorOf(model);
  const columns = storedAttributes(model).map((a) => qg.quoteIdentifier(columnOf(model, a)));
  const list = [
    ...columns.map((c, i) => `old.${c} AS ${qg.quoteIdentifier(`__bso_${i}`)}`),
    ...columns.map((c, i) => `new.${c} AS ${qg.quoteIdentifier(`__bsn_${i}`)}`),
  ].join(', ');
  return { returning: [RETURNING_MARKER], [REWRITE]: `RETURNING ${list}` };
}

/**
 * `where` plus "the primary key is among the rows `where` matches, locked FOR UPDATE in primary-key order":
 * a plain UPDATE locks rows in scan order, and concurrent multi-row updates in different orders deadlock
 * (the reliability spec saw it). The subquery locks first, in the same order every writer uses.
 */
export function inPrimaryKeyLockOrder(model: ModelStatic<Model>, where: WhereOptions | undefined): WhereOptions {
  const qg = generatorOf(model) as unknown as {
    quoteIdentifier(id: string): string;
    selectQuery(table: unknown, options: object, model: ModelStatic<Model>): string;
  };
  const pks = internals(model).primaryKeyAttributes;
  const mapped = (Utils as unknown as { mapOptionFieldNames(o: object, m: unknown): { where?: WhereOptions } })
    .mapOptionFieldNames({ where: (Utils as unknown as { cloneDeep<T>(x: T): T }).cloneDeep(where) }, model);
  const columns = pks.map((pk) => columnOf(model, pk));
  const select = qg.selectQuery(model.getTableName(), {
    attributes: columns,
    where: mapped.where,
    order: columns.map((c) => [c, 'ASC']),
    lock: true,
  }, model).replace(/;\s*$/, '');
  const table = generatorOf(model).quoteTable(model.getTableName());
  const keys = columns.map((c) => `${table}.${qg.quoteIdentifier(c)}`).join(', ');
  const locked = literal(`(${keys}) IN (${select})`);
  return where === undefined ? locked : { [Op.and]: [where, locked] };
}

/** Splits rows returned with `returningOldNew` into [old, new] rows keyed by attribute. */
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
  sequelize.addHook('beforeQuery', HOOK_NAME, (options: object, query: unknown) => {
    const clause = (options as { [REWRITE]?: string })[REWRITE];
    if (!clause) return;
    const q = query as { run(sql: string, params?: unknown): Promise<unknown> };
    const run = q.run;
    const marker = `RETURNING ${generatorOfSequelize(sequelize).quoteIdentifier(RETURNING_MARKER)}`;
    q.run = function runRewritten(this: unknown, sql: string, params?: unknown) {
      const at = sql.lastIndexOf(marker);
      if (at < 0) throw new Error(`sequelize-bulk-signals: expected ${marker} in the UPDATE Sequelize generated`);
      return run.call(this, `${sql.slice(0, at)}${clause}${sql.slice(at + marker.length)}`, params);
    };
  });
}

function generatorOfSequelize(sequelize: Sequelize): { quoteIdentifier(id: string): string } {
  return (sequelize.getQueryInterface() as unknown as { queryGenerator: { quoteIdentifier(id: string): string } }).queryGenerator;
}

import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { bulkInsertSql, levelQueryInterface, type Row } from '../internals';
import { dialectFor } from '../dialect';
import { bare, generatorFor } from '../data/sql';
import { parseRow, selectList } from '../data/locked-read';
import { InsertedRows } from '../data/inserted-rows';
import { columnOf, columnsToAttributes, identityOf } from '../data/model-info';
import { ConcurrentWriteError } from '../errors';
import { chainOf, levelModelOf, ownAttributes } from './chain';

/** The options every level statement of one write shares: the write's transaction and the caller's logging. */
export interface LevelQuery {
  readonly transaction: Transaction;
  readonly logging?: never;
  readonly benchmark?: boolean;
}

/** The level statements' options for a write's transaction, with the caller's logging. */
export function levelQuery(options: Row, transaction: Transaction): LevelQuery {
  return {
    transaction,
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
    ...(options.benchmark === undefined ? {} : { benchmark: options.benchmark as boolean }),
  };
}

/** The level models of a child's chain with the columns each stores, root first. */
export function levels(model: ModelStatic<Model>): { level: ModelStatic<Model>; columns: Set<string>; depth: number }[] {
  return chainOf(model).map((m, depth) => {
    const level = levelModelOf(m);
    return { level, columns: new Set(ownAttributes(m).map((a) => columnOf(m, a))), depth };
  });
}

/** The part of a column-keyed hash a level stores (its key columns only where `withKey`). */
export function pickColumns(values: Row, columns: Set<string>, keyColumns: Set<string>, withKey: boolean): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(values)) {
    if (!columns.has(column)) continue;
    if (!withKey && keyColumns.has(column)) continue;
    out[column] = value;
  }
  return out;
}

function keyColumnsOf(model: ModelStatic<Model>): Set<string> {
  return new Set(identityOf(model).map((a) => columnOf(model, a)));
}

/** Field-keyed attribute definitions of a level model, as Sequelize's INSERT and UPDATE generators take them. */
function fieldAttributes(level: ModelStatic<Model>): Record<string, unknown> {
  const raw = level.getAttributes() as Record<string, { field?: string }>;
  return Object.fromEntries(Object.entries(raw).map(([a, d]) => [d.field ?? a, d]));
}

/**
 * Inserts rows of a child model (column-keyed, as Sequelize inserts the logical model) table by table, root
 * first: the root's INSERT numbers the rows (its auto-increment key), each lower table gets the same keys. Returns
 * per row the written values, attribute-keyed: every attribute where the INSERTs return rows (PostgreSQL,
 * MariaDB ≥ 10.5), else the root's row and the key (the caller reads the rest again through the join if it needs it).
 */
export async function insertLevels(model: ModelStatic<Model>, records: Row[], query: LevelQuery): Promise<Row[]> {
  const chain = levels(model);
  const keys = keyColumnsOf(model);
  const written: Row[] = records.map(() => ({}));
  let keyed = records;
  for (const { level, columns, depth } of chain) {
    const rows = keyed.map((r) => pickColumns(r, columns, keys, true));
    const returned = await insertRows(level, rows, query, depth === 0);
    returned.forEach((row, i) => Object.assign(written[i]!, row));
    if (depth === 0) {
      // Lower tables get the keys the root's INSERT gave.
      const pkValues = returned.map((row) => Object.fromEntries(identityOf(model).map((a) => [columnOf(model, a), row[a]])));
      keyed = records.map((r, i) => ({ ...r, ...pkValues[i] }));
    }
  }
  return written;
}

/** Whether the dialect's INSERT can return the rows it wrote (the library appends `RETURNING`). */
export function insertReturns(model: ModelStatic<Model>): boolean {
  const dialect = dialectFor(model);
  return dialect.tapsStatements || dialect.insertsReturning?.() === true;
}

/** One table's INSERT; its rows (attribute-keyed) returned, or — for the root, where they cannot be — read back by key. */
async function insertRows(level: ModelStatic<Model>, rows: Row[], query: LevelQuery, root: boolean): Promise<Row[]> {
  const sequelize = level.sequelize!;
  const qg = generatorFor(level);
  const tableName = level.getTableName();
  const sql = bulkInsertSql(sequelize, tableName, rows, fieldAttributes(level));
  if (insertReturns(level)) {
    const raw = await sequelize.query<Row>(`${bare(sql)} RETURNING ${selectList(level, qg, 'n')}`, {
      type: QueryTypes.SELECT,
      raw: true,
      ...query,
    });
    return raw.map((r) => parseRow(level, r, 'n')!);
  }
  if (!root) {
    await sequelize.query(sql, { type: QueryTypes.INSERT, ...query });
    return rows.map((r) => columnsToAttributes(level, r));
  }
  const inserted = new InsertedRows(level, tableName, rows, undefined, query);
  await inserted.prepare();
  await sequelize.query(sql, { type: QueryTypes.INSERT, ...query });
  const found = await inserted.rows();
  if (found.some((r) => r === undefined)) {
    throw new ConcurrentWriteError(
      `${level.name.replace(/::level$/, '')}.bulkCreate: rows inserted into the root table could not all be found again by ` +
        'the ids the server numbered them with; nothing was written to the other tables. Retry, or give every row its id.',
      { modelName: level.name.replace(/::level$/, ''), event: 'afterCreate' },
    );
  }
  return found as Row[];
}

/** What a where-based statement of a child model writes, for each table of its chain. */
export type LevelWrite =
  | { readonly kind: 'update'; readonly set: Row }
  | { readonly kind: 'increment' | 'decrement'; readonly amounts: Row; readonly extra: Row }
  | { readonly kind: 'delete' };

/**
 * One where-based write of a child model, sent table by table to the rows `restriction` (the locked keys)
 * names: `set` (column-keyed values, SQL expressions included) split by the table storing each column,
 * arithmetic (`amounts`, `extra`) likewise; a delete removes the rows from every table, leaf first. Returns the
 * rows the first statement wrote, as the server counts them (every locked row is in every table).
 */
export async function sendLevels(model: ModelStatic<Model>, write: LevelWrite, restriction: unknown, query: LevelQuery): Promise<number> {
  const counts: number[] = [];
  const chain = levels(model);
  if (write.kind === 'delete') {
    const qi = levelQueryInterface(model.sequelize!);
    for (const { level } of [...chain].reverse()) {
      counts.push(
        Number(
          await qi.bulkDelete(
            level.getTableName(),
            restriction,
            { ...query, model: level, limit: null, type: QueryTypes.BULKDELETE },
            level,
          ),
        ),
      );
    }
    return counts[0] ?? 0;
  }
  const keys = keyColumnsOf(model);
  for (const { level, columns, depth } of chain) {
    // A new key goes to the root's table (the foreign keys cascade it down).
    const count = await sendLevel(level, write, (values) => pickColumns(values, columns, keys, depth === 0), restriction, query);
    if (count !== undefined) counts.push(count);
  }
  return counts[0] ?? 0;
}

/** One table's part of an update or arithmetic (nothing when it stores none of the columns); the rows it wrote. */
async function sendLevel(
  level: ModelStatic<Model>,
  write: Exclude<LevelWrite, { kind: 'delete' }>,
  own: (values: Row) => Row,
  restriction: unknown,
  query: LevelQuery,
): Promise<number | undefined> {
  const qi = levelQueryInterface(level.sequelize!);
  const options = { ...query, model: level };
  const update = (set: Row) => qi.bulkUpdate(level.getTableName(), set, restriction, options, level.getAttributes());
  if (write.kind === 'update') {
    const set = own(write.set);
    return Object.keys(set).length > 0 ? Number(await update(set)) : undefined;
  }
  const amounts = own(write.amounts);
  const extra = own(write.extra);
  if (Object.keys(amounts).length > 0) {
    const result = (await qi[write.kind](level, level.getTableName(), restriction, amounts, extra, {
      ...options,
      returning: false,
    })) as unknown[];
    return Number(result[1]);
  }
  // No arithmetic in this table, only the extra values (updatedAt in the root's table).
  return Object.keys(extra).length > 0 ? Number(await update(extra)) : undefined;
}

import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import type { Row } from '../internals';
import { dialectFor, sendNarrowed } from '../dialect';
import type { RowWrite } from '../dialect/sql-dialect';
import { parseRow, selectList } from './locked-read';
import { identityOf, keyOf } from './model-info';
import { generatorFor } from './sql';
import { rereadRows } from './reread';
import { chainOf, isInherited, levelModelOf, ownAttributes } from '../inheritance/chain';

export type { RowWrite };

/**
 * Writes a different set of values to each row in ONE statement (the dialect's `UPDATE … FROM/JOIN` of a
 * derived table of literal rows). An attribute only some rows set is guarded by a per-row flag, so other rows
 * keep their current value. Values are escaped through Sequelize's own query generator (its type validation
 * and stringify). Returns, for each write in order, the row as written (keyed by attribute) — returned by the
 * statement, or read again by key where the dialect's UPDATE returns nothing — or `undefined` for a row that
 * no longer exists.
 */
export async function updateRowsFromValues(
  model: ModelStatic<Model>,
  writes: readonly RowWrite[],
  options: { transaction?: Transaction | undefined; logging?: unknown; tableName?: unknown; readBack?: boolean },
): Promise<(Row | undefined)[]> {
  if (writes.length === 0) return [];
  if (isInherited(model)) return updateLevelsFromValues(model, writes, options);
  const qg = generatorFor(model);
  const dialect = dialectFor(model);
  const tableName = options.tableName ?? model.getTableName();
  const { sql, bind } = dialect.updateFromValuesSql({ model, qg, writes, tableName, returning: selectList(model, qg, 'n', 't.') });
  const query = {
    ...(options.transaction ? { transaction: options.transaction } : {}),
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  };
  const [rows] = await sendNarrowed(dialect, sql, (text) =>
    model.sequelize!.query(text, { type: QueryTypes.RAW, ...query, ...(bind ? { bind: bind as unknown[] } : {}) }),
  );
  if (dialect.ownUpdateReturns) return writtenRows(model, writes, rows as Row[]);
  if (options.readBack === false) return writes.map(() => undefined);
  const keys = keysAsWritten(model, writes);
  return byKeys(model, keys, await rereadRows(model, tableName, keys, query));
}

/** What the UPDATE returned, per write: PostgreSQL returns each row's write index; SQLite's RETURNING sees the updated table only, so by key. */
function writtenRows(model: ModelStatic<Model>, writes: readonly RowWrite[], rows: Row[]): (Row | undefined)[] {
  if (rows.length === 0 || rows[0]!.__bsw !== undefined) return byWriteIndex(model, writes, rows);
  return byKeys(model, keysAsWritten(model, writes), rows);
}

/** Rows that carry the index of the write they came from (`__bsw`), in write order. */
function byWriteIndex(model: ModelStatic<Model>, writes: readonly RowWrite[], rows: readonly Row[]): (Row | undefined)[] {
  const written: (Row | undefined)[] = writes.map(() => undefined);
  for (const row of rows) written[Number(row.__bsw)] = parseRow(model, row, 'n');
  return written;
}

/** The keys of the written rows as the statement left them: an edit may set the primary key itself. */
function keysAsWritten(model: ModelStatic<Model>, writes: readonly RowWrite[]): Row[] {
  const ids = identityOf(model);
  return writes.map((w) => Object.fromEntries(ids.map((a) => [a, a in w.set ? w.set[a] : w.key[a]])));
}

/** Rows (as read, `n` aliases) in the order of `keys`. */
function byKeys(model: ModelStatic<Model>, keys: readonly Row[], raws: readonly Row[]): (Row | undefined)[] {
  const found = new Map(
    raws.map((raw) => {
      const row = parseRow(model, raw, 'n')!;
      return [keyOf(model, row), row];
    }),
  );
  return keys.map((k) => found.get(keyOf(model, k)));
}

/**
 * A child model (`inherit`): each level's attributes written to its own table, one statement per table that has
 * any, then the rows read again whole, through the join, by key.
 */
async function updateLevelsFromValues(
  model: ModelStatic<Model>,
  writes: readonly RowWrite[],
  options: { transaction?: Transaction | undefined; logging?: unknown; readBack?: boolean },
): Promise<(Row | undefined)[]> {
  const chain = chainOf(model);
  for (const [depth, level] of chain.entries()) {
    const pks = new Set(identityOf(model));
    // A key is stored in every table; a new key is written to the root's, which cascades it down.
    const own = ownAttributes(level).filter((a) => depth === 0 || !pks.has(a));
    const levelWrites = writes.flatMap((w) => {
      const set = Object.fromEntries(Object.entries(w.set).filter(([a]) => own.includes(a)));
      return Object.keys(set).length > 0 ? [{ key: w.key, set }] : [];
    });
    if (levelWrites.length === 0) continue;
    const levelModel = levelModelOf(level);
    await updateRowsFromValues(levelModel, levelWrites, { ...options, tableName: levelModel.getTableName(), readBack: false });
  }
  if (options.readBack === false) return writes.map(() => undefined);
  const keys = keysAsWritten(model, writes);
  const query = {
    ...(options.transaction ? { transaction: options.transaction } : {}),
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  };
  return byKeys(model, keys, await rereadRows(model, model.getTableName(), keys, query));
}

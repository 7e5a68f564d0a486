import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import type { Row } from '../internals';
import { dialectFor, sendNarrowed } from '../dialect';
import type { RowWrite } from '../dialect/sql-dialect';
import { parseRow, selectList } from './locked-read';
import { identityOf, keyOf } from './model-info';
import { generatorFor } from './sql';
import { rereadRows } from './reread';

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
  const qg = generatorFor(model);
  const dialect = dialectFor(model);
  const tableName = options.tableName ?? model.getTableName();
  const sql = dialect.updateFromValuesSql({ model, qg, writes, tableName, returning: selectList(model, qg, 'n', 't.') });
  const query = {
    ...(options.transaction ? { transaction: options.transaction } : {}),
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  };
  const [rows] = await sendNarrowed(dialect, sql, (text) => model.sequelize!.query(text, { type: QueryTypes.RAW, ...query }));
  const written: (Row | undefined)[] = writes.map(() => undefined);
  if (dialect.ownUpdateReturns) {
    for (const row of rows as Row[]) written[Number(row.__bsw)] = parseRow(model, row, 'n');
    return written;
  }
  if (options.readBack === false) return written;
  // The keys as written: an edit may set the primary key itself.
  const ids = identityOf(model);
  const keys = writes.map((w) => Object.fromEntries(ids.map((a) => [a, a in w.set ? w.set[a] : w.key[a]])));
  const byKey = new Map(
    (await rereadRows(model, tableName, keys, query)).map((raw) => {
      const row = parseRow(model, raw, 'n')!;
      return [keyOf(model, row), row];
    }),
  );
  return keys.map((k) => byKey.get(keyOf(model, k)));
}

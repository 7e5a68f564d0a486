import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import type { Row } from '../internals';
import { selectList } from './locked-read';
import { generatorFor, identityInSql } from './sql';
import { fromSql } from '../inheritance/chain';

/**
 * Reads rows again by key after a statement wrote them — where the dialect cannot return them from the
 * statement itself. The library holds them (row locks, or SQLite's write lock) until COMMIT, so what it reads
 * is what the statement left. Rows come back with the `n` (new) aliases, as a tapped statement returns them.
 */
export async function rereadRows(
  model: ModelStatic<Model>,
  tableName: unknown,
  keys: readonly Row[],
  query: { transaction?: Transaction; logging?: never; benchmark?: boolean },
): Promise<Row[]> {
  if (keys.length === 0) return [];
  return rereadWhere(model, tableName, identityInSql(model, keys, generatorFor(model)), query);
}

/** The same for rows picked by a condition (SQL) rather than by keys. */
export async function rereadWhere(
  model: ModelStatic<Model>,
  tableName: unknown,
  conditions: string,
  query: { transaction?: Transaction; logging?: never; benchmark?: boolean },
): Promise<Row[]> {
  const qg = generatorFor(model);
  const sql = `SELECT ${selectList(model, qg, 'n')} FROM ${fromSql(model, tableName, qg)} WHERE ${conditions}`;
  return model.sequelize!.query<Row>(sql, { type: QueryTypes.SELECT, raw: true, ...query });
}

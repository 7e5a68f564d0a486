import type { Model, ModelStatic, Sequelize } from 'sequelize';
import type { DialectName, SqlDialect } from './sql-dialect';
import { postgresDialect } from './postgres';
import { mysqlDialect } from './mysql';
import { sqliteDialect } from './sqlite';

export type { DialectName, RowId, RowWrite, SqlDialect, ValuesUpdate } from './sql-dialect';

/** The dialects `installBulkSignals` accepts. */
export const SUPPORTED_DIALECTS: readonly DialectName[] = ['postgres', 'mariadb', 'mysql', 'sqlite'];

const DIALECT = Symbol.for('sequelize-bulk-signals/sql-dialect@1');
type Carrier = { [DIALECT]?: SqlDialect };

/** Chooses the instance's SQL dialect once, at install. */
export function attachDialect(sequelize: Sequelize): SqlDialect {
  const name = sequelize.getDialect() as DialectName;
  const dialect =
    name === 'postgres' ? postgresDialect(sequelize) : name === 'sqlite' ? sqliteDialect(sequelize) : mysqlDialect(sequelize, name);
  Object.defineProperty(sequelize, DIALECT, { value: dialect, configurable: true });
  return dialect;
}

/** The SQL dialect of an installed instance (PostgreSQL's for an instance that was never installed). */
export function sqlDialectOf(sequelize: Sequelize): SqlDialect {
  return (sequelize as unknown as Carrier)[DIALECT] ?? attachDialect(sequelize);
}

export function dialectFor(model: ModelStatic<Model>): SqlDialect {
  return sqlDialectOf(model.sequelize!);
}

/**
 * Sends a write narrowed to locked keys as the dialect rewrites it (`SqlDialect.narrowedWrite`), or as it is when
 * the server refuses the rewrite for naming an index the table lacks (a model on a view, a key only Sequelize knows).
 */
export async function sendNarrowed<T>(dialect: SqlDialect, sql: string, send: (sql: string) => Promise<T>): Promise<T> {
  const text = dialect.narrowedWrite?.(sql) ?? sql;
  if (text === sql) return send(sql);
  try {
    return await send(text);
  } catch (error) {
    if (!isMissingIndex(error)) throw error;
    return send(sql);
  }
}

/** MariaDB/MySQL's ER_KEY_DOES_NOT_EXITS (1176): an index hint names an index the table does not have. */
function isMissingIndex(error: unknown): boolean {
  const parent = (error as { parent?: { errno?: number } } | undefined)?.parent;
  return parent?.errno === 1176;
}

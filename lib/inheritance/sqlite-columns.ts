import type { Sequelize } from 'sequelize';
import { bareTableName, chainOf, inheritedModelsOf } from './chain';

type Callback = (error: unknown, rows?: unknown[]) => void;
interface SqliteConnection {
  all(sql: string, ...rest: unknown[]): unknown;
}

const TABLE_INFO = /^PRAGMA table_info\(`(.+)`\)$/;

/**
 * SQLite: Sequelize types a SELECT's values (dates, booleans, JSON) by the columns `PRAGMA table_info` lists for
 * the model's table. A child model's (`inherit`) rows are read through the join of its tables, so for its table
 * the connection answers with the columns of every table of its chain — the leaf's first — and the values that
 * live in the ancestors' tables are typed as theirs. Every other statement reaches the connection as it is.
 */
export function withChainColumns(sequelize: Sequelize, connection: SqliteConnection): SqliteConnection {
  const children = inheritedModelsOf(sequelize);
  if (children.length === 0) return connection;
  const chains = new Map(children.map((m) => [bareTableName(m.getTableName()), chainOf(m)]));
  const all = (sql: string, ...rest: unknown[]): unknown => {
    const chain = TABLE_INFO.exec(sql) && chains.get(TABLE_INFO.exec(sql)![1]!);
    if (!chain || rest.length !== 1) return connection.all(sql, ...rest);
    const callback = rest[0] as Callback;
    const tables = [...chain].reverse().map((m) => bareTableName(m.getTableName()));
    const rows: unknown[] = [];
    const next = (i: number): void => {
      if (i === tables.length) return callback(null, rows);
      connection.all(`PRAGMA table_info(\`${tables[i]!.replace(/`/g, '``')}\`)`, (error: unknown, found?: unknown[]) => {
        if (error) return callback(error);
        rows.push(...(found ?? []));
        next(i + 1);
      });
    };
    next(0);
    return undefined;
  };
  return new Proxy(connection, {
    // node-sqlite3's methods are native: they run on the database object itself, never on the proxy.
    get: (target, key): unknown => {
      if (key === 'all') return all;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}

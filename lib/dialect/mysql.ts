import type { Sequelize } from 'sequelize';
import type { SqlDialect } from './sql-dialect';
import { typeKey, unionRowsTable, valuesUpdateParts } from './portable-sql';

/**
 * MariaDB and MySQL (the `mariadb` and `mysql` dialects): no RETURNING on UPDATE, so the rows a statement
 * wrote are read again by key while the library holds them locked (`FOR UPDATE`); per-row values through
 * `UPDATE … JOIN (SELECT … UNION ALL …)`; an INSERT conflicts on any unique key.
 */
export function mysqlDialect(sequelize: Sequelize, name: 'mariadb' | 'mysql'): SqlDialect {
  void sequelize;
  return {
    name,
    tapsStatements: false,
    returnsOld: () => false,
    oneStatementWhereWrites: false,
    ownUpdateReturns: false,
    rowId: undefined,
    lockSuffix: ' FOR UPDATE',
    lockTableSql: () => undefined,
    typed: (valueSql) => valueSql,
    rowsTable: unionRowsTable,
    updateFromValuesSql: (u) => {
      const { table, assignments, match } = valuesUpdateParts(u, undefined);
      return `UPDATE ${u.qg.quoteTable(u.tableName)} AS t JOIN ${table} ON ${match} SET ${assignments('t.').join(', ')}`;
    },
    conflictsOnAnyUniqueKey: true,
    generatedKeys: {
      condition: (column, count) =>
        `${column} >= LAST_INSERT_ID() AND ${column} < LAST_INSERT_ID() + ${Number(count)} * @@auto_increment_increment`,
      last: (column) => `${column} = LAST_INSERT_ID()`,
    },
    readValue: (model, attribute, value) => (value != null && typeKey(model, attribute) === 'BOOLEAN' ? Boolean(Number(value)) : value),
    ownTransaction: () => ({}),
  };
}

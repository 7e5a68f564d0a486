import { Transaction, type Sequelize } from 'sequelize';
import type { SqlDialect } from './sql-dialect';
import { typeKey, unionRowsTable, valuesUpdateParts } from './portable-sql';

/**
 * SQLite: no row locks — a transaction the library opens is `IMMEDIATE`, holding the database's write lock
 * from before the old rows are read until COMMIT; rows are told apart by `rowid`; per-row values through
 * `UPDATE … FROM (SELECT … UNION ALL …)`; what a statement wrote is read again by key.
 */
export function sqliteDialect(sequelize: Sequelize): SqlDialect {
  return {
    name: 'sqlite',
    tapsStatements: false,
    returnsOld: () => false,
    oneStatementWhereWrites: false,
    ownUpdateReturns: false,
    rowId: { column: 'rowid', literal: (value) => String(Number(value)), stable: true },
    lockSuffix: '',
    lockTableSql: () => undefined,
    typed: (valueSql) => valueSql,
    rowsTable: unionRowsTable,
    updateFromValuesSql: (u) => {
      const { table, assignments, match } = valuesUpdateParts(u, 'rowid');
      return `UPDATE ${u.qg.quoteTable(u.tableName)} AS t SET ${assignments('').join(', ')} FROM ${table} WHERE ${match}`;
    },
    conflictsOnAnyUniqueKey: false,
    generatedKeys: {
      before: (column, table) => `SELECT COALESCE(MAX(${column}), 0) AS ${'"m"'} FROM ${table}`,
      condition: (column, _count, before) => `${column} > ${Number(before)}`,
      last: (column) => `${column} = last_insert_rowid()`,
    },
    readValue: (model, attribute, value) => (value == null ? value : readStored(sequelize, typeKey(model, attribute), value)),
    ownTransaction: () => ({ type: Transaction.TYPES.IMMEDIATE }),
  };
}

/** A stored SQLite value as Sequelize's SQLite parsers read it for the attribute's type. */
function readStored(sequelize: Sequelize, key: string | undefined, value: unknown): unknown {
  if (key === 'BOOLEAN') return Boolean(Number(value));
  if (key === 'DATE' && typeof value === 'string') {
    // As Sequelize's SQLite DATE parser: a stored time without an offset is in the instance's timezone.
    const zone = (sequelize as unknown as { options: { timezone?: string } }).options.timezone ?? '+00:00';
    return new Date(value.includes('+') ? value : `${value}${zone}`);
  }
  if ((key === 'JSON' || key === 'JSONB') && typeof value === 'string') return JSON.parse(value) as unknown;
  return value;
}

import { Transaction, type Sequelize } from 'sequelize';
import { sequelizeOptions } from '../internals';
import { hasPrimaryKey } from '../data/model-info';
import type { SqlDialect } from './sql-dialect';
import { plainSpelling, typeKey, unionRowsTable, valuesUpdateParts } from './portable-sql';

/**
 * MariaDB and MySQL (the `mariadb` and `mysql` dialects): no RETURNING on UPDATE, so the rows a statement
 * wrote are read again by key while the library holds them locked (`FOR UPDATE`); per-row values through
 * `UPDATE … JOIN (SELECT … UNION ALL …)`; an INSERT conflicts on any unique key.
 */
export function mysqlDialect(sequelize: Sequelize, name: 'mariadb' | 'mysql'): SqlDialect {
  return {
    name,
    tapsStatements: false,
    returnsOld: () => false,
    oneStatementWhereWrites: false,
    // MariaDB ≥ 10.5 (the mariadb dialect; the mysql one is for MySQL, which has no DELETE … RETURNING).
    deletesReturning: () => name === 'mariadb' && mariadbAtLeast(sequelize, 10, 5),
    insertsReturning: () => name === 'mariadb' && mariadbAtLeast(sequelize, 10, 5),
    ownUpdateReturns: false,
    rowId: undefined,
    lockSuffix: ' FOR UPDATE',
    lockTableSql: () => undefined,
    typed: (valueSql) => valueSql,
    rowsTable: unionRowsTable,
    updateFromValuesSql: (u) => {
      const { table, assignments, match } = valuesUpdateParts(u, plainSpelling);
      // The values first, joined in that order: InnoDB looks each row up by key instead of scanning the table.
      return { sql: `UPDATE ${table} STRAIGHT_JOIN ${u.qg.quoteTable(u.tableName)} AS t ON ${match} SET ${assignments('t.').join(', ')}` };
    },
    conflictsOnAnyUniqueKey: true,
    generatedKeys: {
      condition: (column, count) =>
        `${column} >= LAST_INSERT_ID() AND ${column} < LAST_INSERT_ID() + ${Number(count)} * @@auto_increment_increment`,
      last: (column) => `${column} = LAST_INSERT_ID()`,
      mixed: {
        from: (column) => `${column} >= LAST_INSERT_ID()`,
        state: 'LAST_INSERT_ID() AS `__bsg_first`, @@auto_increment_increment AS `__bsg_inc`, @@auto_increment_offset AS `__bsg_off`',
      },
    },
    readValue: (model, attribute, value) => (value != null && typeKey(model, attribute) === 'BOOLEAN' ? Boolean(Number(value)) : value),
    narrowedWrite: forcePrimaryKey,
    // READ COMMITTED: the locked reads take record locks only, no gap locks. Under REPEATABLE READ the locked
    // lookup of a key that does not exist yet (upsert, bulkCreate's conflicts) locks the gap, and two calls
    // inserting new keys into it deadlock where vanilla's two INSERTs do not. Rows committed meanwhile that
    // match a where are not written: the statement is narrowed to the rows locked. A model without a primary
    // key cannot be narrowed (its rows have no identity): there REPEATABLE READ, InnoDB's default, whose
    // next-key locks keep new matching rows out between the locked read and Sequelize's own statement.
    ownTransaction: (fn, model) =>
      sequelize.transaction(
        {
          isolationLevel:
            model && !hasPrimaryKey(model) ? Transaction.ISOLATION_LEVELS.REPEATABLE_READ : Transaction.ISOLATION_LEVELS.READ_COMMITTED,
        },
        (t) => fn(t),
      ),
  };
}

const TABLE = '`(?:[^`]|``)+`(?:\\.`(?:[^`]|``)+`)?';
const UPDATE = new RegExp(`^UPDATE (${TABLE}) SET `);
const JOINED = new RegExp(` STRAIGHT_JOIN (${TABLE}) AS t ON `);
const DELETE = new RegExp(`^DELETE FROM (${TABLE}) WHERE (?![\\s\\S]* LIMIT \\d+$)`);

/**
 * A where-write narrowed to the locked keys, with InnoDB held to the primary key's index. The locked read locks
 * the matching rows; InnoDB's plan for the UPDATE/DELETE that follows may still be a scan (small tables, long IN
 * lists), and under REPEATABLE READ a scan locks every row it visits — rows other writers hold, while this one
 * holds its own: a deadlock vanilla Sequelize's single statement would not meet. Forced onto the primary key, the
 * statement visits only the rows already locked (so does the library's own `UPDATE … JOIN`). (DELETE takes index hints in its multi-table form only, which
 * has no LIMIT: a DELETE with one is sent as it is; narrowed, it never needs it.)
 */
function forcePrimaryKey(sql: string): string {
  return sql
    .replace(UPDATE, (_m, table: string) => `UPDATE ${table} FORCE INDEX (PRIMARY) SET `)
    .replace(JOINED, (_m, table: string) => ` STRAIGHT_JOIN ${table} AS t FORCE INDEX (PRIMARY) ON `)
    .replace(DELETE, (_m, table: string) => `DELETE ${table} FROM ${table} FORCE INDEX (PRIMARY) WHERE `);
}

/** Whether the server Sequelize connected to reports a MariaDB version at least `major.minor` ('10.11.6-MariaDB'). */
function mariadbAtLeast(sequelize: Sequelize, major: number, minor: number): boolean {
  const [a = 0, b = 0] = String(sequelizeOptions(sequelize).databaseVersion ?? '0')
    .split(/[.-]/)
    .map(Number);
  return a > major || (a === major && b >= minor);
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { Transaction, type Sequelize } from 'sequelize';
import type { SqlDialect } from './sql-dialect';
import { typeKey, valuesRowsTable, valuesUpdateParts } from './portable-sql';

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
    rowsTable: valuesRowsTable,
    updateFromValuesSql: (u) => {
      const { table, assignments, match } = valuesUpdateParts(u, 'rowid', valuesRowsTable);
      return `UPDATE ${u.qg.quoteTable(u.tableName)} AS t SET ${assignments('').join(', ')} FROM ${table} WHERE ${match}`;
    },
    conflictsOnAnyUniqueKey: false,
    generatedKeys: {
      before: (column, table) => `SELECT COALESCE(MAX(${column}), 0) AS ${'"m"'} FROM ${table}`,
      condition: (column, _count, before) => `${column} > ${Number(before)}`,
      last: (column) => `${column} = last_insert_rowid()`,
    },
    readValue: (model, attribute, value) => (value == null ? value : readStored(sequelize, typeKey(model, attribute), value)),
    ownTransaction: ownTransactions(sequelize),
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

/**
 * The library's own SQLite transactions, one at a time per instance. Vanilla Sequelize runs concurrent writes
 * without a transaction one after another on its one default connection; a transaction per call would instead
 * meet another's write lock (SQLITE_BUSY after the driver's 1 s busy timeout on a file) or, on `:memory:` where
 * every transaction shares that connection, a nested BEGIN. Queued, they serialise as vanilla writes do. A call
 * made inside a running own transaction's scope (a receiver writing without passing the transaction) does not
 * wait for it, which would never end; it runs as it would without the library.
 */
function ownTransactions(sequelize: Sequelize): SqlDialect['ownTransaction'] {
  const inside = new AsyncLocalStorage<true>();
  let tail: Promise<unknown> = Promise.resolve();
  return async <T>(fn: (t: Transaction) => Promise<T>): Promise<T> => {
    const run = () => inside.run(true, () => sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, (t) => fn(t)));
    if (inside.getStore()) return run();
    const turn = tail.then(run, run);
    tail = turn.catch(() => undefined);
    return turn;
  };
}

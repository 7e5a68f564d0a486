import { AsyncLocalStorage } from 'node:async_hooks';
import { Transaction, type Sequelize } from 'sequelize';
import type { RowId, SqlDialect } from './sql-dialect';
import { sequelizeOptions, transactionFinished } from '../internals';
import { plainSpelling, typeKey, valuesRowsTable, valuesUpdateParts, type ValuesSpelling } from './portable-sql';

const ROWID: RowId = { column: 'rowid', literal: (value) => String(Number(value)), stable: true };

/** Plain literals; rows by `rowid`; a VALUES list (a compound SELECT caps at 500 terms). */
const spelling: ValuesSpelling = { ...plainSpelling, rowId: ROWID, rowsTable: valuesRowsTable };

/**
 * SQLite: no row locks — a transaction the library opens is `IMMEDIATE`, holding the database's write lock
 * from before the old rows are read until COMMIT; rows are told apart by `rowid`; per-row values through
 * `UPDATE … FROM (VALUES …)`; what a statement wrote is read again by key.
 */
export function sqliteDialect(sequelize: Sequelize): SqlDialect {
  return {
    name: 'sqlite',
    tapsStatements: false,
    returnsOld: () => false,
    oneStatementWhereWrites: false,
    // SQLite ≥ 3.35 (sqlite3 5 bundles 3.4x): the library's own per-row UPDATE returns the rows it wrote. Its
    // RETURNING names the updated table's columns only, unqualified (the alias `t` is not in scope there).
    ownUpdateReturns: true,
    rowId: ROWID,
    lockSuffix: '',
    lockTableSql: () => undefined,
    typed: (valueSql) => valueSql,
    rowsTable: valuesRowsTable,
    updateFromValuesSql: (u) => {
      const { table, assignments, match } = valuesUpdateParts(u, spelling);
      return {
        sql: `UPDATE ${u.qg.quoteTable(u.tableName)} AS t SET ${assignments('').join(', ')} FROM ${table} WHERE ${match} RETURNING ${u.returning.replace(/\bt\.(?=`)/g, '')}`,
      };
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
 * wait for it, which would never end: on a file it runs as it would without the library; on `:memory:` it joins
 * that transaction, as would any write made while a transaction of the instance is open there (vanilla's
 * statements run inside it, on the one connection).
 */
function ownTransactions(sequelize: Sequelize): SqlDialect['ownTransaction'] {
  const inside = new AsyncLocalStorage<Transaction>();
  const shared = inMemory(sequelize) ? trackTransactions(sequelize) : undefined;
  const ours = new WeakSet<Transaction>();
  let tail: Promise<unknown> = Promise.resolve();
  return async <T>(fn: (t: Transaction) => Promise<T>): Promise<T> => {
    const current = inside.getStore();
    if (shared) {
      if (current && !transactionFinished(current)) return fn(current);
      const open = [...shared].reverse().find((t) => !transactionFinished(t) && !ours.has(t));
      if (open) return fn(open);
    }
    const run = () =>
      sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, (t) => {
        ours.add(t);
        return inside.run(t, () => fn(t));
      });
    if (current) return run();
    const turn = tail.then(run, run);
    tail = turn.catch(() => undefined);
    return turn;
  };
}

/** Whether the instance's database is `:memory:` (as Sequelize's SQLite connection manager decides). */
function inMemory(sequelize: Sequelize): boolean {
  const { storage, host } = sequelizeOptions(sequelize) as { storage?: string; host?: string };
  return (storage ?? (host && host !== 'localhost' ? host : ':memory:')) === ':memory:';
}

/**
 * The transactions opened through `sequelize.transaction()` of a `:memory:` instance (all on its one
 * connection), kept while they may be open: the instance's method is wrapped, nothing else changes.
 */
function trackTransactions(sequelize: Sequelize): Set<Transaction> {
  const open = new Set<Transaction>();
  const original = Reflect.get(sequelize, 'transaction') as (...a: unknown[]) => Promise<unknown>;
  const prune = () => {
    for (const t of open) if (transactionFinished(t)) open.delete(t);
  };
  function transaction(this: Sequelize, ...args: unknown[]): Promise<unknown> {
    prune();
    const callback = typeof args[0] === 'function' ? args[0] : args[1];
    if (typeof callback === 'function') {
      const options = typeof args[0] === 'function' ? {} : args[0];
      return original.call(this, options, (t: Transaction) => {
        open.add(t);
        return (callback as (t: Transaction) => unknown)(t);
      });
    }
    return (original.apply(this, args) as Promise<Transaction>).then((t) => {
      open.add(t);
      return t;
    });
  }
  Object.defineProperty(sequelize, 'transaction', { value: transaction, writable: true, configurable: true, enumerable: false });
  return open;
}

import type { Sequelize, Transaction } from 'sequelize';
import { shared } from './shared';

/**
 * PostgreSQL: the library's own transactions send `START TRANSACTION` with their first statement instead of on
 * their own — one network round trip less per signalled call that comes without a transaction. Sequelize starts
 * a transaction with a statement of its own as soon as it has a connection; for a transaction the library opens
 * (marked with `DEFERRED_BEGIN`, no isolation level or deferrable constraints asked for) the query interface
 * keeps that statement back, and the first statement sent in the transaction carries it: prepended when it is
 * sent without bind parameters (PostgreSQL runs the two as one simple query), sent just before it otherwise. A
 * transaction that sent nothing commits or rolls back without a statement.
 */
export const DEFERRED_BEGIN = Symbol.for('sequelize-bulk-signals/deferred-begin@1');

/**
 * Marks the library's own statements (its locked read): only those carry a deferred BEGIN in front of them, so
 * every statement Sequelize itself sends is logged — and seen by a logging spy — exactly as Sequelize renders it.
 */
export const OWN_STATEMENT = Symbol.for('sequelize-bulk-signals/own-statement@1');

const pending: WeakMap<Transaction, string> = shared('deferred-begin@1', () => new WeakMap<Transaction, string>());
const INSTALLED = Symbol.for('sequelize-bulk-signals/deferred-begin-installed@1');

type TransactionInternals = Transaction & {
  options: Record<string | symbol, unknown>;
  parent?: Transaction | null;
  finished?: string;
};
type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;
interface Generator {
  startTransactionQuery(transaction: Transaction): string;
}

/** A BEGIN being sent on its own (the first statement had bind parameters), for the statements behind it. */
const beginning = new WeakMap<Transaction, Promise<unknown>>();

/**
 * What a statement about to be sent in `transaction` must do about a deferred BEGIN: returns the text to put in
 * front of it (`START TRANSACTION; `) when it is the first and one of the library's own without bind parameters;
 * sends the BEGIN first (as Sequelize would, on its own) when it is the first and any other; waits for a BEGIN
 * still on its way otherwise — statements Sequelize sends at once in one transaction (`Promise.all` of saves)
 * keep their order behind it.
 */
export async function beginBefore(transaction: unknown, carries: boolean, sendBegin: (sql: string) => Promise<unknown>): Promise<string> {
  if (!transaction) return '';
  const t = transaction as Transaction;
  const sql = pending.get(t);
  if (sql === undefined) {
    const inFlight = beginning.get(t);
    if (inFlight) await inFlight;
    return '';
  }
  pending.delete(t);
  if (carries) return `${sql} `;
  const sent = sendBegin(sql);
  beginning.set(t, sent);
  try {
    await sent;
  } finally {
    beginning.delete(t);
  }
  return '';
}

/** Whether a transaction defers its BEGIN: the library's own, with nothing asked of the BEGIN itself. */
function defers(transaction: TransactionInternals): boolean {
  const options = transaction.options ?? {};
  return options[DEFERRED_BEGIN] === true && !transaction.parent && !options.isolationLevel && !options.deferrable;
}

/** Wraps the instance's query interface (own properties) to keep back the BEGIN of deferring transactions. */
export function installDeferredBegin(sequelize: Sequelize): void {
  const qi = sequelize.getQueryInterface() as unknown as Record<string | symbol, Method> & { queryGenerator: Generator };
  if (qi[INSTALLED]) return;
  const start = qi.startTransaction!;
  const commit = qi.commitTransaction!;
  const rollback = qi.rollbackTransaction!;
  const define = (name: string, value: Method) =>
    Object.defineProperty(qi, name, { value, writable: true, configurable: true, enumerable: false });
  define('startTransaction', async function startTransaction(this: unknown, ...args: unknown[]) {
    const transaction = args[0] as TransactionInternals;
    if (!defers(transaction)) return start.apply(this, args);
    pending.set(transaction, qi.queryGenerator.startTransactionQuery(transaction));
    return undefined;
  });
  // A transaction whose BEGIN was never sent has nothing to end on the server.
  const ending = (base: Method, finished: string): Method =>
    async function end(this: unknown, ...args: unknown[]) {
      const transaction = args[0] as TransactionInternals;
      if (!pending.has(transaction)) return base.apply(this, args);
      pending.delete(transaction);
      transaction.finished = finished;
      return undefined;
    };
  define('commitTransaction', ending(commit, 'commit'));
  define('rollbackTransaction', ending(rollback, 'rollback'));
  Object.defineProperty(qi, INSTALLED, { value: true });
}

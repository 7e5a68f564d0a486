import type { Sequelize } from 'sequelize';
import { dialectOf, type DialectQuery, type Row } from './internals';
import { isOwnColumn } from './data/locked-read';
import { bare } from './data/sql';
import { sendNarrowed, sqlDialectOf } from './dialect';
import { withChainColumns } from './inheritance/sqlite-columns';
import { OWN_STATEMENT, beginBefore } from './deferred-begin';

/**
 * A statement tap: how the library reads what one write statement did without changing what Sequelize sees.
 * The query-interface seam puts a tap in the options of the one statement it is about (`[TAP]`); when Sequelize
 * sends that statement, the tap adds the library's own columns to its RETURNING list (or wraps it, see `wrap`),
 * takes those columns off every returned row, and hands Sequelize the driver's result with only the columns
 * its own statement asked for — so Sequelize's result formatting, the caller's return value and the instance
 * refresh are exactly what they would be without the library.
 */
export const TAP = Symbol.for('sequelize-bulk-signals/tap@1');

export interface TapPlan {
  /** Sequelize's statement type the tap is for (`options.type`: BULKUPDATE, UPDATE, INSERT…); other statements pass. */
  readonly type: string;
  /** The library's columns to return, as a select list (`"a" AS "__bsn_0", …`). */
  readonly returning?: string;
  /** Whether Sequelize's own statement already ends with a RETURNING clause (its columns are kept for it). */
  readonly callerReturns: boolean;
  /**
   * Where Sequelize's own RETURNING already lists every column the library needs (`returning: true` lists every
   * field of the model): the library's rows are taken from those, nothing is added to the statement.
   */
  readonly mirror?: (row: Row) => Row;
  /** Rewrites the statement after the RETURNING list was extended (the data-modifying CTE before PostgreSQL 18). */
  readonly wrap?: (sql: string) => string;
  /** Where statements cannot return rows: the statement is a write narrowed to locked keys (see `sendNarrowed`). */
  readonly narrowed?: boolean;
  /**
   * Where the driver answers a RETURNING statement with rows instead of its OK packet (MariaDB): the `insertId`
   * that packet would have carried, from the rows returned (only the library's columns); 0 when omitted.
   */
  readonly insertId?: (rows: Row[]) => unknown;
  /** Runs just before the statement is sent, with Sequelize's final query options; may query in the same transaction. */
  readonly prepare?: (queryOptions: Row) => Promise<void>;
}

export class StatementTap {
  /** The rows the statement returned, with only the library's columns; `undefined` until it ran. */
  rows: Row[] | undefined;

  constructor(readonly plan: TapPlan) {}

  /** Sequelize clones options deeply; a tap is shared, not copied. */
  clone(): this {
    return this;
  }

  rewrite(sql: string): string {
    let out = bare(sql);
    if (this.plan.returning) out = this.plan.callerReturns ? `${out}, ${this.plan.returning}` : `${out} RETURNING ${this.plan.returning}`;
    return this.plan.wrap ? this.plan.wrap(out) : out;
  }

  /** Splits a driver result into the library's part (kept here) and Sequelize's part (returned). */
  capture<R extends { rows?: Row[]; fields?: { name: string }[] }>(result: R): R {
    const rows = result.rows ?? [];
    if (this.plan.mirror) {
      this.rows = rows.map(this.plan.mirror);
      return result;
    }
    this.rows = rows.map((row) => {
      const own: Row = {};
      for (const key of Object.keys(row)) if (isOwnColumn(key)) own[key] = row[key];
      return own;
    });
    const theirs = this.plan.callerReturns
      ? rows.map((row) => {
          const kept: Row = {};
          for (const key of Object.keys(row)) if (!isOwnColumn(key)) kept[key] = row[key];
          return kept;
        })
      : [];
    return Object.assign(Object.create(Object.getPrototypeOf(result) as object) as R, result, {
      rows: theirs,
      fields: (result.fields ?? []).filter((f) => !isOwnColumn(f.name)),
    });
  }
}

type Callback = (error: unknown, result?: unknown) => void;
interface Client {
  query(sql: string, ...rest: unknown[]): unknown;
}

/** The driver client as Sequelize's query sees it, with results of `sql` captured by `tap`. */
function capturing(client: Client, tap: StatementTap): Client {
  const query = (sql: string, ...rest: unknown[]) => {
    const callback = rest.pop() as Callback;
    return client.query(sql, ...rest, (error: unknown, result: unknown) => {
      if (error) return callback(error);
      try {
        // A statement with a search path prepended comes back as one result per statement: ours is the last.
        if (Array.isArray(result)) {
          const all = [...(result as unknown[])];
          all[all.length - 1] = tap.capture(all[all.length - 1] as never);
          return callback(null, all);
        }
        return callback(null, tap.capture(result as never));
      } catch (captureError) {
        return callback(captureError);
      }
    });
  };
  // Everything else (and every write, e.g. Sequelize marking a broken connection invalid) reaches the client.
  return new Proxy(client, {
    get: (target, key): unknown => (key === 'query' ? query : Reflect.get(target, key, target)),
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}

const TAPPED = Symbol.for('sequelize-bulk-signals/tapped-query@1');
/** Marks the deferred BEGIN itself when it is sent on its own. */
const BEGIN = Symbol.for('sequelize-bulk-signals/deferred-begin-statement@1');

/**
 * Gives this Sequelize instance a Query class that applies taps (an own property on its dialect, so other
 * instances and Sequelize's prototypes are untouched). Statements without a tap run exactly as before.
 */
export function installStatementTap(sequelize: Sequelize): void {
  const dialect = dialectOf(sequelize);
  if ((dialect.Query as unknown as Record<symbol, unknown>)[TAPPED]) return;
  const Base = dialect.Query;
  const sqlDialect = sqlDialectOf(sequelize);
  const tapsStatements = sqlDialect.tapsStatements;
  const sqlite = sqlDialect.name === 'sqlite';
  class TappedQuery extends Base {
    /** The deferred `START TRANSACTION` this statement carries (see deferred-begin.ts), with its separator. */
    private begin = '';

    override async run(sql: string, parameters?: unknown): Promise<unknown> {
      const own = this.options as Record<symbol, unknown>;
      const transaction = own[BEGIN] ? undefined : this.options.transaction;
      // A simple query may hold several statements, one with bind parameters may not; and only the library's own
      // statements carry the BEGIN. Otherwise it goes on its own, as Sequelize sends it (its logging, not the call's).
      const carries = own[OWN_STATEMENT] === true && !hasParameters(parameters);
      this.begin = await beginBefore(transaction, carries, (begin) =>
        sequelize.query(begin, { transaction: transaction as never, [BEGIN]: true } as never),
      );
      return this.route(sql, parameters);
    }

    /** Sequelize's own run, with the deferred BEGIN in front of the first statement. */
    private send(sql: string, parameters?: unknown): Promise<unknown> {
      const text = this.begin + sql;
      this.begin = '';
      return super.run(text, parameters);
    }

    private async route(sql: string, parameters?: unknown): Promise<unknown> {
      if (sqlite && this.options.type === 'SELECT') return this.runTyped(sql, parameters);
      const tap = (this.options as Record<symbol, unknown>)[TAP] as StatementTap | undefined;
      if (!tap || this.options.type !== tap.plan.type) return this.send(sql, parameters);
      return this.runTapped(tap, sql, parameters);
    }

    private async runTapped(tap: StatementTap, sql: string, parameters: unknown): Promise<unknown> {
      if (tap.plan.prepare) await tap.plan.prepare(this.options);
      if (!tapsStatements) return this.runUntapped(tap, sql, parameters);
      // A tap with nothing to return only prepares.
      if (!tap.plan.returning && !tap.plan.wrap && !tap.plan.callerReturns) return this.send(sql, parameters);
      const client = this.connection as Client;
      this.connection = capturing(client, tap);
      try {
        return await this.send(tap.rewrite(sql), parameters);
      } finally {
        this.connection = client;
      }
    }

    /** SQLite SELECTs: a child model's table described with its whole chain's columns (see `withChainColumns`). */
    private async runTyped(sql: string, parameters: unknown): Promise<unknown> {
      const connection = this.connection;
      this.connection = withChainColumns(sequelize, connection as never);
      try {
        return await this.send(sql, parameters);
      } finally {
        this.connection = connection;
      }
    }

    /** Where statements cannot return rows: a narrowed write, or MariaDB's DELETE that can. */
    private runUntapped(tap: StatementTap, sql: string, parameters: unknown): Promise<unknown> {
      if (tap.plan.returning) return this.runReturning(tap, sql, parameters);
      return tap.plan.narrowed ? sendNarrowed(sqlDialect, sql, (text) => this.send(text, parameters)) : this.send(sql, parameters);
    }

    /**
     * MariaDB's `DELETE … RETURNING` and `INSERT … RETURNING` (`SqlDialect.deletesReturning`, `insertsReturning`):
     * the driver (promise API) answers with the rows instead of its OK packet; the library keeps the rows and hands
     * Sequelize the packet the statement alone gives — the affected rows and, for an INSERT, the insert id
     * (`TapPlan.insertId`) — which is all Sequelize reads of it.
     */
    private async runReturning(tap: StatementTap, sql: string, parameters: unknown): Promise<unknown> {
      const client = this.connection as { query(sql: string, ...rest: unknown[]): Promise<unknown> };
      const query = async (text: string, ...rest: unknown[]) => {
        const result = await client.query(text, ...rest);
        const rows = Array.isArray(result) ? [...(result as Row[])] : [];
        tap.capture({ rows });
        return { affectedRows: rows.length, insertId: tap.plan.insertId?.(tap.rows!) ?? 0, warningStatus: 0 };
      };
      this.connection = new Proxy(client, {
        get: (target, key): unknown => (key === 'query' ? query : Reflect.get(target, key, target)),
        set: (target, key, value) => Reflect.set(target, key, value, target),
      });
      try {
        return await this.send(tap.rewrite(sql), parameters);
      } finally {
        this.connection = client;
      }
    }
  }
  Object.defineProperty(TappedQuery, TAPPED, { value: true });
  Object.defineProperty(dialect, 'Query', { value: TappedQuery, writable: true, configurable: true, enumerable: false });
}

export type { DialectQuery };

/** Whether a statement carries bind parameters (then it is sent with the extended protocol: one statement). */
function hasParameters(parameters: unknown): boolean {
  if (Array.isArray(parameters)) return parameters.length > 0;
  return parameters != null && typeof parameters === 'object' && Object.keys(parameters).length > 0;
}

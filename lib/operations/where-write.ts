import { Op, type Model, type ModelStatic, type WhereOptions, type literal } from 'sequelize';
import type { WriteCall } from '../call';
import type { Row } from '../internals';
import { dialectFor } from '../dialect';
import { indistinctRows, rowIdOf } from '../data/sql';
import { isInherited } from '../inheritance/chain';
import { DescendantSignals } from '../inheritance/descendants';
import { sameValue } from '../data/diff';
import { columnsToAttributes, hasPrimaryKey, identityOf, keyOf } from '../data/model-info';
import type { StatementTap } from '../statement-tap';
import { listeningCascades, type CascadingAssociation } from './cascade';
import { debugLog } from '../debug';
import { writeInOneStatement } from './where-one-statement';
import { writeLocked } from './where-locked';

/**
 * One where-based statement as Sequelize's query interface receives it (`bulkUpdate`, `bulkDelete`,
 * `increment`/`decrement`): Sequelize has already applied its option checks, scopes, the paranoid clause and
 * every user hook, so this is the statement it decided to send. The library reads the rows it matches, locked,
 * and narrows it to them by adding a key restriction to Sequelize's own `where`.
 */
export interface WhereStatement {
  /** Sequelize's query type for the statement (what the tap waits for). */
  readonly type: 'BULKUPDATE' | 'BULKDELETE' | 'UPDATE';
  readonly tableName: unknown;
  /** Sequelize's final `where`, keyed by column. */
  readonly where: WhereOptions | undefined;
  /** The same `where` as SQL, rendered the way the statement renders it. */
  readonly conditions: string;
  /** At most this many rows (a delete's `limit`). */
  readonly limit?: number | undefined;
  /** Whether Sequelize's own statement returns rows (`returning`). */
  readonly callerReturns: boolean;
  /** A TRUNCATE: the whole table, no `where` to narrow. */
  readonly truncate?: boolean;
  /** Updates: the values every row gets, keyed by attribute; SQL expressions are listed in `expressions`. */
  readonly values: Row;
  readonly expressions: readonly string[];
  /** SQL that computes, on the locked row, what some expression attributes become (increment's arithmetic). */
  readonly predictions?: Readonly<Record<string, string>>;
  /** Logging options of the caller, for the library's own statements. */
  readonly logging: { logging?: unknown; benchmark?: unknown };
  /** Sends Sequelize's statement with `where` narrowed and the tap in its options. */
  send(where: WhereOptions | undefined, tap: StatementTap | undefined): Promise<unknown>;
}

/** Sequelize's `where` plus `restriction` (never replacing it). */
export function narrowed(where: WhereOptions | undefined, restriction: ReturnType<typeof literal>): WhereOptions {
  return where === undefined ? restriction : { [Op.and]: [where, restriction] };
}

/** Splits a statement's values (keyed by column, as Sequelize passes them) into plain values and expressions. */
export function splitValues(
  model: ModelStatic<Model>,
  columnValues: Row,
  isExpression: (v: unknown) => boolean,
): { values: Row; expressions: string[] } {
  const values: Row = {};
  const expressions: string[] = [];
  for (const [attribute, value] of Object.entries(columnsToAttributes(model, columnValues))) {
    if (isExpression(value)) expressions.push(attribute);
    else values[attribute] = value;
  }
  return { values, expressions };
}

/** Whether the statement changes what identifies a row (a primary key, or any column of a key-less table). */
export function movesIdentity(model: ModelStatic<Model>, statement: WhereStatement): boolean {
  if (!hasPrimaryKey(model)) return !indistinctRows(model) && !rowIdOf(model).stable;
  return identityOf(model).some((a) => a in statement.values || statement.expressions.includes(a));
}

/** Rows in the caller's order when the call was made for a list (bulkDestroy); identity order otherwise. */
export function inCallerOrder<T>(call: WriteCall, rows: T[], row: (item: T) => Row): T[] {
  if (!call.order) return rows;
  const rank = new Map(call.order.map((key, i) => [key, i]));
  const of = (item: T) => rank.get(keyOf(call.model, row(item))) ?? 0;
  return [...rows].sort((a, b) => of(a) - of(b));
}

/** What a before receiver changed on one proposed row, relative to the proposal. */
export function editsOf(values: Row, snapshot: Row, attributes: readonly string[]): Row {
  const set: Row = {};
  for (const a of attributes) if (!sameValue(snapshot[a], values[a])) set[a] = values[a];
  return set;
}

/**
 * After receivers alone can ride in the statement itself — unless rows are needed first (chunks, a TRUNCATE,
 * children to cascade to) or, before PostgreSQL 18, an update moves row identities (the CTE pairs by identity).
 */
function fitsOneStatement(call: WriteCall, statement: WhereStatement, pg18: boolean, cascades: readonly CascadingAssociation[]): boolean {
  if (call.listening!.before || call.chunkSize !== undefined || statement.truncate || cascades.length > 0) return false;
  return pg18 || statement.type === 'BULKDELETE' || !movesIdentity(call.model, statement);
}

function strategy(call: WriteCall, statement: WhereStatement, pg18: boolean, single: boolean): string {
  if (single)
    return `one statement (${statement.type === 'BULKDELETE' ? 'DELETE … RETURNING' : pg18 ? 'RETURNING old.*, new.*' : 'data-modifying CTE'})`;
  if (call.chunkSize !== undefined) return `locked read in chunks of ${call.chunkSize}`;
  if (statement.truncate) return 'LOCK TABLE, read, TRUNCATE';
  return dialectFor(call.model).tapsStatements ? 'locked read, then the statement' : 'locked read, the statement, a read by key';
}

/**
 * Rows that cannot be told apart (no primary key on MariaDB/MySQL): an update cannot pair old and new rows, so it
 * is refused before anything is written; a delete is signalled with the rows its locked read holds, whole — no
 * identity to read chunks by, so `chunkSize` does not apply.
 */
function refuseOrUnchunkIndistinct(call: WriteCall): void {
  if (!indistinctRows(call.model)) return;
  if (call.ctx.family === 'Update') rowIdOf(call.model, 'updates', 'afterUpdate');
  call.chunkSize = undefined;
}

/**
 * Whether the statement itself can return the rows it writes (a data-modifying CTE, `RETURNING old.*`, MariaDB's
 * DELETE … RETURNING). A child model's write is one statement per table: never.
 */
function returnsRows(model: WriteCall['model'], statement: WhereStatement): boolean {
  if (isInherited(model)) return false;
  const dialect = dialectFor(model);
  return dialect.oneStatementWhereWrites || (statement.type === 'BULKDELETE' && dialect.deletesReturning?.() === true);
}

/** Runs one where-based statement for a signalled call: see `WhereStatement`. */
export async function writeWhere(call: WriteCall, statement: WhereStatement): Promise<unknown> {
  const model = call.model;
  refuseOrUnchunkIndistinct(call);
  const dialect = dialectFor(model);
  const pg18 = dialect.returnsOld();
  const cascades = call.ctx.family === 'Delete' && statement.type === 'BULKDELETE' ? listeningCascades(model) : [];
  const descendants = DescendantSignals.of(call, statement.logging.logging);
  const single = !descendants.any && returnsRows(model, statement) && fitsOneStatement(call, statement, pg18, cascades);
  if (debugLog.call.enabled) {
    debugLog.call('%s.%s (%s): %s', model.name, call.ctx.operation, call.ctx.family.toLowerCase(), strategy(call, statement, pg18, single));
  }
  return single ? writeInOneStatement(call, statement, pg18) : writeLocked(call, statement, pg18, cascades, descendants);
}

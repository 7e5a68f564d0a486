import { literal, type Model, type ModelStatic } from 'sequelize';
import type { WriteCall } from '../call';
import { emitAfter, rowsOf } from '../dispatch';
import type { QueryGenerator, Row } from '../internals';
import { dialectFor } from '../dialect';
import {
  aliasOf,
  attributeAlias,
  lockedSelectSql,
  overParser,
  parseRow,
  selectList,
  selectListOf,
  type LockTarget,
} from '../data/locked-read';
import { PROBE, learnQuiet, probeColumn, quietReturned } from '../data/quiet-tables';
import { identityOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { generatorFor, identitySql, indistinctRows } from '../data/sql';
import { StatementTap } from '../statement-tap';
import { debugLog } from '../debug';
import { inCallerOrder, narrowed, type WhereStatement } from './where-write';

/** How the single statement is built: the restriction added to Sequelize's `where`, and the tap. */
interface Plan {
  /** Added to Sequelize's `where`; none where the statement itself locks and returns exactly its rows. */
  readonly restriction: ReturnType<typeof literal> | undefined;
  readonly tap: StatementTap;
}

interface Parts {
  readonly model: ModelStatic<Model>;
  readonly qg: QueryGenerator;
  readonly statement: WhereStatement;
  readonly target: LockTarget;
  /** `(pk) IN (SELECT pk … ORDER BY pk FOR UPDATE)`: rows locked in identity order, the order every writer uses. */
  readonly locking: string;
  /** The identity columns, quoted. */
  readonly ids: string[];
  /** The old identity columns as the tap names them. */
  readonly oldIds: string[];
  /**
   * What the new side returns on a quiet table (see quiet-tables.ts), else every attribute (`undefined`): decided
   * before the statement is built — the probe riding in it tells the next call, not this one.
   */
  readonly only: string[] | undefined;
}

function tuple(list: string[]): string {
  return list.length === 1 ? list[0]! : `(${list.join(', ')})`;
}

function parts(model: ModelStatic<Model>, statement: WhereStatement): Parts {
  const qg = generatorFor(model);
  const target: LockTarget = { model, tableName: statement.tableName, conditions: statement.conditions };
  // Rows without identity (MariaDB/MySQL, no primary key) only reach here as MariaDB's DELETE … RETURNING, which needs none.
  if (indistinctRows(model)) return { model, qg, statement, target, locking: '', ids: [], oldIds: [], only: undefined };
  const ids = identitySql(model, qg);
  const locking = `${tuple(ids)} IN (${lockedSelectSql(target, 'o', { limit: statement.limit }, ids.join(', '))})`;
  const oldIds = identityOf(model).map((a) => qg.quoteIdentifier(attributeAlias(model, 'o', a)));
  return { model, qg, statement, target, locking, ids, oldIds, only: quietReturned(model, statement) };
}

/** `DELETE … RETURNING` gives the deleted rows on every server. */
function deletePlan(p: Parts): Plan {
  const tap = new StatementTap({
    type: p.statement.type,
    callerReturns: false,
    returning: selectList(p.model, p.qg, 'o'),
    wrap: (sql) => `WITH d AS (${sql}) SELECT * FROM d ORDER BY ${p.oldIds.join(', ')}`,
  });
  return { restriction: literal(p.locking), tap };
}

/**
 * MariaDB ≥ 10.5: Sequelize's DELETE with `RETURNING` added — it locks, deletes and returns its rows itself, so
 * it needs no restriction (a single-table DELETE takes no index hint, and none is needed: it is vanilla's own
 * statement). The rows come back in the order it visited them; they are put in identity order.
 */
function returningDeletePlan(p: Parts): Plan {
  return {
    restriction: undefined,
    tap: new StatementTap({ type: p.statement.type, callerReturns: false, returning: selectList(p.model, p.qg, 'o') }),
  };
}

/** Rows in identity order (what the other plans' `ORDER BY` gives). */
function inIdentityOrder(model: ModelStatic<Model>, rows: Row[]): Row[] {
  if (indistinctRows(model)) return rows;
  const ids = identityOf(model);
  const value = (row: Row, a: string) => parseRow(model, row, 'o')![a] as number | string;
  return [...rows].sort((x, y) => {
    for (const a of ids) {
      const [u, v] = [value(x, a), value(y, a)];
      if (u !== v) return u < v ? -1 : 1;
    }
    return 0;
  });
}

/** Sends the statement as planned; the rows it returned, in identity order. */
async function sendPlanned(p: Parts, pg18: boolean): Promise<{ result: unknown; rows: Row[] }> {
  const own = p.statement.type === 'BULKDELETE' && dialectFor(p.model).deletesReturning?.() === true;
  const { restriction, tap } = planFor(p, own, pg18);
  const result = await p.statement.send(restriction ? narrowed(p.statement.where, restriction) : p.statement.where, tap);
  return { result, rows: own ? inIdentityOrder(p.model, tap.rows ?? []) : (tap.rows ?? []) };
}

function planFor(p: Parts, own: boolean, pg18: boolean): Plan {
  if (own) return returningDeletePlan(p);
  if (p.statement.type === 'BULKDELETE') return deletePlan(p);
  return pg18 ? returningOldPlan(p) : ctePlan(p);
}

/** New rows as whole rows: what came back of the new side, over the old row (`oldRows`, parsed) where only some of it did. */
function newRecordsOf(p: Parts, returned: Row[], oldRows: Row[]): Model[] {
  const parse = p.only ? overParser(p.model, 'n', p.only) : undefined;
  return buildRecords(
    p.model,
    returned.map((r, i) => (parse ? parse(r, oldRows[i]!) : parseRow(p.model, r, 'n')!)),
    true,
  );
}

/**
 * The new side of a one-statement update: on a quiet table only the key and the attributes the statement sets
 * (see quiet-tables.ts; the rest is the old side), else every attribute; the probe rides along until the table is
 * known.
 */
function newSide(p: Parts, prefix: string): string {
  const list = p.only ? selectListOf(p.model, p.qg, 'n', p.only, prefix) : selectList(p.model, p.qg, 'n', prefix);
  const probe = probeColumn(p.model, p.statement.tableName);
  return probe ? `${list}, ${probe}` : list;
}

/** PostgreSQL 18: `RETURNING old.*, new.*`. */
function returningOldPlan(p: Parts): Plan {
  const tap = new StatementTap({
    type: p.statement.type,
    callerReturns: p.statement.callerReturns,
    returning: `${selectList(p.model, p.qg, 'o', 'old.')}, ${newSide(p, 'new.')}`,
    wrap: (sql) => `WITH n AS (${sql}) SELECT * FROM n ORDER BY ${p.oldIds.join(', ')}`,
  });
  return { restriction: literal(p.locking), tap };
}

/**
 * Before PostgreSQL 18: `WITH o AS (SELECT … FOR UPDATE), n AS (UPDATE … RETURNING …) SELECT … FROM n JOIN o`.
 * The UPDATE must read `o`, or PostgreSQL may run it before `o` and the locked read would miss the rows it
 * already changed; `o`'s FOR UPDATE returns the newest version of each row, the one the UPDATE replaces.
 */
function ctePlan(p: Parts): Plan {
  const newIds = identityOf(p.model).map((a) => p.qg.quoteIdentifier(aliasOf('n', storedAttributes(p.model).indexOf(a))));
  const join = p.oldIds.map((o, i) => `o.${o} = n.${newIds[i]}`).join(' AND ');
  const tap = new StatementTap({
    type: p.statement.type,
    callerReturns: p.statement.callerReturns,
    returning: newSide(p, ''),
    wrap: (sql) =>
      `WITH o AS (${lockedSelectSql(p.target, 'o', { limit: p.statement.limit })}), n AS (${sql}) ` +
      `SELECT n.*, o.* FROM n JOIN o ON ${join} ORDER BY ${p.oldIds.map((a) => `o.${a}`).join(', ')}`,
  });
  return { restriction: literal(`${tuple(p.ids)} IN (SELECT ${p.oldIds.join(', ')} FROM o)`), tap };
}

/**
 * After receivers only: one statement locks the rows (in identity order, the order every writer uses, so
 * concurrent multi-row writes cannot deadlock), writes them and returns each row's old and new version —
 * `RETURNING old.*, new.*` on PostgreSQL 18, a data-modifying CTE before it, `DELETE … RETURNING` for deletes.
 */
export async function writeInOneStatement(call: WriteCall, statement: WhereStatement, pg18: boolean): Promise<unknown> {
  const model = call.model;
  const p = parts(model, statement);
  const { result, rows } = await sendPlanned(p, pg18);
  learnQuiet(model, statement.tableName, rows[0]?.[PROBE]);
  // Each returned row with its old side parsed once, in the caller's order where it gave one.
  const read = inCallerOrder(
    call,
    rows.map((raw) => ({ raw, old: parseRow(model, raw, 'o')! })),
    (r) => r.old,
  );
  if (debugLog.call.enabled) debugLog.call('%s.%s: %d row(s) written', model.name, call.ctx.operation, read.length);
  if (read.length === 0 || !call.listening!.after) return result;
  const returned = read.map((r) => r.raw);
  const oldRows = read.map((r) => r.old);
  // On a quiet table the new rows are built over the old ones: the old records get copies of the values, so a
  // receiver changing a date or JSON value of one record in place does not change the other.
  const olds = buildRecords(model, oldRows, !p.only);
  const news = call.ctx.family === 'Update' ? newRecordsOf(p, returned, oldRows) : [];
  // On a quiet table the rest of each new row is its old row: only what the statement returned can differ.
  await emitAfter(call.ctx, rowsOf(call.ctx, olds, news, p.only));
  return result;
}

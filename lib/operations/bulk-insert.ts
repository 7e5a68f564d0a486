import type { Model, ModelStatic, Transaction } from 'sequelize';
import { WriteCall, contextFor, isCall } from '../call';
import { emitAfter, emitBefore, rowsOf, type OperationContext } from '../dispatch';
import { instanceInternals, type Row } from '../internals';
import { listeningFor } from '../listening';
import { currentScope } from '../scope';
import { copyValues } from '../data/diff';
import { parseRow } from '../data/locked-read';
import { canonicalModel, columnOf, columnsToAttributes, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { StatementTap } from '../statement-tap';
import { dialectFor } from '../dialect';
import { InsertedRows, okPacketInsertId } from '../data/inserted-rows';
import { editsOf } from './where-write';
import { insertWithConflicts } from './bulk-insert-conflicts';
import { ConcurrentWriteError } from '../errors';
import { callerReturns, returningOf } from './row-write';

/** A bulk INSERT as Sequelize's query interface receives it: the rows as column-keyed values (after hooks and validation). */
export interface BulkInsertStatement {
  readonly tableName: unknown;
  /** Sequelize's own array of rows; receivers' edits are written into it before it is sent. */
  readonly records: Row[];
  readonly options: Row;
}

/**
 * A bulkCreate's included models (`include`) and through rows are inserted by Sequelize's internal helper with
 * fresh options: they belong to the signalled bulkCreate running around them (same transaction).
 */
export function includedInsertCall(options: Row): WriteCall | undefined {
  const outer = currentScope().writing;
  const model = options.model as ModelStatic<Model> | undefined;
  if (!isCall(outer) || !model || options.transaction !== outer.ctx.transaction) return undefined;
  const target = canonicalModel(model);
  const listening = listeningFor(target, 'Create', outer.ctx.options);
  if (!listening) return undefined;
  return new WriteCall(contextFor(target, 'Create', 'bulkCreate', 'model', outer.ctx.transaction, outer.ctx.options), listening, 'list');
}

/** A tap that changes nothing (Sequelize's statement as it is). */
export function untapped(): StatementTap {
  return new StatementTap({ type: 'INSERT', callerReturns: false });
}

/** The library's own statements of a call: its transaction and the caller's logging. */
export function queryOf(call: WriteCall, options: Row): { transaction: Transaction; logging?: never; benchmark?: boolean } {
  return {
    transaction: call.ctx.transaction,
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
    ...(options.benchmark === undefined ? {} : { benchmark: options.benchmark as boolean }),
  };
}

/** Writes receivers' edits of proposed records back into Sequelize's column-keyed rows. */
function writeBack(model: ModelStatic<Model>, record: Row, edits: Row): void {
  for (const [a, v] of Object.entries(edits)) record[columnOf(model, a)] = v;
}

/** No RETURNING through Sequelize (MariaDB, MySQL, SQLite): the inserted rows are found by key and read back. */
async function insertThenRead(
  call: WriteCall,
  statement: BulkInsertStatement,
  send: (tap: StatementTap) => Promise<unknown>,
): Promise<unknown> {
  const { ctx } = call;
  // The class Sequelize inserts through: a `Model.schema()` copy whose attributes an association changed
  // afterwards (a through model's key) differs from the model the receivers are registered on.
  const model = (statement.options.model as ModelStatic<Model> | undefined) ?? call.model;
  const inserted = new InsertedRows(model, statement.tableName, statement.records, undefined, queryOf(call, statement.options));
  await inserted.prepare();
  const result = await send(untapped());
  const found = await inserted.rows();
  const rows = found.filter((r): r is Row => r !== undefined);
  if (rows.length < found.length) {
    throw new ConcurrentWriteError(
      `${model.name}.bulkCreate: ${found.length - rows.length} of the ${found.length} inserted rows could not be found again by the ids ` +
        'the server numbered them with (with innodb_autoinc_lock_mode = 2, rows with explicit ids among generated ones are numbered ' +
        'unpredictably while other inserts run); nothing was signalled. Retry the call, or give every row its id or none.',
      { modelName: model.name, event: 'afterCreate' },
    );
  }
  if (rows.length > 0) await emitAfter(ctx, rowsOf(ctx, [], buildRecords(model, rows, true)));
  return result;
}

/** The before phase on records built from the rows about to be inserted; receivers' edits written into those rows. */
export async function beforeBulkInsert(ctx: OperationContext, model: ModelStatic<Model>, records: Row[]): Promise<void> {
  const attributes = storedAttributes(model);
  const proposed = buildRecords(
    model,
    records.map((r) => columnsToAttributes(model, r)),
  );
  const snapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
  await emitBefore(ctx, rowsOf(ctx, [], proposed));
  proposed.forEach((p, i) => writeBack(model, records[i]!, editsOf(instanceInternals(p).dataValues, snapshots[i]!, attributes)));
}

/**
 * The seam of `bulkCreate`'s INSERT: create events for the rows, the before phase on records built from the
 * rows Sequelize is about to insert (after its hooks, validation and timestamps), edits written into those rows;
 * after receivers get the rows the database returned. With `updateOnDuplicate` / `ignoreDuplicates`, see
 * `insertWithConflicts`.
 */
export async function writeBulkInsert(
  call: WriteCall,
  statement: BulkInsertStatement,
  send: (tap: StatementTap) => Promise<unknown>,
): Promise<unknown> {
  if (statement.options.updateOnDuplicate || statement.options.ignoreDuplicates) return insertWithConflicts(call, statement, send);
  const model = call.model;
  const { ctx, listening } = call.as('Create');
  if (!listening) return send(untapped());
  if (listening.before) await beforeBulkInsert(ctx, model, statement.records);
  if (returnsInserted(model, Boolean(listening.after))) return insertReturning(call, statement, send, Boolean(listening.after));
  return listening.after ? insertThenRead(call, statement, send) : send(untapped());
}

/** PostgreSQL's INSERT always returns rows (its tap costs nothing); MariaDB ≥ 10.5's, when after receivers need them. */
function returnsInserted(model: ModelStatic<Model>, after: boolean): boolean {
  const dialect = dialectFor(model);
  return dialect.tapsStatements || (after && dialect.insertsReturning?.() === true);
}

/**
 * The INSERT returns the inserted rows, database defaults and all: PostgreSQL (Sequelize's own RETURNING list
 * extended), MariaDB ≥ 10.5 (`RETURNING` added; Sequelize gets the OK packet the INSERT alone gives).
 */
async function insertReturning(
  call: WriteCall,
  statement: BulkInsertStatement,
  send: (tap: StatementTap) => Promise<unknown>,
  after: boolean,
): Promise<unknown> {
  const { model, ctx } = call;
  const tap = new StatementTap({
    type: 'INSERT',
    callerReturns: callerReturns(model, statement.options),
    ...returningOf(model, statement.options, 'n'),
    insertId: (rows) => okPacketInsertId(model, rows, statement.records),
  });
  const result = await send(tap);
  const rows = (tap.rows ?? []).map((r) => parseRow(model, r, 'n')!);
  // Sequelize refreshes its instances from the same returned rows: the records get copies of their values.
  if (after && rows.length > 0) await emitAfter(ctx, rowsOf(ctx, [], buildRecords(model, rows)));
  return result;
}

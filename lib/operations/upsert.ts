import type { Model } from 'sequelize';
import { CALL, WriteCall, contextFor, runFor, withTransaction, type AnyOptions } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import type { Family } from '../events';
import { ConcurrentWriteError } from '../errors';
import { generatorOf, instanceInternals, serverMajor, type Row } from '../internals';
import { listeningFor } from '../listening';
import { copyValues } from '../data/diff';
import { aliasOf, parseRow, readLocked, selectList } from '../data/locked-read';
import { conflictLookupSql } from '../data/conflicts';
import { attributeOfColumn, columnsToAttributes, identityOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { updateRowsFromValues } from '../data/update-from-values';
import { StatementTap } from '../statement-tap';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';
import { editsOf } from './where-write';

/** `Model.upsert(values)`: runs Sequelize's upsert with a call tag; the seam below signals its statement. */
export function wrapUpsert(original: Original): Original {
  return async function upsert(this: unknown, ...args: unknown[]) {
    const model = modelOf(this);
    if (!model || reentered(args, 1, 'upsert', model)) return original.apply(this, args);
    const options = args[1] as AnyOptions | undefined;
    warnOutsideTransaction(model, 'upsert', options);
    const listening = listeningFor(model, 'Create', options) ?? listeningFor(model, 'Update', options);
    if (!listening) return original.apply(this, ownArgs(args, 1, model));
    return withTransaction(model, options, (transaction) => {
      const call = new WriteCall(contextFor(model, 'Create', 'upsert', 'model', transaction, options), listening, 'list');
      call.method = 'upsert';
      return runFor(call, () => original.call(this, args[0], { ...options, transaction, [CALL]: call }));
    });
  };
}

export interface UpsertStatement {
  readonly tableName: unknown;
  /** Column-keyed, as Sequelize passes them (after validation, timestamps and `beforeUpsert`). */
  readonly insertValues: Row;
  readonly updateValues: Row;
  readonly where: Row;
  readonly options: Row;
}

/**
 * The seam of `Model.upsert`'s statement: a create event when it inserts, an update event with the real old
 * row when it updates. PostgreSQL 18 with after receivers only: one statement (`RETURNING old.*` is NULL for
 * an insert). Otherwise, just before the statement is sent — when Sequelize has chosen its conflict target
 * (`upsertKeys`) — the row is looked up, locked, by that target and `conflictWhere`; before receivers' edits
 * are written by key in one more statement. A concurrent writer that inserts the same key between lookup and
 * write fails the call with `ConcurrentWriteError`, nothing written. The caller's result is Sequelize's own.
 */
export async function writeUpsert(call: WriteCall, statement: UpsertStatement, send: (tap: StatementTap) => Promise<unknown>): Promise<unknown> {
  const model = call.model;
  const qg = generatorOf(model.sequelize!);
  const create = call.as('Create');
  const update = call.as('Update');
  const { options } = statement;
  const callerReturns = Boolean(options.returning);
  const attributes = storedAttributes(model);
  const instance = options.instance as Model | undefined;

  if (serverMajor(model.sequelize!) >= 18 && !create.listening?.before && !update.listening?.before) {
    const tap = new StatementTap({ type: 'UPSERT', callerReturns, returning: `${selectList(model, qg, 'o', 'old.')}, ${selectList(model, qg, 'n', 'new.')}` });
    const result = await send(tap);
    const [row] = tap.rows ?? [];
    if (row) {
      const old = parseRow(model, row, 'o');
      const side = old ? update : create;
      if (side.listening?.after) {
        await emitAfter(side.ctx, rowsOf(side.ctx, old ? buildRecords(model, [old], true) : [], buildRecords(model, [parseRow(model, row, 'n')!], true)));
      }
    }
    return result;
  }

  let existing: Row | undefined;
  let family = 'Create' as Family;
  let lookedUp: Row | undefined;
  let edits: Row = {};
  const prepare = async (queryOptions: Row) => {
    const keys = ((queryOptions.upsertKeys as string[] | undefined) ?? []).map((c) => attributeOfColumn(model, c) ?? c);
    const values = columnsToAttributes(model, statement.insertValues);
    lookedUp = keys.every((a) => values[a] != null) ? Object.fromEntries(keys.map((a) => [a, values[a]])) : undefined;
    if (lookedUp) {
      const conflictWhere = queryOptions.conflictWhere ? qg.whereQuery(queryOptions.conflictWhere, queryOptions).replace(/^\s*WHERE\s+/i, '') : '';
      const { rows } = await readLocked(
        { model, tableName: statement.tableName, conditions: conflictLookupSql(model, statement.tableName, [keys], [values], conflictWhere, qg) },
        { transaction: call.ctx.transaction, logging: options.logging, benchmark: options.benchmark },
      );
      existing = rows[0];
    }
    family = existing ? 'Update' : 'Create';
    const side = existing ? update : create;
    if (!side.listening?.before) return;
    const proposedRow = existing ? { ...existing, ...columnsToAttributes(model, statement.updateValues) } : values;
    const [proposed] = buildRecords(model, [proposedRow]) as [Model];
    const snapshot = copyValues(instanceInternals(proposed).dataValues, attributes);
    await emitBefore(side.ctx, rowsOf(side.ctx, existing ? buildRecords(model, [existing]) : [], [proposed]));
    edits = editsOf(instanceInternals(proposed).dataValues, snapshot, attributes);
  };
  const tap = new StatementTap({
    type: 'UPSERT', callerReturns, prepare,
    returning: `${selectList(model, qg, 'n')}, xmax AS ${qg.quoteIdentifier(aliasOf('x', 0))}`,
  });
  const result = await send(tap);
  const [row] = tap.rows ?? [];
  if (!row) return result; // DO NOTHING: nothing to update, nothing inserted
  const inserted = String(row[aliasOf('x', 0)]) === '0';
  if (inserted !== (family === 'Create')) {
    throw new ConcurrentWriteError(
      `${model.name}.upsert: the row with ${JSON.stringify(lookedUp ?? {})} was ${inserted ? 'deleted' : 'inserted'} by a concurrent `
        + `writer between the locked lookup and the write, so it is not the ${family === 'Update' ? 'update' : 'insert'} that was signalled; `
        + 'nothing was written. Retry the call.',
      { modelName: model.name, event: `before${family}` },
    );
  }
  let written = parseRow(model, row, 'n')!;
  if (Object.keys(edits).length > 0) {
    const key = Object.fromEntries(identityOf(model).map((a) => [a, written[a]]));
    const [edited] = await updateRowsFromValues(model, [{ key, set: edits }], { transaction: call.ctx.transaction, logging: options.logging, tableName: statement.tableName });
    if (edited) {
      written = edited;
      if (instance) for (const a of Object.keys(edits)) if (a in instanceInternals(instance).dataValues) instanceInternals(instance).dataValues[a] = edited[a];
    }
  }
  const side = family === 'Update' ? update : create;
  if (side.listening?.after) {
    await emitAfter(side.ctx, rowsOf(side.ctx, existing ? buildRecords(model, [existing], true) : [], buildRecords(model, [written], true)));
  }
  return result;
}

import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { WriteCall } from '../call';
import { instanceInternals, mapWhereFields, type Row } from '../internals';
import { mirrorOf, parseRow, readLocked, selectList } from '../data/locked-read';
import { canonicalModel, hasPrimaryKey, identityOf } from '../data/model-info';
import { rereadRows, rereadWhere } from '../data/reread';
import { okPacketInsertId } from '../data/inserted-rows';
import { dialectFor } from '../dialect';
import { currentValues, missingAttributes, previousValues } from '../data/records';
import { generatorFor, rowIdOf } from '../data/sql';
import { StatementTap } from '../statement-tap';

type RowStatement = 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * The query-interface seam of one instance's statement (`insert`, `update`, `delete`) in a signalled call: the
 * tap returns the row as the database wrote it (the new version; for a delete, the row deleted), kept on the
 * call for its after payload — Sequelize and the caller see exactly what they would without the library.
 */
export async function writeRow(
  call: WriteCall,
  instance: Model,
  type: RowStatement,
  options: Row,
  send: (tap: StatementTap | undefined) => Promise<unknown>,
): Promise<unknown> {
  const model = call.model;
  if (type === 'INSERT' && options.exception) {
    // findOrCreate's insert runs inside a function and returns every column, which Sequelize copies into the instance.
    const result = await send(undefined);
    call.written.set(instance, currentValues(model, instance));
    return result;
  }
  if (!returnsRow(model, type)) return writeRowThenRead(call, instance, type, options, send);
  const side = type === 'DELETE' ? 'o' : 'n';
  const returns = type !== 'DELETE' && callerReturns(model, options);
  const tap = new StatementTap({
    type,
    callerReturns: returns,
    ...(returns ? returningOf(model, options, side) : { returning: selectList(model, generatorFor(model), side) }),
    insertId: (rows) => okPacketInsertId(model, rows),
  });
  const result = await send(tap);
  const row = tap.rows?.[0];
  if (row) call.written.set(instance, parseRow(model, row, side)!);
  return result;
}

/** Whether the statement can return the row it wrote: PostgreSQL's always; MariaDB ≥ 10.5's INSERT. */
function returnsRow(model: ModelStatic<Model>, type: RowStatement): boolean {
  const dialect = dialectFor(model);
  return dialect.tapsStatements || (type === 'INSERT' && dialect.insertsReturning?.() === true);
}

/**
 * What a tapped INSERT or UPDATE adds to return its rows: nothing where Sequelize's own RETURNING lists every
 * field (`returning: true`: the library reads its rows from those, the driver parses each value once), else the
 * library's columns.
 */
export function returningOf(
  model: ModelStatic<Model>,
  options: Row,
  side: 'n' | 'o',
): { returning: string } | { mirror: (row: Row) => Row } {
  if (callerReturns(model, options) && options.returning === true) return { mirror: mirrorOf(model, side) };
  return { returning: selectList(model, generatorFor(model), side) };
}

/** Whether Sequelize's own statement carries RETURNING: asked for, where the dialect supports it (PostgreSQL; never MariaDB). */
export function callerReturns(model: ModelStatic<Model>, options: Row): boolean {
  return dialectFor(model).tapsStatements && Boolean(options.returning);
}

/**
 * Where statements cannot return rows: an INSERT or UPDATE is followed by a read of the row by its key (the
 * library holds it until COMMIT); a DELETE is preceded by a locked read of the row it removes.
 */
async function writeRowThenRead(
  call: WriteCall,
  instance: Model,
  type: RowStatement,
  options: Row,
  send: (tap: StatementTap | undefined) => Promise<unknown>,
): Promise<unknown> {
  const model = call.model;
  // Refused before anything is sent where rows without a key cannot be told apart (MariaDB/MySQL): an instance of
  // such a model is written by the `where` of the find that loaded it (Sequelize's `whereCollection`), which may
  // match any number of rows.
  if (!hasPrimaryKey(model))
    rowIdOf(model, `instance ${type === 'INSERT' ? 'inserts' : type === 'UPDATE' ? 'updates' : 'deletes'}`, `after${call.ctx.family}`);
  const query = { transaction: call.ctx.transaction, logging: options.logging };
  if (type === 'DELETE') {
    const row = await lockRow(instance, query);
    const result = await send(undefined);
    if (row) call.written.set(instance, row);
    return result;
  }
  const result = await send(undefined);
  const [raw] = await readWritten(model, instance, type, {
    transaction: call.ctx.transaction,
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  });
  if (raw) call.written.set(instance, parseRow(model, raw, 'n')!);
  return result;
}

/**
 * The row an instance's INSERT or UPDATE wrote, read again: by its primary key; without one (SQLite's rowid)
 * an INSERT's row is the one the connection last numbered, an UPDATE's the one the instance's where picks.
 */
function readWritten(model: ModelStatic<Model>, instance: Model, type: RowStatement, query: { transaction: Transaction; logging?: never }) {
  if (hasPrimaryKey(model)) {
    const key = Object.fromEntries(identityOf(model).map((a) => [a, instanceInternals(instance).dataValues[a]]));
    return rereadRows(model, tableOf(instance), [key], query);
  }
  const qg = generatorFor(model);
  const conditions =
    type === 'INSERT'
      ? dialectFor(model).generatedKeys!.last(rowIdOf(model).column)
      : qg.whereQuery(mapWhereFields(model, instance.where() as never), { model }).replace(/^\s*WHERE\s+/i, '') || '1 = 1';
  return rereadWhere(model, tableOf(instance), conditions, query);
}

/** The table an instance's statements go to (its constructor may be a `Model.schema()` subclass). */
export function tableOf(instance: Model): unknown {
  return (instance.constructor as ModelStatic<Model>).getTableName();
}

/** Reads one instance's row, locked `FOR UPDATE` (or `undefined` when it no longer exists). */
export async function lockRow(instance: Model, query: { transaction: Transaction; logging?: unknown }): Promise<Row | undefined> {
  const scoped = instance.constructor as ModelStatic<Model>;
  const model = canonicalModel(scoped);
  const qg = generatorFor(model);
  const where = mapWhereFields(model, instance.where() as never);
  const conditions = qg.whereQuery(where, { model }).replace(/^\s*WHERE\s+/i, '');
  const { rows } = await readLocked({ model, tableName: scoped.getTableName(), conditions }, query);
  return rows[0];
}

/**
 * The row as it was before the instance's pending write: its previous values, copied (no query) — unless it
 * lacks attributes (built from a key, loaded with `attributes: [...]`, or `exact` is asked for): then the row
 * is read from the database, locked. The instance itself is never changed.
 */
export async function oldRowOf(instance: Model, query: { transaction: Transaction; logging?: unknown }, exact = false): Promise<Row> {
  const model = canonicalModel(instance.constructor as ModelStatic<Model>);
  const previous = previousValues(model, instance);
  if (!exact && missingAttributes(model, instance).length === 0) return previous;
  const row = await lockRow(instance, query);
  if (!row) return previous;
  if (exact) return row;
  const loaded = instanceInternals(instance)._previousDataValues;
  return { ...row, ...Object.fromEntries(Object.entries(previous).filter(([a]) => loaded[a] !== undefined)) };
}

import { QueryTypes } from 'sequelize';
import type { Model, ModelStatic } from 'sequelize';
import { withTransaction, type AnyOptions, type WriteCall } from '../call';
import { instanceInternals, levelQueryInterface, type Row } from '../internals';
import { parseRow } from '../data/locked-read';
import { columnOf, identityOf } from '../data/model-info';
import { rereadRows } from '../data/reread';
import { lockRow } from '../operations/row-write';
import { insertLevels, insertReturns, levelQuery, levels, pickColumns, type LevelQuery } from './level-writes';

/**
 * One instance's statement of a child model (`inherit`): `save` of a new row inserts into every table of the
 * chain, root first; `save` of an existing one updates each table that stores a changed column; `destroy`
 * deletes the row from every table, leaf first — in one transaction. Sequelize gets what its own statement
 * would have given it (the instance, with its key set; refreshed from the database where INSERTs return rows),
 * and a signalled call the row as written (`call.written`).
 */
export async function writeInheritedRow(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  instance: Model,
  type: 'INSERT' | 'UPDATE' | 'DELETE',
  args: { values?: Row; where?: unknown; options: AnyOptions },
): Promise<unknown> {
  return withTransaction(model, args.options, async (transaction) => {
    const query = levelQuery(args.options, transaction);
    const listening = Boolean(call?.listening);
    if (type === 'INSERT') return insertRow(call, model, instance, args.values ?? {}, query, listening);
    if (type === 'UPDATE') return updateRow(call, model, instance, args, query, listening);
    return deleteRow(call, model, instance, args.where, query, listening);
  });
}

async function insertRow(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  instance: Model,
  values: Row,
  query: LevelQuery,
  listening: boolean,
): Promise<unknown> {
  const [written] = await insertLevels(model, [values], query);
  const returns = insertReturns(model);
  const current = instanceInternals(instance).dataValues;
  // As Sequelize's own INSERT: the key on every dialect, every column where the INSERT returns rows.
  for (const [a, v] of Object.entries(written!)) if (returns || identityOf(model).includes(a)) current[a] = v;
  if (listening) call!.written.set(instance, returns ? written! : ((await reread(model, written!, query)) ?? written!));
  return [instance, 1];
}

async function updateRow(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  instance: Model,
  args: { values?: Row; where?: unknown },
  query: LevelQuery,
  listening: boolean,
): Promise<unknown> {
  const qi = levelQueryInterface(model.sequelize!);
  const keys = new Set(identityOf(model).map((a) => columnOf(model, a)));
  let affected: number | undefined;
  for (const { level, columns, depth } of levels(model)) {
    const set = pickColumns(args.values ?? {}, columns, keys, depth === 0);
    if (Object.keys(set).length === 0) continue;
    const result = await qi.bulkUpdate(level.getTableName(), set, args.where, { ...query, model: level }, level.getAttributes());
    affected ??= Number(result);
  }
  if (listening) {
    const row = await reread(model, instanceInternals(instance).dataValues, query);
    if (row) call!.written.set(instance, row);
  }
  return [instance, affected ?? 0];
}

async function deleteRow(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  instance: Model,
  where: unknown,
  query: LevelQuery,
  listening: boolean,
): Promise<unknown> {
  const old = listening ? await lockRow(instance, query) : undefined;
  const qi = levelQueryInterface(model.sequelize!);
  let affected: number | undefined;
  for (const { level } of [...levels(model)].reverse()) {
    const result = await qi.bulkDelete(
      level.getTableName(),
      where,
      { ...query, model: level, limit: null, type: QueryTypes.BULKDELETE },
      level,
    );
    affected ??= Number(result);
  }
  if (old) call!.written.set(instance, old);
  return affected ?? 0;
}

/** The row of `values`' key, read again whole through the join. */
async function reread(model: ModelStatic<Model>, values: Row, query: LevelQuery): Promise<Row | undefined> {
  const key = Object.fromEntries(identityOf(model).map((a) => [a, values[a]]));
  const [raw] = await rereadRows(model, model.getTableName(), [key], query);
  return raw ? parseRow(model, raw, 'n') : undefined;
}

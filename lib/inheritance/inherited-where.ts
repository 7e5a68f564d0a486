import type { Model, ModelStatic } from 'sequelize';
import { WriteCall, contextFor, withTransaction, type AnyOptions } from '../call';
import type { Row } from '../internals';
import { dialectFor } from '../dialect';
import { parseRow } from '../data/locked-read';
import { columnOf, storedAttributes } from '../data/model-info';
import { rereadWhere } from '../data/reread';
import { writeWhere, type WhereStatement } from '../operations/where-write';
import { levelQuery, sendLevels, type LevelQuery, type LevelWrite } from './level-writes';

export type { LevelWrite };

/**
 * A where-based statement of a child model (`inherit`): the library's locked read through the join of its
 * tables picks the rows (Sequelize's own `where`, which may name any attribute of the chain), then each table
 * that stores a written column is written for exactly those keys. With receivers it is signalled as any other
 * where-based write; without, it still runs in one transaction (the caller's, or one the library opens).
 */
export async function writeInheritedWhere(
  call: WriteCall | undefined,
  statement: WhereStatement,
  write: LevelWrite,
  options: AnyOptions,
  model: ModelStatic<Model>,
): Promise<unknown> {
  return withTransaction(model, options, async (transaction) => {
    const query = levelQuery(options, transaction);
    const levelled: WhereStatement = {
      ...statement,
      send: async (restriction) => {
        const count = await sendLevels(model, write, restriction, query);
        return resultOf(model, write, restriction, count, options, query);
      },
    };
    return writeWhere(call ?? quietCall(model, write, transaction, options), levelled);
  });
}

/** A call nobody listens to: the locked read and the per-table writes, no payload. */
function quietCall(
  model: ModelStatic<Model>,
  write: LevelWrite,
  transaction: WriteCall['ctx']['transaction'],
  options: AnyOptions,
): WriteCall {
  const family = write.kind === 'delete' ? 'Delete' : 'Update';
  const operation = write.kind === 'delete' ? 'destroy' : write.kind === 'update' ? 'update' : write.kind;
  return new WriteCall(contextFor(model, family, operation, 'model', transaction, options), { before: false, after: false }, 'where');
}

/** The rows a restriction (the written keys) names, read again through the join, keyed by attribute. */
async function rowsOf(model: ModelStatic<Model>, restriction: unknown, query: LevelQuery): Promise<Row[]> {
  const sql = (restriction as { val: string }).val;
  const raw = await rereadWhere(model, model.getTableName(), sql, query);
  return raw.map((r) => parseRow(model, r, 'n')!);
}

/**
 * What Sequelize's own statement would have returned to its caller, for a single-table model on this dialect:
 * a count; with `returning` on PostgreSQL the rows (instances for `Model.update`, column-keyed rows for
 * `increment`); an instance's `increment` gets `[instance, count]`, the instance refreshed on PostgreSQL.
 */
async function resultOf(
  model: ModelStatic<Model>,
  write: LevelWrite,
  restriction: unknown,
  count: number,
  options: AnyOptions,
  query: LevelQuery,
): Promise<unknown> {
  const returns = dialectFor(model).tapsStatements;
  if (write.kind === 'delete') return count;
  if (write.kind === 'update') {
    if (!returns || !options.returning) return count;
    return model.bulkBuild((await rowsOf(model, restriction, query)) as never[], { isNewRecord: false, raw: true });
  }
  const instance = options.instance as Model | undefined;
  if (!returns) return [instance, count];
  const rows = await rowsOf(model, restriction, query);
  if (instance) {
    Object.assign((instance as unknown as { dataValues: Row }).dataValues, rows[0]);
    return [instance, count];
  }
  return [rows.map((row) => byColumn(model, row)), count];
}

/** An attribute-keyed row keyed by column instead, as a raw `RETURNING *` row is. */
function byColumn(model: ModelStatic<Model>, row: Row): Row {
  const out: Row = {};
  for (const a of storedAttributes(model)) if (a in row) out[columnOf(model, a)] = row[a];
  return out;
}

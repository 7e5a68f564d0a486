import type { Model, ModelStatic } from 'sequelize';
import { withTransaction, type AnyOptions, type WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf, type OperationContext } from '../dispatch';
import { instanceInternals, valuesOf, type Row } from '../internals';
import { dialectFor } from '../dialect';
import { copyValues } from '../data/diff';
import { parseRow, readLocked } from '../data/locked-read';
import { columnOf, columnsToAttributes, identityOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { rereadRows } from '../data/reread';
import { generatorFor, identityInSql } from '../data/sql';
import { updateRowsFromValues } from '../data/update-from-values';
import { beforeBulkInsert } from '../operations/bulk-insert';
import { editsOf } from '../operations/where-write';
import { insertLevels, insertReturns, levelQuery, type LevelQuery } from './level-writes';
import { DescendantSignals } from './descendants';

/**
 * `upsert` of a child model (`inherit`), resolved on its primary key: the row is looked up through the join,
 * locked; if the model has it, each table that stores an updated column is written (update events, with the
 * old row), otherwise the row is inserted table by table, root first (create events). Sequelize gets what its
 * upsert gives for a single-table model on this dialect: `[instance, created]` (`created` is `null` on
 * PostgreSQL), the instance refreshed where statements return rows.
 */
export async function writeInheritedUpsert(
  call: WriteCall | undefined,
  model: ModelStatic<Model>,
  statement: { insertValues: Row; updateValues: Row; options: AnyOptions },
): Promise<unknown> {
  const { options } = statement;
  return withTransaction(model, options, async (transaction) => {
    const query = levelQuery(options, transaction);
    const existing = await lockByKey(model, columnsToAttributes(model, statement.insertValues), query);
    const written = existing
      ? await updateExisting(call, model, existing, columnsToAttributes(model, statement.updateValues), query)
      : await insertNew(call, model, statement.insertValues, query);
    const instance = options.instance as Model | undefined;
    const returns = dialectFor(model).tapsStatements;
    if (instance) {
      const current = instanceInternals(instance).dataValues;
      for (const [a, v] of Object.entries(written)) if (returns || identityOf(model).includes(a)) current[a] = v;
    }
    return [instance, returns ? null : !existing];
  });
}

/** The model's row with the values' primary key, read locked through the join (none without a key). */
async function lockByKey(model: ModelStatic<Model>, values: Row, query: LevelQuery): Promise<Row | undefined> {
  const ids = identityOf(model);
  if (!ids.every((a) => values[a] != null)) return undefined;
  const { rows } = await readLocked(
    { model, tableName: model.getTableName(), conditions: identityInSql(model, [values], generatorFor(model)) },
    query,
  );
  return rows[0];
}

/** Who listens to one side (create or update) of the upsert: nobody without a signalled call. */
function sideOf(
  call: WriteCall | undefined,
  family: 'Create' | 'Update',
): { ctx: OperationContext; before: boolean; after: boolean } | undefined {
  const side = call?.as(family);
  return side?.listening ? { ctx: side.ctx, before: side.listening.before, after: side.listening.after } : undefined;
}

/** The update side: before receivers on old row + update, their edits written with it, after receivers on the row read again. */
async function updateExisting(call: WriteCall | undefined, model: ModelStatic<Model>, old: Row, set: Row, query: LevelQuery): Promise<Row> {
  const side = sideOf(call, 'Update');
  const descendants = DescendantSignals.forContext(side?.ctx, query.logging);
  await descendants.beforeRows([old], [set]);
  if (side?.before) await beforeUpdate(model, old, set, side.ctx);
  const key = Object.fromEntries(identityOf(model).map((a) => [a, old[a]]));
  // Read again for after receivers, and on PostgreSQL for the instance (Sequelize refreshes it from RETURNING there).
  const readBack = side?.after === true || dialectFor(model).tapsStatements;
  const [row] = await updateRowsFromValues(model, [{ key, set }], { ...query, readBack });
  await descendants.finishUpdate();
  const now = row ?? { ...old, ...set };
  if (side?.after) await emitAfter(side.ctx, rowsOf(side.ctx, buildRecords(model, [old]), buildRecords(model, [now], true)));
  return now;
}

/** Validate and before receivers on the row as the upsert proposes it; their edits join `set`. */
async function beforeUpdate(model: ModelStatic<Model>, old: Row, set: Row, ctx: OperationContext): Promise<void> {
  const attributes = storedAttributes(model);
  const [proposed] = buildRecords(model, [{ ...old, ...set }]) as [Model];
  const snapshot = copyValues(valuesOf(proposed), attributes);
  await emitBefore(ctx, rowsOf(ctx, buildRecords(model, [old]), [proposed]));
  Object.assign(set, editsOf(valuesOf(proposed), snapshot, attributes));
}

/** The insert side: before receivers' edits go into the row inserted; after receivers get the row as written. */
async function insertNew(call: WriteCall | undefined, model: ModelStatic<Model>, insertValues: Row, query: LevelQuery): Promise<Row> {
  const side = sideOf(call, 'Create');
  // The key is the database's to number: Sequelize passes it as NULL for an auto-increment model.
  const record = Object.fromEntries(Object.entries(insertValues).filter(([c, v]) => v !== undefined || !keyColumn(model, c)));
  if (side?.before) await beforeBulkInsert(side.ctx, model, [record]);
  const [written] = await insertLevels(model, [record], query);
  const row = insertReturns(model) ? written! : await reread(model, written!, query);
  if (side?.after) await emitAfter(side.ctx, rowsOf(side.ctx, [], buildRecords(model, [row], true)));
  return row;
}

function keyColumn(model: ModelStatic<Model>, column: string): boolean {
  return identityOf(model).some((a) => columnOf(model, a) === column);
}

async function reread(model: ModelStatic<Model>, written: Row, query: LevelQuery): Promise<Row> {
  const key = Object.fromEntries(identityOf(model).map((a) => [a, written[a]]));
  const [raw] = await rereadRows(model, model.getTableName(), [key], query);
  return raw ? parseRow(model, raw, 'n')! : written;
}

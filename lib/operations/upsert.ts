import type { Model, ModelStatic } from 'sequelize';
import { ConcurrentWriteError } from '../errors';
import { changedBetween, copyValues, presentIn } from '../data/diff';
import { canonicalModel, columnOf, internals, keyOf, repairReturnedKeys, storedAttributes } from '../data/model-info';
import { buildRecords, readLocked, type Row } from '../data/records';
import { attributesOf, uniqueColumnSets } from '../data/unique-keys';
import { updateRowsFromValues } from '../data/update-from-values';
import { emitAfter, emitBefore, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { INTERNAL, contextFor, isInternal, signalsOn, tagged, withTransaction, type AnyOptions } from './context';
import { receiverEdits } from './where-update';

type UpsertFn = (this: ModelStatic<Model>, values: Row, options?: AnyOptions) => Promise<[Model, boolean | null]>;

/**
 * The attributes of the ON CONFLICT target Sequelize's upsert will use (query-interface.js upsert):
 * `conflictFields`, else the first unique key or unique index containing an updated column, else the primary
 * key (also when the primary key itself is updated).
 */
function conflictTarget(model: ModelStatic<Model>, updated: readonly string[], options: AnyOptions | undefined): string[] {
  if (Array.isArray(options?.conflictFields) && options.conflictFields.length) return attributesOf(model, options.conflictFields as string[]);
  const pks = internals(model).primaryKeyAttributes;
  const updatedColumns = updated.map((a) => columnOf(model, a));
  const { keys: uniques, indexes } = uniqueColumnSets(model);
  let target: string[] = [];
  for (const column of updatedColumns) {
    const key = uniques.find((fields) => fields.includes(column)) ?? indexes.find((i) => i.columns.includes(column))?.columns;
    if (key) {
      target = key;
      break;
    }
  }
  if (target.length === 0 || pks.some((pk) => updatedColumns.includes(columnOf(model, pk)))) return [...pks];
  return [...new Set(attributesOf(model, target))];
}

/**
 * `Model.upsert`: the row is looked up (locked) by the conflict target first, so an inserted row fires create
 * events and an updated row fires update events with its real old values. The caller's `created` is a real
 * boolean (Sequelize reports `null` on PostgreSQL). If a concurrent writer inserts the same key between the
 * lookup and the write, the call fails with `ConcurrentWriteError` and nothing is written.
 */
export function wrapUpsert(original: UpsertFn): UpsertFn {
  return async function upsert(this: ModelStatic<Model>, values, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || (!signalsOn(model, 'Create', options) && !signalsOn(model, 'Update', options))) {
      return original.call(this, values, tagged(options, model));
    }
    return withTransaction(model, options, async (transaction) => {
      const attributes = storedAttributes(model);
      // Built as Sequelize builds it (setters, defaults): its changed() is what the upsert would update.
      const probe = this.build(values as never);
      const changed = [...((probe as unknown as { _changed: Set<string> })._changed)];
      const fields = Array.isArray(options?.fields) ? (options.fields as string[]) : changed;
      const updated = changed.filter((a) => fields.includes(a));
      const target = conflictTarget(model, updated, options);
      const key = target.every((a) => probe.dataValues[a] != null)
        ? Object.fromEntries(target.map((a) => [a, probe.dataValues[a]])) : undefined;
      const logging = { logging: options?.logging };
      const [existing] = key
        ? await readLocked(model.unscoped() as ModelStatic<Model>, key, { transaction, paranoid: false, ...logging })
        : [];
      const family = existing ? 'Update' : 'Create';
      const ctx = contextFor(model, family, 'upsert', 'model', transaction, options);

      const oldRecords = existing ? buildRecords(model, [existing]) : [];
      let proposed: Model;
      if (existing) {
        [proposed] = buildRecords(model, [existing]) as [Model];
        for (const a of updated) proposed.setDataValue(a as never, probe.dataValues[a] as never);
        const updatedAt = internals(model)._timestampAttributes.updatedAt;
        if (updatedAt) proposed.setDataValue(updatedAt as never, new Date() as never);
      } else {
        proposed = probe;
      }
      let snapshot: Row | undefined;
      if (hasBeforeReceivers(ctx)) {
        snapshot = copyValues(proposed.dataValues, attributes);
        await emitBefore(ctx, {
          newRecords: [proposed],
          oldRecords,
          changedFields: existing ? changedBetween(oldRecords, [proposed], attributes) : presentIn([proposed], attributes),
        });
      }

      const returning = [...attributes.map((a) => columnOf(model, a)), 'xmax'];
      const result = await original.call(this, values, { ...options, transaction, returning, [INTERNAL]: model });
      const [record] = result;
      const inserted = String(record.dataValues.xmax) === '0';
      delete record.dataValues.xmax;
      repairReturnedKeys(model, record);
      if (inserted === Boolean(existing)) {
        throw new ConcurrentWriteError(
          `${model.name}.upsert: the row with ${JSON.stringify(key ?? {})} was ${inserted ? 'deleted' : 'inserted'} by a concurrent `
            + `writer between the locked lookup and the write, so it is not the ${existing ? 'update' : 'insert'} that was signalled; `
            + 'nothing was written. Retry the call.',
          { modelName: model.name, event: `before${family}` },
        );
      }
      // Receiver edits the upsert itself did not carry: one more statement, by primary key.
      const edits = snapshot ? receiverEdits(model, [proposed], [snapshot], attributes) : [];
      if (edits.length > 0) {
        const pk = Object.fromEntries(internals(model).primaryKeyAttributes.map((a) => [a, record.dataValues[a]]));
        const [row] = await updateRowsFromValues(model, [{ key: pk, set: edits[0]!.set }], { transaction, ...logging });
        if (row && keyOf(model, row) === keyOf(model, pk)) Object.assign(record.dataValues, row);
      }
      if (hasAfterReceivers(ctx)) {
        await emitAfter(ctx, {
          newRecords: [record],
          oldRecords,
          changedFields: existing ? changedBetween(oldRecords, [record], attributes) : presentIn([record], attributes),
        });
      }
      return [record, inserted];
    });
  };
}

import { Op, type Model, type ModelStatic, type WhereOptions } from 'sequelize';
import { ConcurrentWriteError } from '../errors';
import { changedBetween, copyValues, presentIn } from '../data/diff';
import { canonicalModel, columnOf, internals, keyOf, keyPart, repairReturnedKeys, storedAttributes } from '../data/model-info';
import { buildRecords, readLocked, type Row } from '../data/records';
import { attributesOf, uniqueColumnSets } from '../data/unique-keys';
import { updateRowsFromValues } from '../data/update-from-values';
import { eventName } from '../events';
import { emit, hasAfterReceivers, hasBeforeReceivers } from '../dispatch';
import { INTERNAL, contextFor, withTransaction, type AnyOptions } from './context';
import { prebuilt } from './prebuilt';
import { receiverEdits } from './where-update';

type BulkCreateFn = (this: ModelStatic<Model>, records: readonly unknown[], options?: AnyOptions) => Promise<Model[]>;

/**
 * The key sets a row can conflict on. `updateOnDuplicate`: the one ON CONFLICT target Sequelize's bulkCreate
 * builds (model.js: conflictAttributes, else unique index fields plus the first unique key, else the primary
 * key). `ignoreDuplicates` (ON CONFLICT DO NOTHING): every unique constraint.
 */
function conflictKeys(model: ModelStatic<Model>, options: AnyOptions): string[][] {
  const pks = [...internals(model).primaryKeyAttributes];
  const sets = uniqueColumnSets(model);
  const uniques = sets.keys.map((columns) => attributesOf(model, columns));
  const indexes = sets.indexes.filter((i) => !i.partial).map((i) => attributesOf(model, i.columns));
  if (options.updateOnDuplicate) {
    if (Array.isArray(options.conflictAttributes) && options.conflictAttributes.length) return [attributesOf(model, options.conflictAttributes as string[])];
    const target = [...indexes.flat(), ...(uniques[0] ?? [])];
    return [target.length > 0 ? [...new Set(target)] : pks];
  }
  return [pks, ...uniques, ...indexes];
}

/** `'<keyset>|<values>'` for each complete key set of a row (a NULL in a key never conflicts). */
function conflictIds(keys: readonly string[][], values: Row): string[] {
  return keys.flatMap((key, i) => (key.every((a) => values[a] != null)
    ? [`${i}|${key.map((a) => keyPart(values[a])).join('\u0000')}`]
    : []));
}

function whereAnyKey(keys: readonly string[][], instances: readonly Model[]): WhereOptions | undefined {
  const clauses: WhereOptions[] = [];
  for (const key of keys) {
    const complete = instances.map((i) => i.dataValues as Row).filter((v) => key.every((a) => v[a] != null));
    if (complete.length === 0) continue;
    if (key.length === 1) clauses.push({ [key[0]!]: { [Op.in]: complete.map((v) => v[key[0]!]) } });
    else clauses.push(...complete.map((v) => Object.fromEntries(key.map((a) => [a, v[a]]))));
  }
  return clauses.length === 0 ? undefined : { [Op.or]: clauses };
}

/**
 * `bulkCreate` with `updateOnDuplicate` or `ignoreDuplicates`: the rows that already exist are read (locked)
 * by the conflict keys first, so inserted rows fire create events and, for `updateOnDuplicate`, conflicting
 * rows fire update events with their real old values; skipped rows (`ignoreDuplicates`) fire nothing. Every
 * returned instance carries the id the database has — Sequelize's own mapping gives skipped rows other rows'
 * ids (sequelize#13137). A concurrent writer that changes the outcome mid-call fails it with
 * `ConcurrentWriteError`, nothing written.
 */
export async function bulkCreateWithConflicts(
  scoped: ModelStatic<Model>,
  original: BulkCreateFn,
  records: readonly unknown[],
  options: AnyOptions,
): Promise<Model[]> {
  const model = canonicalModel(scoped);
  const updating = Boolean(options.updateOnDuplicate);
  return withTransaction(model, options, async (transaction) => {
    const attributes = storedAttributes(model);
    const pks = internals(model).primaryKeyAttributes;
    const logging = { logging: options.logging };
    const instances = records.map((values) => scoped.build(values as never, { isNewRecord: true }));
    const keys = conflictKeys(model, options);
    const where = whereAnyKey(keys, instances);
    const existing = where ? await readLocked(model.unscoped() as ModelStatic<Model>, where, { transaction, paranoid: false, ...logging }) : [];
    const existingById = new Map<string, Row>();
    for (const row of existing) for (const id of conflictIds(keys, row)) existingById.set(id, row);

    // Classify in the caller's order; a later duplicate of a key inserted earlier in the batch is skipped.
    const seen = new Set<string>();
    const inserts: Model[] = [];
    const updates: { instance: Model; old: Row }[] = [];
    for (const instance of instances) {
      const ids = conflictIds(keys, instance.dataValues as Row);
      const old = ids.map((id) => existingById.get(id)).find(Boolean);
      if (old) {
        if (updating) updates.push({ instance, old });
      } else if (!ids.some((id) => seen.has(id))) {
        inserts.push(instance);
      }
      for (const id of ids) seen.add(id);
    }

    const createCtx = contextFor(model, 'Create', 'bulkCreate', 'model', transaction, options);
    const updateCtx = contextFor(model, 'Update', 'bulkCreate', 'model', transaction, options);
    const updateFields = updating ? attributesOf(model, options.updateOnDuplicate as string[]) : [];
    const oldRecords = buildRecords(model, updates.map((u) => u.old));
    const proposed = updates.map(({ instance, old }) => {
      const [record] = buildRecords(model, [old]) as [Model];
      for (const a of updateFields) record.setDataValue(a as never, instance.dataValues[a] as never);
      return record;
    });
    const snapshots = proposed.map((p) => copyValues(p.dataValues, attributes));
    const createRows = { newRecords: inserts, oldRecords: [], changedFields: presentIn(inserts, attributes) };
    const updateRows = { newRecords: proposed, oldRecords, changedFields: changedBetween(oldRecords, proposed, attributes) };
    for (const phase of ['validate', 'before'] as const) {
      if (phase === 'validate' && options.bypassValidation === true) continue;
      if (inserts.length && hasBeforeReceivers(createCtx)) await emit(createCtx, eventName(phase, 'Create'), createRows);
      if (updates.length && hasBeforeReceivers(updateCtx)) await emit(updateCtx, eventName(phase, 'Update'), updateRows);
    }

    const before = instances.map((i) => ({ ...i.dataValues }));
    const returning = [...attributes.map((a) => columnOf(model, a)), 'xmax'];
    const result = await original.call(prebuilt(scoped, instances), instances, { ...options, transaction, returning, [INTERNAL]: model });
    for (const instance of result) repairReturnedKeys(model, instance);
    const returned = result.slice(0, updating ? instances.length : inserts.length).map((i) => ({ ...i.dataValues }));
    // Sequelize copies returned rows onto instances by index; re-assign them to the rows they belong to.
    const written = updating ? instances : inserts;
    if (!updating) {
      instances.forEach((instance, i) => {
        (instance as unknown as { dataValues: Row }).dataValues = { ...before[i] };
        instance.isNewRecord = true;
      });
    }
    if (returned.length !== written.length) throw raced(model, `${written.length} rows to write, ${returned.length} written`);
    written.forEach((instance, i) => {
      const row = returned[i]!;
      const expectInsert = !updating || inserts.includes(instance);
      if ((String(row.xmax) === '0') !== expectInsert) throw raced(model, `a row expected to be ${expectInsert ? 'inserted' : 'updated'} was not`);
      delete row.xmax;
      delete instance.dataValues.xmax;
      const ownKey = conflictIds(keys, instance.dataValues as Row);
      const rowKey = conflictIds(keys, row);
      if (ownKey.length && !ownKey.some((id) => rowKey.includes(id))) throw raced(model, 'returned rows do not match the records');
      Object.assign(instance.dataValues, row);
      instance.isNewRecord = false;
      (instance as unknown as { _previousDataValues: Row })._previousDataValues = { ...instance.dataValues };
      (instance as unknown as { _changed: Set<string> })._changed = new Set();
    });

    // Update-receiver edits beyond what updateOnDuplicate carried: one more statement.
    const edits = receiverEdits(model, proposed, snapshots, attributes)
      .map((w) => ({ key: Object.fromEntries(pks.map((pk) => [pk, w.key[pk]])), set: w.set }));
    if (edits.length > 0) {
      const rows = await updateRowsFromValues(model, edits, { transaction, ...logging });
      const byKey = new Map(rows.map((r) => [keyOf(model, r), r]));
      for (const { instance } of updates) Object.assign(instance.dataValues, byKey.get(keyOf(model, instance.dataValues as Row)) ?? {});
    }

    if (inserts.length && hasAfterReceivers(createCtx)) {
      await emit(createCtx, eventName('after', 'Create'), { newRecords: inserts, oldRecords: [], changedFields: presentIn(inserts, attributes) });
    }
    if (updates.length && hasAfterReceivers(updateCtx)) {
      const news = updates.map((u) => u.instance);
      await emit(updateCtx, eventName('after', 'Update'), { newRecords: news, oldRecords, changedFields: changedBetween(oldRecords, news, attributes) });
    }
    return instances;
  });
}

function raced(model: ModelStatic<Model>, detail: string): ConcurrentWriteError {
  return new ConcurrentWriteError(
    `${model.name}.bulkCreate: a concurrent writer changed which rows conflict between the locked lookup and the write `
      + `(${detail}); nothing was written. Retry the call.`,
    { modelName: model.name, event: 'afterCreate' },
  );
}


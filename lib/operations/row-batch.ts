import type { Model } from 'sequelize';
import type { AnyOptions, WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import { instanceInternals, internals, type Row } from '../internals';
import { copyValues } from '../data/diff';
import { readLocked } from '../data/locked-read';
import { compareKeys, keyOf, storedAttributes } from '../data/model-info';
import { buildRecords, currentValues } from '../data/records';
import { generatorFor, identityInSql } from '../data/sql';
import { editsOf } from './where-write';
import { tableOf } from './row-write';
import type { Original } from './method';

/**
 * `Model.update` with `individualHooks` whose per-row hooks changed rows differently: Sequelize then saves
 * each instance on its own (`Promise.all` of `instance.save`). Those saves join one batch per call: they all
 * start in the same tick, so the batch reads their rows once, locked, runs the before phase once for all of
 * them (receiver edits go into each row's own save), and the after phase runs once when Sequelize is done.
 */
interface RowBatch {
  readonly instances: Model[];
  readonly olds: Map<Model, Row>;
  readonly edits: Map<Model, Row>;
  ready: Promise<void> | undefined;
  /** Set once the before phase began: later saves open the next batch. */
  started: boolean;
}

const batches = new WeakMap<WriteCall, RowBatch[]>();

function openBatch(call: WriteCall): RowBatch {
  const list = batches.get(call) ?? [];
  batches.set(call, list);
  const last = list[list.length - 1];
  if (last && !last.started) return last;
  const batch: RowBatch = { instances: [], olds: new Map(), edits: new Map(), ready: undefined, started: false };
  list.push(batch);
  return batch;
}

async function prepare(call: WriteCall, batch: RowBatch, options: AnyOptions | undefined): Promise<void> {
  await Promise.resolve(); // every save of this tick has joined by now
  batch.started = true;
  if (call.shape === 'list') return prepareCreates(call, batch);
  const model = call.model;
  const attributes = storedAttributes(model);
  const keyRows = batch.instances.map((i) => currentKey(model, i));
  const { rows } = await readLocked(
    { model, tableName: tableOf(batch.instances[0]!), conditions: identityInSql(model, keyRows, generatorFor(model)) },
    { transaction: call.ctx.transaction, logging: options?.logging, benchmark: options?.benchmark },
  );
  const byKey = new Map(rows.map((r) => [keyOf(model, r), r]));
  const present = batch.instances.filter((i) => byKey.has(keyOf(model, currentKey(model, i))));
  for (const instance of present) batch.olds.set(instance, byKey.get(keyOf(model, currentKey(model, instance)))!);
  if (!call.listening!.before || present.length === 0) return;
  const oldRecords = buildRecords(
    model,
    present.map((i) => batch.olds.get(i)!),
  );
  // The row as the save will write it: Sequelize saves these rows with Model.update's `fields` only.
  const fields = Array.isArray(options?.fields) ? (options.fields as string[]) : undefined;
  const written = (i: Model) => {
    const values = currentValues(model, i);
    return fields ? Object.fromEntries(Object.entries(values).filter(([a]) => fields.includes(a))) : values;
  };
  const proposed = buildRecords(
    model,
    present.map((i) => ({ ...batch.olds.get(i)!, ...written(i) })),
  );
  const snapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
  await emitBefore(call.ctx, rowsOf(call.ctx, oldRecords, proposed));
  proposed.forEach((p, n) => {
    const set = editsOf(instanceInternals(p).dataValues, snapshots[n]!, attributes);
    if (Object.keys(set).length > 0) batch.edits.set(present[n]!, set);
  });
}

/** `bulkCreate` with `individualHooks`: Sequelize inserts each instance with `save`; one before phase for all. */
async function prepareCreates(call: WriteCall, batch: RowBatch): Promise<void> {
  const { ctx, listening } = call.as('Create');
  if (!listening?.before) return;
  const model = call.model;
  const attributes = storedAttributes(model);
  const proposed = buildRecords(
    model,
    batch.instances.map((i) => currentValues(model, i)),
    true,
  );
  const snapshots = proposed.map((p) => copyValues(instanceInternals(p).dataValues, attributes));
  await emitBefore(ctx, rowsOf(ctx, [], proposed));
  proposed.forEach((p, n) => {
    const set = editsOf(instanceInternals(p).dataValues, snapshots[n]!, attributes);
    if (Object.keys(set).length > 0) batch.edits.set(batch.instances[n]!, set);
  });
}

/** The primary key an instance is saved by. */
function currentKey(model: WriteCall['model'], instance: Model): Row {
  return Object.fromEntries(internals(model).primaryKeyAttributes.map((a) => [a, instanceInternals(instance).dataValues[a]]));
}

/** One row save of such a batch: waits for the batch's before phase, then saves with the receivers' edits. */
export async function joinRowSave(call: WriteCall, instance: Model, original: Original, args: unknown[]): Promise<unknown> {
  const batch = openBatch(call);
  batch.instances.push(instance);
  batch.ready ??= prepare(call, batch, args[0] as AnyOptions | undefined);
  await batch.ready;
  const set = batch.edits.get(instance);
  if (!set) return original.apply(instance, args);
  for (const [a, v] of Object.entries(set)) instance.setDataValue(a as never, v);
  const options = args[0] as AnyOptions | undefined;
  const fields = Array.isArray(options?.fields) ? [...new Set([...(options.fields as string[]), ...Object.keys(set)])] : options?.fields;
  return original.call(instance, { ...options, ...(fields ? { fields } : {}) });
}

/** After Sequelize's row saves: the batches' after phase, in identity order, for the rows actually written. */
export async function finishRowBatches(call: WriteCall): Promise<void> {
  for (const batch of batches.get(call) ?? []) {
    if (call.shape === 'list') await finishCreates(call, batch);
    else await finishUpdates(call, batch);
  }
}

async function finishCreates(call: WriteCall, batch: RowBatch): Promise<void> {
  const { ctx, listening } = call.as('Create');
  const done = batch.instances.filter((i) => call.written.has(i));
  if (!listening?.after || done.length === 0) return;
  await emitAfter(
    ctx,
    rowsOf(
      ctx,
      [],
      buildRecords(
        call.model,
        done.map((i) => call.written.get(i)!),
        true,
      ),
    ),
  );
}

async function finishUpdates(call: WriteCall, batch: RowBatch): Promise<void> {
  const model = call.model;
  const done = batch.instances
    .filter((i) => batch.olds.has(i) && call.written.has(i))
    .sort((a, b) => compareKeys(model, batch.olds.get(a)!, batch.olds.get(b)!));
  if (!call.listening!.after || done.length === 0) return;
  const olds = buildRecords(
    model,
    done.map((i) => batch.olds.get(i)!),
  );
  const news = buildRecords(
    model,
    done.map((i) => call.written.get(i)!),
    true,
  );
  await emitAfter(call.ctx, rowsOf(call.ctx, olds, news));
}

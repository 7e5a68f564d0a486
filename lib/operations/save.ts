import type { Model, ModelStatic } from 'sequelize';
import { CALL, WriteCall, callIn, contextFor, runFor, silentCall, withTransaction, type AnyOptions } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import type { Operation } from '../events';
import { internals, valuesOf, type Row } from '../internals';
import { listeningFor } from '../listening';
import { copyValues } from '../data/diff';
import { storedAttributes } from '../data/model-info';
import { buildRecords, currentValues } from '../data/records';
import { joinRowSave } from './row-batch';
import { oldRowOf } from './row-write';
import { editsOf } from './where-write';
import { debugLog } from '../debug';
import { DescendantSignals } from '../inheritance/descendants';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';

/** Carries the public operation name from `Model.create` / `instance.update` / `instance.restore` down to `save`. */
export const OPERATION = Symbol.for('sequelize-bulk-signals/operation@1');

/**
 * `instance.save()` — and through it `Model.create`, `instance.update()` and `instance.restore()`: create events
 * for a new row, update events for an existing one. Old values are the instance's previous values (no query;
 * a locked read only when the instance lacks attributes); before receivers get a copy of the row as it will be
 * written and their edits are set on the instance so Sequelize writes them; after receivers get the row as the
 * database returned it. Nothing changed means no write and no signal. Saves Sequelize makes inside one of the
 * library's calls (a paranoid destroy, a restore, `individualHooks` rows) belong to that call.
 */
export function wrapSave(original: Original): Original {
  return async function save(this: unknown, ...args: unknown[]) {
    const instance = this as Model;
    const model = modelOf(instance);
    if (!model) return original.apply(this, args);
    const options = args[0] as AnyOptions | undefined;
    const owner = callIn(options, model, instance);
    if (owner) return savePartOf(owner, instance, original, args);
    warnOutsideTransaction(model, 'save', options);
    const family = instance.isNewRecord ? 'Create' : 'Update';
    const listening = listeningFor(model, family, options);
    if (!listening) return original.apply(this, ownArgs(args, 0, model, instance));
    if (!instance.isNewRecord && !instance.changed()) {
      // Nothing to write, no signal — Sequelize still validates the instance: that is not the app's validate().
      return original.call(this, { ...(ownArgs(args, 0, model, instance)[0] as object), [CALL]: silentCall(model) });
    }
    return withTransaction(model, options, (transaction) => {
      const ctx = contextFor(model, family, (options?.[OPERATION] as Operation | undefined) ?? 'save', 'instance', transaction, options);
      return saveSignalled(new WriteCall(ctx, listening, 'instance', instance), original, options);
    });
  };
}

/** A save Sequelize makes inside one of the library's calls (a paranoid destroy, a restore, individualHooks rows). */
function savePartOf(owner: WriteCall, instance: Model, original: Original, args: unknown[]): Promise<unknown> {
  if (debugLog.call.enabled) debugLog.call('%s.save: part of its %s call', owner.model.name, owner.ctx.operation);
  // individualHooks rows of a Model.update or a bulkCreate: one before phase for all of them.
  if (owner.shape !== 'instance' && owner.listening) return joinRowSave(owner, instance, original, args);
  return original.apply(instance, args);
}

/** One signalled save: old row, before phase, Sequelize's save with the call tag, after phase. */
async function saveSignalled(call: WriteCall, original: Original, options: AnyOptions | undefined): Promise<unknown> {
  const { ctx, model } = call;
  const instance = call.instance!;
  // A new row is no descendant's; an existing one may be (`inherit`).
  const descendants = DescendantSignals.of(call, options?.logging);
  const old = instance.isNewRecord ? undefined : await oldRowOf(instance, { transaction: ctx.transaction, logging: options?.logging });
  const fields = await beforeSaveAll(call, instance, old, options, descendants);
  const sent = { ...options, ...(fields ? { fields } : {}), transaction: ctx.transaction, [CALL]: call };
  const result = await runFor(call, () => original.call(instance, sent));
  if (old) await descendants.finishUpdate();
  const written = call.written.get(instance);
  if (call.listening!.after && written) {
    // `written` may be the row Sequelize refreshed the instance from: the record gets copies of its values.
    await emitAfter(ctx, rowsOf(ctx, old ? buildRecords(model, [old]) : [], buildRecords(model, [written])));
  }
  return result;
}

/**
 * The before phases of a save: receivers of descendants whose rows this is (`inherit`) first — their edits to
 * this model's attributes are set on the instance — then this model's own. Returns the fields to save.
 */
async function beforeSaveAll(
  call: WriteCall,
  instance: Model,
  old: Row | undefined,
  options: AnyOptions | undefined,
  descendants: DescendantSignals,
): Promise<string[] | undefined> {
  let edited: string[] = [];
  if (old && descendants.any) {
    await descendants.read([old]);
    const [set] = await descendants.before('Update', () => currentValues(call.model, instance));
    for (const [a, v] of Object.entries(set ?? {})) instance.setDataValue(a as never, v);
    edited = Object.keys(set ?? {});
  }
  const fields = call.listening!.before ? await beforeSave(call, instance, old, options) : explicitFields(options);
  return fields && edited.length > 0 ? [...new Set([...fields, ...edited])] : fields;
}

function explicitFields(options: AnyOptions | undefined): string[] | undefined {
  return Array.isArray(options?.fields) ? (options.fields as string[]) : undefined;
}

/**
 * The before phase of one instance's save: receivers get a copy of the row as it will be written (the old row
 * and the instance's values), and what they change on it is set on the instance. Returns the fields to save:
 * Sequelize writes what changed on the instance by itself unless the caller named the fields; then the edited
 * ones are added.
 */
async function beforeSave(
  call: WriteCall,
  instance: Model,
  old: Row | undefined,
  options: AnyOptions | undefined,
): Promise<string[] | undefined> {
  const model = call.model;
  const attributes = storedAttributes(model);
  const [proposed] = buildRecords(model, [{ ...old, ...currentValues(model, instance) }]) as [Model];
  const snapshot = copyValues(valuesOf(proposed), attributes);
  await emitBefore(call.ctx, rowsOf(call.ctx, old ? buildRecords(model, [old]) : [], [proposed]));
  const edits = editsOf(valuesOf(proposed), snapshot, attributes);
  for (const [a, v] of Object.entries(edits)) instance.setDataValue(a as never, v);
  const fields = explicitFields(options);
  return fields && [...new Set([...fields, ...Object.keys(edits)])];
}

/** Tags a call so `save` reports the public operation (`create`, `update`, `restore`). */
function naming(operation: Operation, optionsAt: number) {
  return (original: Original): Original =>
    function named(this: unknown, ...args: unknown[]) {
      if (!modelOf(this)) return original.apply(this, args);
      const next = [...args];
      while (next.length <= optionsAt) next.push(undefined);
      next[optionsAt] = { ...(next[optionsAt] as object | undefined), [OPERATION]: operation };
      return original.apply(this, next);
    };
}

/** `Model.create`: `save` reports `operation: 'create'`. */
export const wrapCreate = naming('create', 1);
/** `instance.update(values)`: `save` reports `operation: 'update'`. */
export const wrapInstanceUpdate = naming('update', 1);

/** `instance.restore()`: Sequelize saves `deletedAt` back to its default; an update reported as `operation: 'restore'`. */
export function wrapInstanceRestore(original: Original): Original {
  return async function restore(this: unknown, ...args: unknown[]) {
    const instance = this as Model;
    const model = modelOf(instance);
    if (!model || reentered(args, 0, 'instance.restore', model, instance)) return original.apply(this, args);
    const options = args[0] as AnyOptions | undefined;
    const listening = listeningFor(model, 'Update', options);
    if (!listening) return original.apply(this, ownArgs(args, 0, model, instance));
    return withTransaction(model, options, (transaction) => {
      const ctx = contextFor(model, 'Update', 'restore', 'instance', transaction, options);
      const call = new WriteCall(ctx, listening, 'instance', instance);
      call.method = 'instance.restore';
      return restoreSignalled(call, original, options);
    });
  };
}

/** One signalled restore: descendants' before receivers (`inherit`), then this model's; Sequelize's restore; after receivers. */
async function restoreSignalled(call: WriteCall, original: Original, options: AnyOptions | undefined): Promise<unknown> {
  const { ctx, model, listening } = call;
  const instance = call.instance!;
  const old = await oldRowOf(instance, { transaction: ctx.transaction, logging: options?.logging });
  const restored = restoredValues(model, instance);
  const descendants = DescendantSignals.of(call, options?.logging);
  await descendants.beforeRows([old], [{ ...restored }]);
  if (listening!.before) await emitBefore(ctx, rowsOf(ctx, buildRecords(model, [old]), buildRecords(model, [restored], true)));
  const result = await runFor(call, () => original.call(instance, { ...options, transaction: ctx.transaction, [CALL]: call }));
  await descendants.finishUpdate();
  const written = call.written.get(instance);
  if (listening!.after && written) await emitAfter(ctx, rowsOf(ctx, buildRecords(model, [old]), buildRecords(model, [written])));
  return result;
}

/** The instance's values with `deletedAt` back to its default, as `restore` will write them. */
function restoredValues(model: ModelStatic<Model>, instance: Model): Row {
  const values = currentValues(model, instance);
  const deletedAt = internals(model)._timestampAttributes.deletedAt;
  if (deletedAt) {
    const attribute = model.getAttributes()[deletedAt] as { defaultValue?: unknown };
    values[deletedAt] = Object.prototype.hasOwnProperty.call(attribute, 'defaultValue') ? attribute.defaultValue : null;
  }
  return values;
}

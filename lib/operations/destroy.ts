import type { Model, ModelStatic } from 'sequelize';
import { CALL, WriteCall, contextFor, isSoftDelete, runFor, silentCall, withTransaction, type AnyOptions } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import type { Operation } from '../events';
import { internals, type Row } from '../internals';
import { listeningFor } from '../listening';
import { buildRecords } from '../data/records';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';
import { oldRowOf } from './row-write';
import { OPERATION } from './save';
import { whereMethod } from './update';
import { DescendantSignals } from '../inheritance/descendants';

/** Row keys in the caller's order, for list operations routed through a where-based delete (bulkDestroy). */
export const ORDER = Symbol.for('sequelize-bulk-signals/order@1');

/**
 * `Model.destroy({ where })` and `Model.truncate()` / `destroy({ truncate: true })`: delete events for every
 * row the statement Sequelize sends removes (or soft-deletes).
 */
export const wrapModelDestroy = whereMethod('destroy', 0, (args, model) => {
  const options = args[0] as AnyOptions | undefined;
  const truncate = options?.truncate === true;
  return {
    family: 'Delete',
    operation: (options?.[OPERATION] as Operation | undefined) ?? (truncate ? 'truncate' : 'destroy'),
    via: 'model',
    soft: isSoftDelete(model, options),
    chunked: !truncate && options?.[ORDER] === undefined,
    ...(options?.[ORDER] ? { order: options[ORDER] as readonly string[] } : {}),
  };
});

/** Whether this instance would be written by a destroy at all (a soft-deleted instance is left as it is). */
function alreadySoftDeleted(model: ModelStatic<Model>, instance: Model, options: AnyOptions | undefined): boolean {
  if (!isSoftDelete(model, options)) return false;
  const deletedAt = internals(model)._timestampAttributes.deletedAt!;
  const attribute = internals(model).rawAttributes[deletedAt]!;
  const value = instance.getDataValue(deletedAt as never) as unknown;
  const fallback = Object.prototype.hasOwnProperty.call(attribute, 'defaultValue') ? attribute.defaultValue : null;
  return !(value == null && fallback == null) && JSON.stringify(value) !== JSON.stringify(fallback);
}

/** Whether Sequelize's own `instance.destroy` cascades (`onDelete: 'CASCADE', hooks: true` associations). */
function cascadesOnInstance(model: ModelStatic<Model>): boolean {
  return Object.values(internals(model).associations ?? {}).some(
    (a) => a.options.onDelete?.toLowerCase() === 'cascade' && a.options.useHooks === true,
  );
}

/**
 * `instance.destroy()`: delete events for the instance's row. The old row is the instance's previous values
 * (no query) for the before phase — or the row read locked, when the instance lacks attributes, when before
 * receivers listen, or when Sequelize will cascade to children (the lock keeps new children from being added
 * meanwhile); after receivers get the row the DELETE returned (a soft delete: the old row), and none fire when
 * nothing was deleted.
 */
export function wrapInstanceDestroy(original: Original): Original {
  return async function destroy(this: unknown, ...args: unknown[]) {
    const instance = this as Model;
    const model = modelOf(instance);
    if (!model || reentered(args, 0, 'instance.destroy', model, instance)) return original.apply(this, args);
    const options = args[0] as AnyOptions | undefined;
    warnOutsideTransaction(model, 'destroy', options);
    const listening = listeningFor(model, 'Delete', options);
    const soft = isSoftDelete(model, options);
    if (!listening || alreadySoftDeleted(model, instance, options)) {
      // A paranoid destroy saves the instance internally: that save is not an update of the caller's.
      if (soft && listeningFor(model, 'Update', options)) {
        return original.call(this, { ...(ownArgs(args, 0, model, instance)[0] as object), [CALL]: silentCall(model) });
      }
      return original.apply(this, ownArgs(args, 0, model, instance));
    }
    return withTransaction(model, options, (transaction) => {
      const ctx = contextFor(model, 'Delete', 'destroy', 'instance', transaction, options, soft);
      const call = new WriteCall(ctx, listening, 'instance', instance);
      call.method = 'instance.destroy';
      return destroySignalled(call, original, ownArgs(args, 0, model, instance)[0] as AnyOptions | undefined);
    });
  };
}

/** One signalled instance destroy: old row, before phases (descendants' first), Sequelize's destroy, after phases. */
async function destroySignalled(call: WriteCall, original: Original, clean: AnyOptions | undefined): Promise<unknown> {
  const { ctx, model, listening } = call;
  const instance = call.instance!;
  const transaction = ctx.transaction;
  // Locked when Sequelize cascades to children: the lock keeps new children from being added meanwhile.
  const exact = !ctx.soft && cascadesOnInstance(model);
  const descendants = DescendantSignals.of(call, clean?.logging);
  const oldRow = await oldRowOf(instance, { transaction, logging: clean?.logging }, exact);
  await descendants.read([oldRow]);
  await descendants.before('Delete', () => ({}));
  if (listening!.before) await emitBefore(ctx, rowsOf(ctx, buildRecords(model, [oldRow]), []));
  const result = await runFor(call, () => original.call(instance, { ...clean, transaction, [CALL]: call }));
  await afterDestroy(call, descendants, oldRow);
  return result;
}

/** After receivers (descendants' first) — none when nothing was deleted; a soft delete's row is the old one. */
async function afterDestroy(call: WriteCall, descendants: DescendantSignals, oldRow: Row): Promise<void> {
  const { ctx, model } = call;
  const written = call.written.get(call.instance!);
  if (!written && !ctx.soft) return;
  await descendants.after('Delete');
  if (call.listening!.after && written) await emitAfter(ctx, rowsOf(ctx, buildRecords(model, [ctx.soft ? oldRow : written]), []));
}

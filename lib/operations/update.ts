import type { Model, ModelStatic } from 'sequelize';
import { CALL, WriteCall, chunkSizeFor, contextFor, runFor, withTransaction, type AnyOptions } from '../call';
import type { Family, Operation, Via } from '../events';
import { listeningFor } from '../listening';
import { finishRowBatches } from './row-batch';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';

/**
 * The wrapper of a where-based static method: when the call signals, it runs Sequelize's own method in the
 * caller's transaction (or one it opens) with a call tag in the options; the query-interface seam then signals
 * the statement Sequelize decides to send (see `where-write`). Nothing else about the call changes.
 */
export function whereMethod(
  name: string,
  optionsAt: number,
  describe: (
    args: unknown[],
    model: ModelStatic<Model>,
  ) => { family: Family; operation: Operation; via: Via; soft?: boolean; chunked: boolean; order?: readonly string[] } | undefined,
) {
  return (original: Original): Original =>
    async function whereWrapper(this: unknown, ...args: unknown[]) {
      const model = modelOf(this);
      if (!model) return original.apply(this, args);
      if (reentered(args, optionsAt, name, model)) return original.apply(this, args);
      const options = args[optionsAt] as AnyOptions | undefined;
      warnOutsideTransaction(model, name, options);
      const what = describe(args, model);
      const listening = what && listeningFor(model, what.family, options);
      if (!what || !listening) return original.apply(this, ownArgs(args, optionsAt, model));
      return withTransaction(model, options, async (transaction) => {
        const call = new WriteCall(
          contextFor(model, what.family, what.operation, what.via, transaction, options, what.soft),
          listening,
          'where',
        );
        call.method = name;
        call.target = this as ModelStatic<Model>;
        if (what.chunked) call.chunkSize = chunkSizeFor(model, options);
        call.order = what.order;
        const next = [...args];
        next[optionsAt] = { ...options, transaction, [CALL]: call };
        const result = await runFor(call, () => original.apply(this, next));
        await finishRowBatches(call);
        return result;
      });
    };
}

/** `Model.update(values, { where })`: update events for every row the statement writes. */
export const wrapModelUpdate = whereMethod('update', 1, () => ({ family: 'Update', operation: 'update', via: 'model', chunked: true }));

/**
 * `Model.increment/decrement` and `instance.increment/decrement` (which Sequelize routes through the static
 * `increment`): update events carrying the values the database computed.
 */
export const wrapIncrement = whereMethod('increment', 1, (args) => {
  const options = args[1] as AnyOptions | undefined;
  return {
    family: 'Update',
    operation: options?.increment === false ? 'decrement' : 'increment',
    via: options?.instance ? 'instance' : 'model',
    chunked: false,
  };
});

/** `Model.restore({ where })` of a paranoid model: update events (`deletedAt` back to its default). */
export const wrapModelRestore = whereMethod('restore', 0, () => ({ family: 'Update', operation: 'restore', via: 'model', chunked: true }));

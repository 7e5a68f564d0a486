import type { Model, ModelStatic } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import type { Family } from '../events';
import { canonicalModel, isModelClass } from '../data/model-info';
import { isInternal, signalsOn, type AnyOptions } from './context';

type StaticFn = (this: ModelStatic<Model>, ...args: unknown[]) => Promise<unknown>;

/**
 * Write paths the library cannot signal correctly yet. While anyone listens for the families they would
 * produce, they refuse with a typed error before writing, instead of writing with no signal; with no
 * receivers (or with `bypassSignals`) they are Sequelize's own. `optionsAt` is the argument holding options.
 */
function refuseWhileListening(method: string, families: readonly Family[], optionsAt: number) {
  return (original: StaticFn): StaticFn => async function notYet(this: ModelStatic<Model>, ...args: unknown[]) {
    const model = isModelClass(this) ? canonicalModel(this) : this;
    const options = args[optionsAt] as AnyOptions | undefined;
    if (!isInternal(options, model) && families.some((f) => signalsOn(model, f, options))) {
      throw new UnsupportedOperationError(
        `${model.name}.${method} cannot be signalled yet; nothing was written. Pass bypassSignals: true to `
          + `write without signals (receivers listen for ${families.join('/')} events on ${model.name}).`,
        { modelName: model.name, event: `before${families[0]}` },
      );
    }
    return original.apply(this, args);
  };
}

/** `Model.upsert(values, options)`: insert-or-update is not told apart yet. */
export const wrapUpsert = refuseWhileListening('upsert', ['Create', 'Update'], 1);

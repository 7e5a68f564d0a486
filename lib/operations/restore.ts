import { Op, type Model, type ModelStatic, type WhereOptions } from 'sequelize';
import { canonicalModel, internals, rowToAttributes } from '../data/model-info';
import type { Row } from '../data/records';
import { INTERNAL, isInternal, signalsOn, tagged, type AnyOptions } from './context';
import { runWhereUpdate } from './where-update';

type ModelRestoreFn = (this: ModelStatic<Model>, options?: AnyOptions) => Promise<unknown>;

/**
 * `Model.restore({ where })` of a paranoid model: update events (`deletedAt` back to its default) for the
 * matched rows that were soft-deleted. While receivers listen, only those rows are written, so the count
 * returned is the number of rows restored.
 */
export function wrapModelRestore(original: ModelRestoreFn): ModelRestoreFn {
  return async function restore(this: ModelStatic<Model>, options) {
    const model = canonicalModel(this);
    const deletedAt = internals(model)._timestampAttributes.deletedAt;
    if (!deletedAt || isInternal(options, model) || !signalsOn(model, 'Update', options)) {
      return original.call(this, tagged(options, model));
    }
    const attribute = model.getAttributes()[deletedAt] as { defaultValue?: unknown };
    const restored = Object.prototype.hasOwnProperty.call(attribute, 'defaultValue') ? attribute.defaultValue : null;
    const softDeleted = { [deletedAt]: restored === null ? { [Op.ne]: null } : { [Op.ne]: restored } };
    const where = options?.where ? { [Op.and]: [options.where as WhereOptions, softDeleted] } : softDeleted;
    return runWhereUpdate(this, {
      operation: 'restore',
      via: 'model',
      options: options ?? {},
      where,
      paranoid: false,
      stampsUpdatedAt: false, // Sequelize's restore sets deletedAt only
      plainValues: { [deletedAt]: restored },
      expressionFields: [],
      write: async (keys, transaction) => {
        const result = await original.call(this, {
          ...options, where: keys, transaction, returning: true, raw: true, [INTERNAL]: model,
        }) as Row[];
        const rows = result.map((r) => rowToAttributes(model, r));
        return { rows, result: rows.length };
      },
      writeNothing: (transaction) => original.call(this, { ...options, transaction, [INTERNAL]: model }),
    });
  };
}

import type { Model, ModelStatic, WhereOptions } from 'sequelize';
import { canonicalModel, columnOf, rowToAttributes } from '../data/model-info';
import { generatorOf, sqlType } from '../data/sql';
import { buildRecords } from '../data/records';
import { inPrimaryKeyLockOrder, splitOldNew, updateReturningOldNew } from '../data/returning-old';
import type { Row } from '../data/records';
import { INTERNAL, isInternal, signalsOn, tagged, type AnyOptions } from './context';
import { isExpression, runWhereUpdate } from './where-update';

type UpdateFn = (this: ModelStatic<Model>, values: Row, options: AnyOptions) => Promise<unknown>;
type IncrementFn = (this: ModelStatic<Model>, fields: unknown, options: AnyOptions) => Promise<unknown>;

/** `Model.update(values, { where })`: update events for every matched row. */
export function wrapModelUpdate(original: UpdateFn): UpdateFn {
  return async function update(this: ModelStatic<Model>, values, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || !signalsOn(model, 'Update', options)) return original.call(this, values, tagged(options, model));
    const fields = Array.isArray(options?.fields) ? new Set(options.fields as string[]) : undefined;
    const plainValues: Row = {};
    const expressionFields: string[] = [];
    for (const [key, value] of Object.entries(values ?? {})) {
      if (value === undefined || (fields && !fields.has(key))) continue;
      if (isExpression(value)) expressionFields.push(key);
      else plainValues[key] = value;
    }
    return runWhereUpdate(this, {
      operation: 'update',
      via: 'model',
      options,
      where: options?.where as WhereOptions | undefined,
      paranoid: options?.paranoid as boolean | undefined,
      stampsUpdatedAt: options?.silent !== true,
      plainValues,
      expressionFields,
      write: async (where, transaction) => {
        const result = await original.call(this, values, {
          ...options, where, transaction, returning: true, raw: true, [INTERNAL]: model,
        }) as [number, Row[]];
        const rows = (result[1] ?? []).map((r) => rowToAttributes(model, r));
        const callerResult = options?.returning
          ? [result[0], this.bulkBuild(rows as never[], { isNewRecord: false, raw: true })]
          : [result[0]];
        return { rows, result: callerResult };
      },
      writeNothing: (transaction) => original.call(this, values, { ...options, transaction, [INTERNAL]: model }),
      combine: (results) => {
        const parts = results as [number, Model[]?][];
        const count = parts.reduce((n, [c]) => n + c, 0);
        return options?.returning ? [count, parts.flatMap(([, rows]) => rows ?? [])] : [count];
      },
      writeReturningOld: async (transaction) => {
        const where = options?.where as WhereOptions | undefined;
        const result = await original.call(this, values, {
          ...options,
          where: inPrimaryKeyLockOrder(model, where),
          transaction,
          raw: true,
          ...updateReturningOldNew(model, where),
          [INTERNAL]: model,
        }) as [number, Row[]];
        const { old, next } = splitOldNew(model, result[1] ?? []);
        const callerResult = options?.returning
          ? [result[0], buildRecords(this, next)]
          : [result[0]];
        return { old, next, result: callerResult };
      },
    });
  };
}

/**
 * `Model.increment/decrement` and `instance.increment/decrement` (which Sequelize routes through the static
 * `increment`): update events carrying the values the database computed.
 */
export function wrapIncrement(original: IncrementFn): IncrementFn {
  return async function increment(this: ModelStatic<Model>, fields, options) {
    const model = canonicalModel(this);
    if (isInternal(options, model) || !signalsOn(model, 'Update', options)) return original.call(this, fields, tagged(options, model));
    const decrement = options?.increment === false;
    const by = options?.by ?? 1;
    const amounts: Row = typeof fields === 'string' ? { [fields]: by }
      : Array.isArray(fields) ? Object.fromEntries(fields.map((f) => [String(f), by]))
        : { ...(fields as Row) };
    const expressionFields = Object.keys(amounts);
    // The same arithmetic Sequelize's increment writes, evaluated on the locked row, casts to the column type.
    const qg = generatorOf(model);
    const predictions = Object.fromEntries(expressionFields.filter((a) => a in model.getAttributes()).map((a) => [a,
      `CAST(${qg.quoteIdentifier(columnOf(model, a))} ${decrement ? '-' : '+'} ${qg.escape(amounts[a])} AS ${sqlType(model, a, qg)})`]));
    return runWhereUpdate(this, {
      operation: decrement ? 'decrement' : 'increment',
      via: options?.instance ? 'instance' : 'model',
      options,
      where: options?.where as WhereOptions | undefined,
      paranoid: false, // Sequelize's increment has no paranoid clause
      stampsUpdatedAt: options?.silent !== true,
      plainValues: {},
      expressionFields,
      predictions,
      write: async (where, transaction) => {
        const result = await original.call(this, fields, {
          ...options, where, transaction, returning: true, [INTERNAL]: model,
        }) as [[Row[] | Model, number], number];
        const [returned, count] = result[0];
        // From instance.increment Sequelize copies the row into the instance and hands back the instance.
        const rawRows = Array.isArray(returned) ? returned : [returned.dataValues as Row];
        const rows = rawRows.map((r) => rowToAttributes(model, r));
        // Sequelize's own result shape depends on the caller's `returning` (reference §2.9).
        const pair = [options?.returning === false ? [] : returned, count];
        return { rows, result: options?.returning === true ? [pair, pair.length] : [pair] };
      },
      writeNothing: (transaction) => original.call(this, fields, { ...options, transaction, [INTERNAL]: model }),
    });
  };
}

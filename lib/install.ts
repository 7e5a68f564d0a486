import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { InstallError } from './errors';
import { installReturningRewrite } from './data/returning-old';
import { installStateOf, markInstalled, type InstallOptions } from './install-state';
import { wrapBulkCreate } from './operations/bulk-create';
import { wrapInstanceDestroy, wrapModelDestroy } from './operations/destroy';
import { wrapModelRestore } from './operations/restore';
import { wrapCreate, wrapInstanceRestore, wrapInstanceUpdate, wrapSave } from './operations/save';
import { wrapIncrement, wrapModelUpdate } from './operations/update';
import { wrapUpsert } from './operations/upsert';
import { wrapValidate } from './operations/validate';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (this: any, ...args: never[]) => unknown;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wrapper = (original: any) => AnyFn;

const ORIGINAL = Symbol.for('sequelize-bulk-signals/original@1');
const WRAPPED = Symbol.for('sequelize-bulk-signals/wrapped@1');
const HOOK_NAME = 'sequelize-bulk-signals:wrap-model';

const STATIC_WRAPPERS: Record<string, Wrapper> = {
  create: wrapCreate,
  bulkCreate: wrapBulkCreate,
  update: wrapModelUpdate,
  destroy: wrapModelDestroy,
  increment: wrapIncrement,
  upsert: wrapUpsert,
  restore: wrapModelRestore,
};
const INSTANCE_WRAPPERS: Record<string, Wrapper> = {
  save: wrapSave,
  update: wrapInstanceUpdate,
  destroy: wrapInstanceDestroy,
  restore: wrapInstanceRestore,
  validate: wrapValidate,
};

function wrapAll(target: Record<string, unknown>, wrappers: Record<string, Wrapper>): void {
  for (const [name, wrap] of Object.entries(wrappers)) {
    const current = target[name] as AnyFn & { [ORIGINAL]?: AnyFn };
    // A model extending another wrapped model wraps the same original, not the parent's wrapper.
    const original = current[ORIGINAL] ?? current;
    const wrapped = wrap(original as never) as AnyFn & { [ORIGINAL]?: AnyFn };
    Object.defineProperty(wrapped, ORIGINAL, { value: original });
    Object.defineProperty(wrapped, 'name', { value: name });
    Object.defineProperty(target, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  }
}

/** Wraps one model's write methods (own properties on the model class and its prototype). */
function wrapModel(model: ModelStatic<Model>): void {
  if (Object.prototype.hasOwnProperty.call(model, WRAPPED)) return;
  wrapAll(model as unknown as Record<string, unknown>, STATIC_WRAPPERS);
  wrapAll(model.prototype as unknown as Record<string, unknown>, INSTANCE_WRAPPERS);
  Object.defineProperty(model, WRAPPED, { value: true });
}

function isSequelize(target: unknown): target is Sequelize {
  const s = target as Partial<Sequelize> | null;
  return typeof s === 'object' && s !== null
    && typeof s.define === 'function' && typeof s.addHook === 'function'
    && typeof s.getDialect === 'function' && typeof s.transaction === 'function'
    && typeof s.models === 'object';
}

/**
 * Installs the signal normalizer on one Sequelize instance: every model of it, defined before or after this
 * call (plain Sequelize or sequelize-typescript), gets its write methods wrapped so they produce signals.
 * A second call on the same instance is a no-op. Models with no receivers keep vanilla behaviour and cost.
 *
 * @example
 * const sequelize = new Sequelize(process.env.DATABASE_URL);
 * installBulkSignals(sequelize);
 */
export function installBulkSignals(sequelize: Sequelize, options: InstallOptions = {}): void {
  if (!isSequelize(sequelize)) {
    throw new InstallError(`installBulkSignals expected a Sequelize instance, got ${sequelize === null ? 'null' : typeof sequelize}`);
  }
  if (installStateOf(sequelize)) return;
  const dialect = sequelize.getDialect();
  if (dialect !== 'postgres') {
    throw new InstallError(`installBulkSignals supports PostgreSQL; this Sequelize instance uses '${dialect}'`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InstallError(`installBulkSignals options must be an object, got ${String(options)}`);
  }
  if (options.maxDepth !== undefined && !(Number.isInteger(options.maxDepth) && options.maxDepth > 0)) {
    throw new InstallError(`installBulkSignals: maxDepth must be a positive integer, got ${String(options.maxDepth)}`);
  }
  markInstalled(sequelize, options);
  for (const model of Object.values(sequelize.models)) wrapModel(model as ModelStatic<Model>);
  sequelize.addHook('afterDefine', HOOK_NAME, (model) => wrapModel(model as ModelStatic<Model>));
  installReturningRewrite(sequelize);
}

import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { InstallError } from './errors';
import { differingOptions, effectiveOptions, installStateOf, isSequelize, markInstalled, type InstallOptions } from './install-state';
import { modelBaseOf } from './internals';
import { SUPPORTED_DIALECTS, attachDialect, type DialectName } from './dialect';
import { registerDeclared } from './on-signal';
import { installSeams } from './seams';
import { installStatementTap } from './statement-tap';
import type { Original } from './operations/method';
import { wrapBulkCreate } from './operations/bulk-create';
import { wrapInstanceDestroy, wrapModelDestroy } from './operations/destroy';
import { wrapCreate, wrapInstanceRestore, wrapInstanceUpdate, wrapSave } from './operations/save';
import { wrapIncrement, wrapModelRestore, wrapModelUpdate } from './operations/update';
import { wrapUpsert } from './operations/upsert';
import { wrapValidate } from './operations/validate';

type Wrapper = (original: Original) => Original;

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

const PATCHED = Symbol.for('sequelize-bulk-signals/patched@2');
const WRAPPER = Symbol.for('sequelize-bulk-signals/wrapper@2');

function wrapAll(target: Record<string, unknown>, wrappers: Record<string, Wrapper>, ownOnly = false): void {
  for (const [name, wrap] of Object.entries(wrappers)) {
    if (ownOnly && !Object.prototype.hasOwnProperty.call(target, name)) continue;
    const current = target[name] as Original & { [WRAPPER]?: true };
    if (typeof current !== 'function' || current[WRAPPER]) continue;
    const wrapped = wrap(current) as Original & { [WRAPPER]?: true };
    Object.defineProperty(wrapped, 'name', { value: name });
    Object.defineProperty(wrapped, WRAPPER, { value: true });
    Object.defineProperty(target, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  }
}

/**
 * Classes between a model and Sequelize's `Model` that define the write methods themselves — sequelize-typescript's
 * `Model` replaces every static with a proxy that calls the method it captured when it loaded — get the same
 * wrappers, so their calls signal too (a wrapper reached twice for one call passes the inner call through).
 */
function patchBetween(model: ModelStatic<Model>, base: ModelStatic<Model>): void {
  for (
    let cls = Object.getPrototypeOf(model) as ModelStatic<Model> | null;
    cls && cls !== base;
    cls = Object.getPrototypeOf(cls) as ModelStatic<Model> | null
  ) {
    if (Object.prototype.hasOwnProperty.call(cls, PATCHED)) continue;
    wrapAll(cls as unknown as Record<string, unknown>, STATIC_WRAPPERS, true);
    wrapAll(cls.prototype as unknown as Record<string, unknown>, INSTANCE_WRAPPERS, true);
    Object.defineProperty(cls, PATCHED, { value: true });
  }
}

/**
 * Wraps the write methods of Sequelize's `Model` base class, once per loaded copy of Sequelize. Every model
 * inherits them — defined before or after, plain or sequelize-typescript, scoped or not — so no hook is
 * registered anywhere: resetting `sequelize.options.hooks` or copying an instance's options cannot lose or
 * break the library. A wrapper does nothing but call the method it wraps unless the model's Sequelize
 * instance ran `installBulkSignals`; a spy or patch put on a method later wraps the library's wrapper.
 */
function patchModelBase(Model: ModelStatic<Model>): void {
  if (Object.prototype.hasOwnProperty.call(Model, PATCHED)) return;
  wrapAll(Model as unknown as Record<string, unknown>, STATIC_WRAPPERS);
  wrapAll(Model.prototype as unknown as Record<string, unknown>, INSTANCE_WRAPPERS);
  const init = (Model as unknown as { init: (...args: unknown[]) => unknown }).init;
  Object.defineProperty(Model, 'init', {
    value: function initThenPatch(this: ModelStatic<Model>, ...args: unknown[]) {
      const result = init.apply(this, args);
      patchBetween(this, Model);
      registerDeclared(this);
      return result;
    },
    writable: true,
    configurable: true,
    enumerable: false,
  });
  Object.defineProperty(Model, PATCHED, { value: true });
}

/**
 * Installs the signal normalizer on one Sequelize instance: every model of it, defined before or after this
 * call (plain Sequelize or sequelize-typescript), produces signals on every write path. A second call on the
 * same instance with the same options is a no-op; with other options it throws `InstallError`. Models with no
 * receivers keep vanilla behaviour and cost.
 *
 * @example
 * const sequelize = new Sequelize(process.env.DATABASE_URL);
 * installBulkSignals(sequelize);
 */
export function installBulkSignals(sequelize: Sequelize, options: InstallOptions = {}): void {
  checkArguments(sequelize, options);
  if (alreadyInstalled(sequelize, options)) return;
  const dialect = sequelize.getDialect();
  if (!SUPPORTED_DIALECTS.includes(dialect as DialectName)) {
    throw new InstallError(`installBulkSignals supports ${SUPPORTED_DIALECTS.join(', ')}; this Sequelize instance uses '${dialect}'`);
  }
  attachDialect(sequelize);
  const base = modelBaseOf(sequelize);
  patchModelBase(base);
  for (const model of Object.values(sequelize.models)) patchBetween(model, base);
  installStatementTap(sequelize);
  installSeams(sequelize);
  markInstalled(sequelize, options);
  for (const model of Object.values(sequelize.models)) registerDeclared(model);
}

function checkArguments(sequelize: Sequelize, options: InstallOptions): void {
  if (!isSequelize(sequelize)) {
    throw new InstallError(`installBulkSignals expected a Sequelize instance, got ${sequelize === null ? 'null' : typeof sequelize}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new InstallError(`installBulkSignals options must be an object, got ${String(options)}`);
  }
  for (const name of ['maxDepth', 'chunkSize'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
      throw new InstallError(`installBulkSignals: ${name} must be a positive integer, got ${String(value)}`);
    }
  }
}

/** A second install with the same options is a no-op; with other options it is a mistake worth an error. */
function alreadyInstalled(sequelize: Sequelize, options: InstallOptions): boolean {
  const installed = installStateOf(sequelize);
  if (!installed) return false;
  const differing = differingOptions(installed.options, effectiveOptions(options));
  if (differing.length === 0) return true;
  throw new InstallError(
    `installBulkSignals: this Sequelize instance is installed already, with other options (${differing.join(', ')}); ` +
      'install once, at start-up, with the options you want',
  );
}

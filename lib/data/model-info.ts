import type { Model, ModelStatic } from 'sequelize';
import { internals, type Row } from '../internals';

export { internals };

/** Duck-typed: a class that went through `Model.init` (plain Sequelize or sequelize-typescript). */
export function isModelClass(target: unknown): target is ModelStatic<Model> {
  return (
    typeof target === 'function' &&
    typeof (target as { findAll?: unknown }).findAll === 'function' &&
    typeof (target as { rawAttributes?: unknown }).rawAttributes === 'object' &&
    (target as { rawAttributes?: unknown }).rawAttributes !== null
  );
}

/** A class that extends Sequelize's Model but has not been initialised on a Sequelize instance yet. */
export function isUninitialisedModelClass(target: unknown): boolean {
  if (typeof target !== 'function') return false;
  type Base = { name?: unknown; init?: unknown; findAll?: unknown } | null;
  for (
    let proto = Object.getPrototypeOf(target) as Base;
    proto && proto !== Function.prototype;
    proto = Object.getPrototypeOf(proto) as Base
  ) {
    if (proto.name === 'Model' && typeof proto.init === 'function' && typeof proto.findAll === 'function') return true;
  }
  return false;
}

/**
 * The model a class stands for: scoped models (`Model.scope()`, `unscoped()`) and repository subclasses are
 * `class extends Model {}` and share the registered model's receivers.
 */
export function canonicalModel<M extends Model>(model: ModelStatic<M>): ModelStatic<M> {
  const registered = model.sequelize?.models?.[model.name] as ModelStatic<M> | undefined;
  if (registered && registered !== model && model.prototype instanceof registered) return registered;
  return model;
}

/** Real (non-virtual) attribute names, in definition order. */
export function storedAttributes(model: ModelStatic<Model>): string[] {
  const m = internals(model);
  // Keyed by the Set Sequelize rebuilds on every refreshAttributes (init, association foreign keys), so the
  // list follows attributes added after the first write.
  const cached = attributeCache.get(m._virtualAttributes);
  if (cached) return cached;
  const names = Object.keys(m.rawAttributes).filter((a) => !m._virtualAttributes.has(a));
  attributeCache.set(m._virtualAttributes, names);
  return names;
}
const attributeCache = new WeakMap<object, string[]>();

/** Column name of an attribute (`field:` or `underscored` mapping). */
export function columnOf(model: ModelStatic<Model>, attribute: string): string {
  return internals(model).rawAttributes[attribute]?.field ?? attribute;
}

/** The attribute stored in `column` (Sequelize lets unique keys, indexes and statements name either). */
export function attributeOfColumn(model: ModelStatic<Model>, column: string): string | undefined {
  const attrs = internals(model).rawAttributes;
  if (attrs[column] && (attrs[column].field ?? column) === column) return column;
  const byField = Object.keys(attrs).find((a) => (attrs[a]!.field ?? a) === column);
  return byField ?? (attrs[column] ? column : undefined);
}

/** Maps a hash keyed by column names (as Sequelize hands values to the query interface) to attribute names. */
export function columnsToAttributes(model: ModelStatic<Model>, values: Row): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(values)) {
    const attribute = attributeOfColumn(model, column);
    if (attribute) out[attribute] = value;
  }
  return out;
}

/**
 * The name PostgreSQL gives the row-identity column a model without a primary key is read with (`ctid`, the
 * row version's physical address; stable while the library's transaction holds the row lock).
 */
export const CTID = '__bs_ctid';

/** The attributes that tell rows apart: the primary key, or `CTID` for a model without one. */
export function identityOf(model: ModelStatic<Model>): readonly string[] {
  const pks = internals(model).primaryKeyAttributes;
  return pks.length > 0 ? pks : CTID_IDENTITY;
}
const CTID_IDENTITY = Object.freeze([CTID]);

export function hasPrimaryKey(model: ModelStatic<Model>): boolean {
  return internals(model).primaryKeyAttributes.length > 0;
}

/** A string key for a row's identity (composite keys included), for pairing rows. */
export function keyOf(model: ModelStatic<Model>, values: Row): string {
  const ids = identityOf(model);
  if (ids.length === 1) return keyPart(values[ids[0]!]);
  return ids.map((a) => keyPart(values[a])).join('\u0000');
}

/** A string standing for one key value (dates by time, buffers by bytes), for maps keyed by row identity. */
export function keyPart(value: unknown): string {
  if (value instanceof Date) return String(value.getTime());
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return String(value);
}

/** Identity order, as the locked read's ORDER BY gives it (numbers numerically, the rest as strings). */
export function compareKeys(model: ModelStatic<Model>, a: Row, b: Row): number {
  for (const attribute of identityOf(model)) {
    const order = compareValues(a[attribute], b[attribute]);
    if (order !== 0) return order;
  }
  return 0;
}

const INTEGER = /^-?\d+$/;

function compareValues(x: unknown, y: unknown): number {
  if (x === y) return 0;
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (isInteger(x) && isInteger(y)) return Math.sign(Number(BigInt(x) - BigInt(y)));
  if (x instanceof Date && y instanceof Date) return x.getTime() - y.getTime();
  return compareStrings(keyPart(x), keyPart(y));
}

function compareStrings(x: string, y: string): number {
  if (x === y) return 0;
  return x < y ? -1 : 1;
}

/** A BIGINT key as the driver returns it (a string of digits). */
function isInteger(value: unknown): value is string {
  return typeof value === 'string' && INTEGER.test(value);
}

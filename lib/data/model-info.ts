import type { Model, ModelStatic } from 'sequelize';

/** The parts of Sequelize's model internals this library reads (stable across 6.x). */
export interface ModelInternals {
  readonly name: string;
  readonly sequelize?: ModelStatic<Model>['sequelize'];
  readonly rawAttributes: Record<string, { field?: string; type?: unknown; primaryKey?: boolean; autoIncrement?: boolean }>;
  readonly primaryKeyAttributes: string[];
  readonly _virtualAttributes: Set<string>;
  readonly _timestampAttributes: { createdAt?: string; updatedAt?: string; deletedAt?: string };
}

export function internals(model: ModelStatic<Model>): ModelInternals {
  return model as unknown as ModelInternals;
}

/** Duck-typed: a class that went through `Model.init` (plain Sequelize or sequelize-typescript). */
export function isModelClass(target: unknown): target is ModelStatic<Model> {
  return typeof target === 'function'
    && typeof (target as { findAll?: unknown }).findAll === 'function'
    && typeof (target as { rawAttributes?: unknown }).rawAttributes === 'object'
    && (target as { rawAttributes?: unknown }).rawAttributes !== null;
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

/**
 * Maps a raw row keyed by column names (or attribute names) to one keyed by attribute names. Accepts an
 * instance too (Sequelize hands back instances on some paths, e.g. `individualHooks`).
 */
export function rowToAttributes(model: ModelStatic<Model>, input: Record<string, unknown> | Model): Record<string, unknown> {
  const row = isInstance(input) ? (input.dataValues as Record<string, unknown>) : input;
  const out: Record<string, unknown> = {};
  for (const attribute of storedAttributes(model)) {
    const column = columnOf(model, attribute);
    if (Object.prototype.hasOwnProperty.call(row, column)) out[attribute] = row[column];
    else if (Object.prototype.hasOwnProperty.call(row, attribute)) out[attribute] = row[attribute];
    else if (column.includes('"') && Object.prototype.hasOwnProperty.call(row, unquoted(column))) out[attribute] = row[unquoted(column)];
  }
  return out;
}

/** Sequelize strips double quotes from identifiers when it quotes them, so that is the column's real name. */
function unquoted(column: string): string {
  return column.replace(/"/g, '');
}

/**
 * Sequelize copies RETURNING columns onto a created instance by name, and misses a `field:` that contains a
 * double quote (the database column has it stripped): the value lands under the stripped name. Put it back
 * under the attribute, so the instance (and its signal) holds every attribute.
 */
export function repairReturnedKeys(model: ModelStatic<Model>, instance: Model): void {
  const values = instance.dataValues as Record<string, unknown>;
  for (const attribute of storedAttributes(model)) {
    const column = columnOf(model, attribute);
    if (!column.includes('"')) continue;
    const stripped = unquoted(column);
    if (stripped !== attribute && Object.prototype.hasOwnProperty.call(values, stripped)) {
      values[attribute] = values[stripped];
      delete values[stripped];
    }
  }
}

/** A string key for a row's primary key (composite keys included), for pairing rows. */
export function keyOf(model: ModelStatic<Model>, values: Record<string, unknown>): string {
  const pks = internals(model).primaryKeyAttributes;
  if (pks.length === 1) return keyPart(values[pks[0]!]);
  return pks.map((pk) => keyPart(values[pk])).join('\u0000');
}

/** A string standing for one key value (dates by time, buffers by bytes), for maps keyed by row identity. */
export function keyPart(value: unknown): string {
  if (value instanceof Date) return String(value.getTime());
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return String(value);
}

function isInstance(value: unknown): value is Model {
  return typeof value === 'object' && value !== null
    && typeof (value as { get?: unknown }).get === 'function'
    && typeof (value as { dataValues?: unknown }).dataValues === 'object';
}

/** The attribute stored in `column` (Sequelize lets unique keys and indexes name either). */
export function attributeOfColumn(model: ModelStatic<Model>, column: string): string | undefined {
  const attrs = internals(model).rawAttributes;
  if (attrs[column]) return column;
  return Object.keys(attrs).find((a) => (attrs[a]!.field ?? a) === column);
}

/** Primary-key order, as the locked read's ORDER BY gives it (numbers numerically, the rest as strings). */
export function comparePrimaryKeys(model: ModelStatic<Model>, a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const pk of internals(model).primaryKeyAttributes) {
    const x = a[pk];
    const y = b[pk];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'string' && typeof y === 'string' && /^-?\d+$/.test(x) && /^-?\d+$/.test(y)) {
      const d = BigInt(x) - BigInt(y);
      return d < 0n ? -1 : d > 0n ? 1 : 0;
    }
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

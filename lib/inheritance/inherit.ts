import type { Model, ModelStatic } from 'sequelize';
import { InheritanceError } from '../errors';
import { internals, mutableInternals, type MutableModelInternals } from '../internals';
import { isModelClass } from '../data/model-info';
import { SUPPORTED_DIALECTS, type DialectName } from '../dialect';
import { ancestorsOf, childrenOf, inheritanceOf, recordInheritance, type Inheritance } from './chain';
import { installInheritance, installSync } from './plumbing';

const TIMESTAMP_ROLES = ['createdAt', 'updatedAt', 'deletedAt'] as const;

/**
 * Multi-table inheritance, as Django's: `Child` becomes one model with every attribute of `Parent` (and of its
 * ancestors) besides its own. Each model keeps its own table; the child's table holds the child's own
 * attributes and a primary key that is also a foreign key to the parent's (`ON DELETE CASCADE`), which `sync()`
 * creates. Writes on the child write each table that has a changed attribute, in one transaction; reads join
 * the tables; receivers on the child get child instances with every attribute, and receivers on each ancestor
 * fire too, with `signal.concreteModel` naming the child. Call it once per child, before `sync()` and before
 * defining associations on the child; chains of any depth (`inherit(Pizzeria, Restaurant)`); one parent per model.
 *
 * @example
 * const Place = sequelize.define('Place', { name: DataTypes.STRING, address: DataTypes.STRING });
 * const Restaurant = sequelize.define('Restaurant', { servesPizza: DataTypes.BOOLEAN });
 * inherit(Restaurant, Place);
 * await sequelize.sync();
 * const r = await Restaurant.create({ name: 'Luigi', address: 'Main St 1', servesPizza: true }); // two INSERTs
 */
export function inherit<C extends Model, P extends Model>(child: ModelStatic<C>, parent: ModelStatic<P>): void {
  check(child, parent);
  const record: Inheritance = { parent, inherited: new Set(), options: mutableInternals(child).options };
  mergeAttributes(child, parent, record);
  recordInheritance(child, record);
  propagateFrom(parent);
  installSync(child);
  installInheritance(child.sequelize!);
}

function fail(message: string, child: unknown): never {
  const modelName = typeof child === 'function' ? (child as { name?: string }).name : undefined;
  throw new InheritanceError(`inherit(): ${message}; nothing was changed`, modelName ? { modelName } : {});
}

type Rule = (child: ModelStatic<Model>, parent: ModelStatic<Model>) => string | undefined;

/** What makes two models one chain, each rule saying what is wrong (or nothing); checked in order. */
const RULES: readonly Rule[] = [
  (child, parent) =>
    isModelClass(child) && isModelClass(parent)
      ? undefined
      : `expected two initialised model classes (inherit(Child, Parent)), got ${describe(child)} and ${describe(parent)}`,
  (child, parent) => (child === parent ? `${child.name} cannot inherit from itself` : undefined),
  (child, parent) =>
    child.sequelize === parent.sequelize ? undefined : `${child.name} and ${parent.name} belong to different Sequelize instances`,
  (child) => {
    const dialect = child.sequelize!.getDialect() as DialectName;
    return SUPPORTED_DIALECTS.includes(dialect) ? undefined : `the ${dialect} dialect is not supported (${SUPPORTED_DIALECTS.join(', ')})`;
  },
  (child) => {
    const existing = inheritanceOf(child);
    return existing ? `${child.name} already inherits from ${existing.parent.name} (one parent per model)` : undefined;
  },
  (child, parent) => (ancestorsOf(parent).includes(child) ? `${parent.name} already descends from ${child.name} (a cycle)` : undefined),
  (child, parent) =>
    internals(parent).primaryKeyAttributes.length === 0 ? `${parent.name} has no primary key for ${child.name}'s rows to share` : undefined,
  (child, parent) => {
    // Sequelize checks and bumps the version in the model's own table only: a child's write would not bump its
    // parent's, and a parent's check would not see its children's writes.
    const locking = [child, parent].find((m) => mutableInternals(m).options.version);
    return locking ? `${locking.name} uses optimistic locking (version), which models in an inheritance chain do not support` : undefined;
  },
  (child, parent) => {
    const parentKeys = internals(parent).primaryKeyAttributes;
    const ownKeys = internals(child).primaryKeyAttributes.filter((a) => !generated(child, a));
    if (ownKeys.length === 0 || ownKeys.join() === parentKeys.join()) return undefined;
    return `${child.name}'s primary key (${ownKeys.join(', ')}) must be ${parent.name}'s (${parentKeys.join(', ')}): a child row shares its parent row's key`;
  },
  (child, parent) => {
    const parentKeys = internals(parent).primaryKeyAttributes;
    const clashes = Object.keys(internals(child).rawAttributes).filter(
      (a) => a in internals(parent).rawAttributes && !generated(child, a) && !parentKeys.includes(a),
    );
    if (clashes.length === 0) return undefined;
    return `${clashes.join(', ')} ${clashes.length === 1 ? 'is an attribute' : 'are attributes'} of both ${child.name} and ${parent.name}`;
  },
];

function check(child: ModelStatic<Model>, parent: ModelStatic<Model>): void {
  for (const rule of RULES) {
    const problem = rule(child, parent);
    if (problem) fail(problem, child);
  }
}

/** Whether Sequelize added the attribute itself (the default `id`, timestamps). */
function generated(model: ModelStatic<Model>, attribute: string): boolean {
  return Boolean((internals(model).rawAttributes[attribute] as { _autoGenerated?: boolean } | undefined)?._autoGenerated);
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `class ${(value as { name?: string }).name ?? '(anonymous)'} (not initialised)`;
  return value === null ? 'null' : typeof value;
}

/** A copy of an attribute definition for another model (Sequelize writes the model and names into it). */
function copyDefinition(definition: Record<string, unknown>): Record<string, unknown> {
  const { Model: _m, _modelAttribute: _a, fieldName: _f, ...rest } = definition;
  return { ...rest };
}

/**
 * The child's attributes become the parent's (in the parent's order, primary key first) followed by its own;
 * timestamps the parent keeps are the child's too (Sequelize sets them on the child's writes, in the parent's
 * table), and so is the parent's paranoid `deletedAt`; the parent's model validators run for the child as well.
 */
function mergeAttributes(child: ModelStatic<Model>, parent: ModelStatic<Model>, record: Inheritance): void {
  const c = mutableInternals(child);
  const p = mutableInternals(parent);
  const own = c.rawAttributes;
  adoptTimestamps(c, p, own);
  const merged: MutableModelInternals['rawAttributes'] = {};
  for (const [name, definition] of Object.entries(p.rawAttributes)) {
    merged[name] = copyDefinition(definition);
    record.inherited.add(name);
  }
  for (const [name, definition] of Object.entries(own)) {
    // The child's generated `id` gives way to the parent's key (whatever its name).
    if (name in merged || (definition.primaryKey && (definition as { _autoGenerated?: boolean })._autoGenerated)) continue;
    merged[name] = definition;
  }
  // The key references the parent's table: `sequelize.sync()` creates the parent's table first.
  for (const key of internals(parent).primaryKeyAttributes) {
    merged[key] = { ...merged[key]!, references: { model: parent.getTableName(), key: merged[key]!.field ?? key } };
  }
  c.rawAttributes = merged;
  c.options.validate = { ...p.options.validate, ...c.options.validate };
  c.refreshAttributes();
  c._findAutoIncrementAttribute();
}

/** Timestamp roles the parent fills are the child's, under the parent's names; the child's generated ones for them go. */
function adoptTimestamps(c: MutableModelInternals, p: MutableModelInternals, own: MutableModelInternals['rawAttributes']): void {
  for (const role of TIMESTAMP_ROLES) {
    const name = p._timestampAttributes[role];
    if (!name) continue;
    const previous = c._timestampAttributes[role];
    if (previous && previous !== name && (own[previous] as { _autoGenerated?: boolean } | undefined)?._autoGenerated) {
      delete own[previous];
      c._readOnlyAttributes.delete(previous);
    }
    c._timestampAttributes[role] = name;
    c._readOnlyAttributes.add(name);
  }
  c._hasReadOnlyAttributes = c._readOnlyAttributes.size > 0;
  // Sequelize reads `timestamps` and `paranoid` before it soft-deletes or filters out soft-deleted rows.
  if (TIMESTAMP_ROLES.some((role) => p._timestampAttributes[role])) c.options.timestamps = true;
  if (p._timestampAttributes.deletedAt) c.options.paranoid = true;
}

const PROPAGATES = Symbol.for('sequelize-bulk-signals/inheritance-propagates@1');

/**
 * Attributes the parent gains later — an association's foreign key (`Place.belongsTo(City)` after `inherit`) —
 * reach its children too: Sequelize refreshes a model's attributes after adding one, and the parent's refresh
 * (an own property, wrapped once) copies what its children lack into them and refreshes them in turn.
 */
function propagateFrom(parent: ModelStatic<Model>): void {
  if (Object.prototype.hasOwnProperty.call(parent, PROPAGATES)) return;
  const p = mutableInternals(parent);
  const refresh = p.refreshAttributes.bind(parent);
  Object.defineProperty(parent, 'refreshAttributes', {
    value: function refreshAttributes(): void {
      refresh();
      for (const child of childrenOf(parent)) inheritNew(child, p);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(parent, PROPAGATES, { value: true });
}

/** Copies into `child` the parent's attributes it lacks, then refreshes it (which reaches its own children). */
function inheritNew(child: ModelStatic<Model>, p: MutableModelInternals): void {
  const c = mutableInternals(child);
  const added = Object.keys(p.rawAttributes).filter((a) => !(a in c.rawAttributes));
  if (added.length === 0) return;
  for (const a of added) {
    c.rawAttributes[a] = copyDefinition(p.rawAttributes[a]!);
    inheritanceOf(child)!.inherited.add(a);
  }
  c.refreshAttributes();
}

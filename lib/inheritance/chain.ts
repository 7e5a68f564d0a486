import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { internals, modelBaseOf, type AttributeInternals, type QueryGenerator } from '../internals';
import { canonicalModel, columnOf, storedAttributes } from '../data/model-info';
import { UnsupportedOperationError } from '../errors';

/**
 * Multi-table inheritance (`inherit(Child, Parent)`): what the library records about a child model, and what
 * it derives from that — the chain of models from the root down, the table each level stores, the columns of
 * each table, and the join that reads a child's rows whole.
 *
 * A child model is one logical model: its attributes are its own and every ancestor's. Each level of the chain
 * stores its own attributes in its own table, keyed by the root's primary key (the child's key is a foreign key
 * to its parent's). The library writes each table through a hidden *level model* (a plain Sequelize model over
 * that one table, never registered, never signalled) and reads a child's rows through the join of its tables.
 */
export interface Inheritance {
  readonly parent: ModelStatic<Model>;
  /** The child's `options` when it inherited: `Model.init` replaces them, and a re-initialised class inherits nothing. */
  readonly options: object;
  /** The attributes copied from the parent (its own and its ancestors'), stored in the ancestors' tables. */
  readonly inherited: Set<string>;
}

const INHERITANCE = Symbol.for('sequelize-bulk-signals/inheritance@1');
const CHILDREN = Symbol.for('sequelize-bulk-signals/inheritance-children@1');
const LEVEL = Symbol.for('sequelize-bulk-signals/level-model@1');

type Carrier = { [INHERITANCE]?: Inheritance; [CHILDREN]?: ModelStatic<Model>[]; [LEVEL]?: LevelCache };

function carrier(model: ModelStatic<Model>): Carrier {
  return model as unknown as Carrier;
}

/** The inheritance record of a child model (own property: scoped subclasses resolve to their model first). */
export function inheritanceOf(model: ModelStatic<Model>): Inheritance | undefined {
  if (!Object.prototype.hasOwnProperty.call(model, INHERITANCE)) return undefined;
  const record = carrier(model)[INHERITANCE]!;
  return record.options === (model as unknown as { options: object }).options ? record : undefined;
}

export function recordInheritance(child: ModelStatic<Model>, record: Inheritance): void {
  Object.defineProperty(child, INHERITANCE, { value: record, configurable: true });
  const parent = carrier(record.parent);
  if (!Object.prototype.hasOwnProperty.call(record.parent, CHILDREN)) {
    Object.defineProperty(record.parent, CHILDREN, { value: [], configurable: true, writable: true });
  }
  parent[CHILDREN] = [...parent[CHILDREN]!.filter((c) => c !== child), child];
}

/** Whether the model is the child in an `inherit()` (its rows span its own table and its ancestors'). */
export function isInherited(model: ModelStatic<Model>): boolean {
  return inheritanceOf(model) !== undefined;
}

/** Whether `target` is a `Model.schema()` copy of a registered model: a subclass with a schema of its own. */
export function isSchemaCopy(target: ModelStatic<Model>): boolean {
  const model = canonicalModel(target);
  if (model === target) return false;
  const copy = internals(target);
  const own = internals(model);
  return copy._schema !== own._schema || copy._schemaDelimiter !== own._schemaDelimiter;
}

/**
 * The child model a statement through `target` is for (a scoped copy resolves to its model), or `undefined` when
 * it is none. A `Model.schema()` copy of a child is refused before anything is sent: the chain's tables and the
 * join that reads them are the child's own, so its writes would land in the model's schema, not the copy's.
 */
export function inheritedModelOf(target: ModelStatic<Model>): ModelStatic<Model> | undefined {
  const model = canonicalModel(target);
  if (!isInherited(model)) return undefined;
  if (isSchemaCopy(target)) {
    const copy = internals(target);
    throw new UnsupportedOperationError(
      `${model.name}.schema('${copy._schema ?? ''}'): a Model.schema() copy of a model that inherits (inherit()) is not supported — its tables are ${model.name}'s own; nothing was sent`,
      { modelName: model.name },
    );
  }
  return model;
}

export function parentOfModel(model: ModelStatic<Model>): ModelStatic<Model> | undefined {
  return inheritanceOf(model)?.parent;
}

/** The model's ancestors, nearest first. */
export function ancestorsOf(model: ModelStatic<Model>): ModelStatic<Model>[] {
  const out: ModelStatic<Model>[] = [];
  for (let p = parentOfModel(model); p; p = parentOfModel(p)) out.push(p);
  return out;
}

/** The chain from the root down to the model: the order its tables are written in. */
export function chainOf(model: ModelStatic<Model>): ModelStatic<Model>[] {
  return [...ancestorsOf(model)].reverse().concat(model);
}

export function childrenOf(model: ModelStatic<Model>): readonly ModelStatic<Model>[] {
  if (!Object.prototype.hasOwnProperty.call(model, CHILDREN)) return [];
  return carrier(model)[CHILDREN]!.filter((c) => inheritanceOf(c)?.parent === model);
}

/** Every descendant, deepest first (the order their receivers run in). */
export function descendantsOf(model: ModelStatic<Model>): ModelStatic<Model>[] {
  const out: ModelStatic<Model>[] = [];
  const visit = (m: ModelStatic<Model>, depth: number, list: [ModelStatic<Model>, number][]) => {
    for (const child of childrenOf(m)) {
      list.push([child, depth]);
      visit(child, depth + 1, list);
    }
  };
  const found: [ModelStatic<Model>, number][] = [];
  visit(model, 1, found);
  found.sort((a, b) => b[1] - a[1]);
  for (const [m] of found) out.push(m);
  return out;
}

/** Whether a model takes part in an inheritance at all (a child, or a parent of one). */
export function inHierarchy(model: ModelStatic<Model>): boolean {
  return isInherited(model) || childrenOf(model).length > 0;
}

/** The attributes a level of the chain stores in its own table: its primary key and the attributes it did not inherit. */
export function ownAttributes(model: ModelStatic<Model>): string[] {
  const inherited = inheritanceOf(model)?.inherited;
  const pks = new Set(internals(model).primaryKeyAttributes);
  return storedAttributes(model).filter((a) => pks.has(a) || !inherited?.has(a));
}

interface LevelCache {
  /** The `_virtualAttributes` set of the logical model when the level model was built (Sequelize replaces it on every refresh). */
  readonly version: object;
  readonly level: ModelStatic<Model>;
}

/**
 * The hidden model over one level's table: the level's own attributes (for a child: its key as a foreign key to
 * its parent's table, `ON DELETE CASCADE`), no timestamps, hooks, scopes or validation — it writes what the
 * logical model's pipeline already decided. Rebuilt when the logical model's attributes change (an association
 * adding a foreign key).
 */
export function levelModelOf(model: ModelStatic<Model>): ModelStatic<Model> {
  const m = internals(model);
  const cached = carrier(model)[LEVEL];
  if (cached && cached.version === m._virtualAttributes) return cached.level;
  const level = buildLevelModel(model);
  Object.defineProperty(model, LEVEL, { value: { version: m._virtualAttributes, level }, configurable: true });
  return level;
}

/** Whether a model is one of the library's hidden level models. */
export function isLevelModel(model: ModelStatic<Model> | undefined): boolean {
  return Boolean(model && (model as unknown as Record<symbol, unknown>)[LEVEL_MARK]);
}
const LEVEL_MARK = Symbol.for('sequelize-bulk-signals/is-level-model@1');

function levelAttributes(model: ModelStatic<Model>): Record<string, AttributeInternals> {
  const raw = internals(model).rawAttributes;
  const parent = parentOfModel(model);
  const pks = new Set(internals(model).primaryKeyAttributes);
  const out: Record<string, AttributeInternals> = {};
  for (const a of ownAttributes(model)) {
    const { Model: _m, _modelAttribute: _ma, fieldName: _f, ...definition } = raw[a] as AttributeInternals & Record<string, unknown>;
    if (pks.has(a) && parent) {
      out[a] = {
        ...definition,
        autoIncrement: false,
        references: { model: tableReference(parent), key: columnOf(parent, a) },
        onDelete: 'CASCADE',
        onUpdate: 'CASCADE',
      } as AttributeInternals;
      delete (out[a] as Record<string, unknown>).defaultValue;
    } else {
      out[a] = definition;
    }
  }
  return out;
}

/** A model's table as `references.model` takes it (a name, or the table object with its schema). */
function tableReference(model: ModelStatic<Model>): unknown {
  return model.getTableName();
}

function buildLevelModel(model: ModelStatic<Model>): ModelStatic<Model> {
  const sequelize = model.sequelize!;
  const Base = modelBaseOf(sequelize);
  const level = class extends Base {} as unknown as ModelStatic<Model> & { init(a: unknown, o: unknown): void };
  const options = (model as unknown as { options: Record<string, unknown> }).options;
  const table = internals(model) as unknown as { tableName: string; _schema?: string; _schemaDelimiter?: string };
  level.init(levelAttributes(model), {
    sequelize,
    modelName: `${model.name}::level`,
    tableName: table.tableName,
    schema: table._schema ?? undefined,
    schemaDelimiter: table._schemaDelimiter ?? '',
    timestamps: false,
    // The level's own indexes: those the logical model declares (on its own attributes).
    indexes: isInherited(model) ? ((options.indexes as unknown[] | undefined) ?? []) : [],
    hooks: {},
    defaultScope: {},
    scopes: {},
  });
  // Hidden: not in sequelize.models (so never synced, listed or given every-model receivers by the app).
  (sequelize as unknown as { modelManager: { removeModel(m: unknown): void } }).modelManager.removeModel(level);
  Object.defineProperty(level, LEVEL_MARK, { value: true });
  return level;
}

/** The level models of a model's chain, root first. */
export function levelsOf(model: ModelStatic<Model>): ModelStatic<Model>[] {
  return chainOf(model).map(levelModelOf);
}

const L = (i: number) => `__bsl${i}`;

/**
 * `SELECT … FROM child JOIN parent … ` — a child's rows, whole: the leaf table's columns, then each ancestor's own
 * columns, joined on the primary key (inner joins: a child row always has its parents).
 */
export function joinSql(model: ModelStatic<Model>, qg: QueryGenerator): string {
  const chain = chainOf(model);
  const leaf = chain.length - 1;
  const q = (s: string) => qg.quoteIdentifier(s);
  const pks = internals(model).primaryKeyAttributes.map((a) => columnOf(model, a));
  const columns = [`${q(L(leaf))}.*`];
  const joins: string[] = [];
  chain.slice(0, leaf).forEach((level, i) => {
    const pkSet = new Set(internals(level).primaryKeyAttributes);
    for (const a of ownAttributes(level)) if (!pkSet.has(a)) columns.push(`${q(L(i))}.${q(columnOf(level, a))}`);
    const on = pks.map((c) => `${q(L(i))}.${q(c)} = ${q(L(leaf))}.${q(c)}`).join(' AND ');
    joins.push(`JOIN ${qg.quoteTable(level.getTableName())} AS ${q(L(i))} ON ${on}`);
  });
  return `SELECT ${columns.join(', ')} FROM ${qg.quoteTable(model.getTableName())} AS ${q(L(leaf))} ${joins.join(' ')}`;
}

/**
 * What the library's own reads of a model select from: its table, or for a child model the join of its tables,
 * as a derived table under the table's own name (so conditions rendered for the table — unqualified or
 * qualified with its name — read the same).
 */
export function fromSql(model: ModelStatic<Model>, tableName: unknown, qg: QueryGenerator): string {
  if (!isInherited(model)) return qg.quoteTable(tableName);
  return `(${joinSql(model, qg)}) AS ${qg.quoteIdentifier(bareTableName(tableName))}`;
}

/** A table's name without its schema (a table object's `tableName`). */
export function bareTableName(tableName: unknown): string {
  return typeof tableName === 'string' ? tableName : (tableName as { tableName: string }).tableName;
}

/** Every child model of a Sequelize instance (for the SELECT rewrite). */
export function inheritedModelsOf(sequelize: Sequelize): ModelStatic<Model>[] {
  return Object.values(sequelize.models).filter((m) => isInherited(m));
}

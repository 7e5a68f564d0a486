import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { generatorOf, type QueryGeneratorSelect } from '../internals';
import { installSeams } from '../seams';
import { installStatementTap } from '../statement-tap';
import { inheritedModelOf, inheritedModelsOf, isInherited, isLevelModel, joinSql, levelModelOf } from './chain';

const REWRITES = Symbol.for('sequelize-bulk-signals/inheritance-selects@1');
const SYNCS = Symbol.for('sequelize-bulk-signals/inheritance-sync@1');

/**
 * What `inherit()` needs on a Sequelize instance, whether or not `installBulkSignals` ran: the query-interface
 * seams (a child's writes are split by table there), and every SELECT Sequelize renders reading a child's table
 * as the join of its tables.
 */
export function installInheritance(sequelize: Sequelize): void {
  installStatementTap(sequelize);
  installSeams(sequelize);
  installSelectRewrite(sequelize);
}

/**
 * Wraps the instance's `selectQuery` (an own property of its query generator): wherever a SELECT names a child
 * model's table with an alias (`FROM "restaurants" AS "Restaurant"`, `JOIN "restaurants" AS "Restaurants"` of an
 * include, a count, a subquery), the table becomes the join of the child's tables under the same alias — every
 * column Sequelize refers to through the alias is there, whichever table stores it.
 */
function installSelectRewrite(sequelize: Sequelize): void {
  const qg = generatorOf(sequelize) as unknown as QueryGeneratorSelect & Record<symbol, unknown>;
  if (qg[REWRITES]) return;
  const original = qg.selectQuery.bind(qg);
  Object.defineProperty(qg, 'selectQuery', {
    value: function selectQuery(tableName: unknown, options: unknown, model: unknown): string {
      if (isLevelModel(model as ModelStatic<Model> | undefined)) return original(tableName, options, model);
      // A read through a schema() copy of a child is refused as its writes are.
      if (typeof model === 'function') inheritedModelOf(model as ModelStatic<Model>);
      return readingJoins(sequelize, original(tableName, options, model));
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(qg, REWRITES, { value: true });
}

/** `sql` with every aliased reference to a child model's table replaced by the join of its tables. */
export function readingJoins(sequelize: Sequelize, sql: string): string {
  const qg = generatorOf(sequelize);
  const found = new Map<string, ModelStatic<Model>>();
  for (const model of inheritedModelsOf(sequelize)) {
    const needle = `${qg.quoteTable(model.getTableName())} AS `;
    if (sql.includes(needle)) found.set(needle, model);
  }
  if (found.size === 0) return sql;
  const pattern = new RegExp([...found.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return sql.replace(pattern, (needle) => `(${joinSql(found.get(needle)!, qg)}) AS `);
}

/**
 * A child model's `sync` creates (or alters) its own table only — its key and own attributes, the key a
 * foreign key to the parent's table — through its level model; the model's sync hooks still run.
 */
export function installSync(model: ModelStatic<Model>): void {
  if (!isInherited(model) || Object.prototype.hasOwnProperty.call(model, SYNCS)) return;
  type Syncing = ModelStatic<Model> & { runHooks(name: string, ...args: unknown[]): Promise<void> };
  const inheritedSync = Reflect.get(Object.getPrototypeOf(model) as object, 'sync') as (this: unknown, o?: unknown) => Promise<unknown>;
  Object.defineProperty(model, 'sync', {
    value: async function sync(this: Syncing, options: Record<string, unknown> = {}) {
      // A class initialised again (Model.init) is a plain model until it inherits again.
      if (!isInherited(this)) return inheritedSync.call(this, options);
      const hooks = options.hooks !== false;
      if (hooks) await this.runHooks('beforeSync', options);
      await levelModelOf(this).sync({ ...options, hooks: false });
      if (hooks) await this.runHooks('afterSync', options);
      return this;
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(model, SYNCS, { value: true });
}

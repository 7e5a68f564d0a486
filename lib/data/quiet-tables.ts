import type { Model, ModelStatic } from 'sequelize';
import { generatorFor } from './sql';
import { dialectFor } from '../dialect';
import { isInherited } from '../inheritance/chain';
import { serverMajor } from '../internals';
import { hasPrimaryKey, identityOf, storedAttributes } from './model-info';

/**
 * Whether an UPDATE of a table changes only the columns it sets — no row triggers, no rules, no generated
 * columns. Then a statement needs to return only the key and the columns it wrote: the rest of each new row is
 * the locked old row (PostgreSQL parses every returned value; dates dominate). Learned once per table and
 * process from the catalog, by a probe riding in the first statement that reads or writes the table (no
 * statement of its own); a trigger added to a table afterwards is not seen until the process restarts.
 */
const facts = new WeakMap<object, Map<string, boolean>>();

/** The probe's alias in a select or RETURNING list. */
export const PROBE = '__bsx_quiet';

function tableKey(model: ModelStatic<Model>, tableName: unknown): string {
  return generatorFor(model).quoteTable(tableName);
}

/** What is known of the table: quiet, not quiet, or not known yet (`undefined`). */
export function quietTable(model: ModelStatic<Model>, tableName: unknown): boolean | undefined {
  if (!probes(model)) return false;
  return facts.get(model.sequelize!)?.get(tableKey(model, tableName));
}

/** Records what a probe returned. */
export function learnQuiet(model: ModelStatic<Model>, tableName: unknown, quiet: unknown): void {
  if (typeof quiet !== 'boolean') return;
  let byTable = facts.get(model.sequelize!);
  if (!byTable) facts.set(model.sequelize!, (byTable = new Map<string, boolean>()));
  byTable.set(tableKey(model, tableName), quiet);
}

/** Whether the library asks at all: PostgreSQL ≥ 12 (generated columns), statements that return rows, plain models. */
function probes(model: ModelStatic<Model>): boolean {
  return dialectFor(model).tapsStatements && !isInherited(model) && serverMajor(model.sequelize!) >= 12;
}

/** The probe as a select-list item (`… AS "__bsx_quiet"`), or nothing when the table is known (or never probed). */
export function probeColumn(model: ModelStatic<Model>, tableName: unknown): string | undefined {
  if (!probes(model) || quietTable(model, tableName) !== undefined) return undefined;
  const qg = generatorFor(model);
  const table = qg.escape(tableKey(model, tableName));
  const oid = `to_regclass(${table})`;
  // A table the catalog cannot name is not quiet (NULL is not true).
  const sql =
    `(SELECT ${oid} IS NOT NULL AND NOT (EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = ${oid} AND NOT tgisinternal)` +
    ` OR EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite WHERE ev_class = ${oid} AND rulename <> '_RETURN')` +
    ` OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid = ${oid} AND attnum > 0 AND attgenerated <> '')))`;
  return `${sql} AS ${qg.quoteIdentifier(PROBE)}`;
}

/**
 * What an UPDATE on a quiet table needs to return: the key and the attributes it sets (values and expressions),
 * in attribute order — the rest of each new row is its locked old row. `undefined` (return every attribute)
 * where the table is not known to be quiet, or rows are paired by more than their key: no primary key, or a key
 * the statement computes (`increment` of it: before PostgreSQL 18 old and new rows are paired by every other
 * attribute, so the new rows must carry them).
 */
export function quietReturned(
  model: ModelStatic<Model>,
  statement: { readonly tableName: unknown; readonly values: object; readonly expressions: readonly string[] },
): string[] | undefined {
  if (!hasPrimaryKey(model) || quietTable(model, statement.tableName) !== true) return undefined;
  if (identityOf(model).some((a) => statement.expressions.includes(a))) return undefined;
  const set = new Set([...identityOf(model), ...Object.keys(statement.values), ...statement.expressions]);
  return storedAttributes(model).filter((a) => set.has(a));
}

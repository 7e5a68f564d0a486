import type { Model, ModelStatic } from 'sequelize';
import { internals, type QueryGenerator } from '../internals';
import { CTID } from '../data/model-info';
import { dateMemo, typeKey, valuesUpdateLayout, type ValuesSpelling } from './portable-sql';
import type { ValuesStatement, ValuesUpdate } from './sql-dialect';

/**
 * Types whose values travel as elements of a `type[]` parameter exactly as they would as a parameter of their own
 * (an ARRAY column's values would not: `int[][]` is one two-dimensional array, which unnest flattens).
 */
const ELEMENT_TYPES = new Set([
  'INTEGER',
  'BIGINT',
  'SMALLINT',
  'TINYINT',
  'MEDIUMINT',
  'FLOAT',
  'REAL',
  'DOUBLE PRECISION',
  'DECIMAL',
  'STRING',
  'CHAR',
  'TEXT',
  'CITEXT',
  'UUID',
  'BOOLEAN',
  'DATE',
  'DATEONLY',
  'TIME',
  'JSON',
  'JSONB',
  'ENUM',
  'BLOB',
  'INET',
  'CIDR',
  'MACADDR',
  'TSVECTOR',
]);

/** A value the bind path renders as something other than one plain parameter (then the statement is not built). */
const NOT_PLAIN = Symbol('not plain');

/**
 * PostgreSQL's per-row-values UPDATE with the values as one array parameter per column:
 * `UPDATE t SET … FROM unnest(CAST($1 AS int[]), …) WITH ORDINALITY AS v(k0, …, w) WHERE … RETURNING …`.
 * The server parses and plans it in about half the time of the same rows as a `VALUES` list of casts (1 000 rows:
 * 9 ms against 20 ms, measured), and the client builds no literal per value. Each value goes through Sequelize's
 * own bind-parameter path (its type validation and stringify, as `Model.update` binds it); `undefined` when some
 * attribute's type or value does not travel as a plain array element (then the `VALUES` statement is used).
 */
export function unnestUpdate(
  u: ValuesUpdate,
  spelling: ValuesSpelling,
  sqlType: (model: ModelStatic<Model>, attribute: string, tableName: unknown, qg: QueryGenerator) => string,
): ValuesStatement | undefined {
  const { model, qg, writes, tableName } = u;
  if (!qg.format) return undefined;
  const { ids, fields, everywhere, assignments, match } = valuesUpdateLayout(u, spelling);
  if (![...ids, ...fields].every((a) => a === CTID || ELEMENT_TYPES.has(typeKey(model, a) ?? ''))) return undefined;
  const plain = plainValue(model, qg);
  const has = (set: object, f: string) => Object.prototype.hasOwnProperty.call(set, f);
  const columns: { name: string; type: string; values: unknown[] }[] = ids.map((a, i) => ({
    name: `k${i}`,
    type: sqlType(model, a, tableName, qg),
    values: writes.map((w) => (a === CTID ? String(w.key[a]) : plain(a, w.key[a]))),
  }));
  fields.forEach((f, i) => {
    if (!everywhere.has(f)) columns.push({ name: `s${i}`, type: 'BOOLEAN', values: writes.map((w) => has(w.set, f)) });
    const values = writes.map((w) => (has(w.set, f) ? plain(f, w.set[f]) : null));
    columns.push({ name: `v${i}`, type: sqlType(model, f, tableName, qg), values });
  });
  if (columns.some((c) => c.values.includes(NOT_PLAIN))) return undefined;
  const q = (id: string) => qg.quoteIdentifier(id);
  const arrays = columns.map((c, n) => `CAST($${n + 1} AS ${c.type}[])`).join(', ');
  const names = [...columns.map((c) => q(c.name)), q('w')].join(', ');
  const sql =
    `UPDATE ${qg.quoteTable(tableName)} AS t SET ${assignments('').join(', ')} ` +
    `FROM unnest(${arrays}) WITH ORDINALITY AS ${q('v')}(${names}) WHERE ${match} ` +
    `RETURNING v.${q('w')} - 1 AS ${q('__bsw')}, ${u.returning}`;
  // Sequelize would read a `$` of an identifier as a parameter of its own.
  if (sql.replace(/\$\d+/g, '').includes('$')) return undefined;
  return { sql, bind: columns.map((c) => c.values) };
}

/** An attribute's value as Sequelize binds it (dates rendered once per time), or `NOT_PLAIN`. */
function plainValue(model: ModelStatic<Model>, qg: QueryGenerator): (attribute: string, value: unknown) => unknown {
  const attributes = internals(model).rawAttributes;
  return dateMemo((attribute: string, value: unknown) => {
    let bound: unknown = NOT_PLAIN;
    let calls = 0;
    const placeholder = qg.format!(value, attributes[attribute], { operation: 'UPDATE' }, (v) => {
      bound = v;
      calls++;
      return '$1';
    });
    if (placeholder !== '$1' || calls !== 1) return NOT_PLAIN;
    return isPlain(bound, typeKey(model, attribute)) ? (bound ?? null) : NOT_PLAIN;
  });
}

/** What pg writes into an array literal as the parameter alone would be written (NUL is not valid text). */
function isPlain(value: unknown, type: string | undefined): boolean {
  if (value === null || value === undefined || typeof value === 'boolean') return true;
  if (typeof value === 'string') return !value.includes('\0');
  if (typeof value === 'number') return Number.isFinite(value);
  return type === 'BLOB' && Buffer.isBuffer(value);
}

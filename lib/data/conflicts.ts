import type { Model, ModelStatic } from 'sequelize';
import type { QueryGenerator, Row } from '../internals';
import { columnOf, internals, storedAttributes } from './model-info';
import { dialectFor } from '../dialect';
import { typedValue } from './sql';

/**
 * The condition a locked lookup reads the rows an INSERT … ON CONFLICT would conflict with: for each key set,
 * the table's key columns among the new rows' keys. With `conflictWhere` (a partial unique index) a new row
 * only conflicts when it satisfies the predicate too, so the keys come from the new rows that do — evaluated
 * by PostgreSQL on a VALUES list of them — and the existing row must satisfy it as well.
 */
export function conflictLookupSql(
  model: ModelStatic<Model>,
  tableName: unknown,
  keys: readonly string[][],
  rows: readonly Row[],
  conflictWhere: string,
  qg: QueryGenerator,
): string {
  const attributes = internals(model).rawAttributes;
  const quote = (a: string) => qg.quoteIdentifier(columnOf(model, a));
  const tuple = (parts: string[]) => (parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`);
  const clauses: string[] = [];
  for (const key of keys) {
    const complete = rows.filter((v) => key.every((a) => v[a] != null));
    if (complete.length === 0) continue;
    const left = tuple(key.map(quote));
    if (!conflictWhere) {
      clauses.push(`${left} IN (${complete.map((v) => tuple(key.map((a) => qg.escape(v[a], attributes[a])))).join(', ')})`);
      continue;
    }
    const columns = storedAttributes(model);
    const values = complete.map((v) =>
      columns.map((a) => typedValue(model, a, v[a] === undefined ? 'NULL' : qg.escape(v[a], attributes[a]), tableName, qg)),
    );
    const table = dialectFor(model).rowsTable(
      values,
      columns.map((a) => columnOf(model, a)),
      '__bs_new',
      qg,
    );
    clauses.push(`${left} IN (SELECT ${key.map(quote).join(', ')} FROM ${table} WHERE ${conflictWhere})`);
  }
  if (clauses.length === 0) return '1 = 0';
  const any = clauses.length === 1 ? clauses[0]! : clauses.map((c) => `(${c})`).join(' OR ');
  return conflictWhere ? `(${any}) AND (${conflictWhere})` : any;
}

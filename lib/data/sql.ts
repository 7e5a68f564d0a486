import { literal, type Model, type ModelStatic } from 'sequelize';
import { generatorOf, internals, type QueryGenerator, type Row } from '../internals';
import { CTID, columnOf, hasPrimaryKey, identityOf } from './model-info';

export type { QueryGenerator };

export function generatorFor(model: ModelStatic<Model>): QueryGenerator {
  return generatorOf(model.sequelize!);
}

/**
 * The SQL type to cast a value to, so that NULLs, JSON, enums and arrays land with the column's type. Enum
 * types are named with the table's schema (`Model.schema('tenant')` tables have their own enum types).
 */
export function sqlType(model: ModelStatic<Model>, attribute: string, tableName: unknown, qg: QueryGenerator): string {
  const type = internals(model).rawAttributes[attribute]!.type as { key?: string; toSql?: () => string; type?: { key?: string } };
  if (type.key === 'ENUM' && qg.pgEnumName) return qg.pgEnumName(tableName, columnOf(model, attribute));
  if (type.key === 'ARRAY' && type.type?.key === 'ENUM' && qg.pgEnumName)
    return `${qg.pgEnumName(tableName, columnOf(model, attribute))}[]`;
  return type.toSql ? type.toSql() : String(type.key);
}

/** The quoted columns that identify a row (`ctid` for a model without a primary key). */
export function identitySql(model: ModelStatic<Model>, qg: QueryGenerator, prefix = ''): string[] {
  if (!hasPrimaryKey(model)) return [`${prefix}ctid`];
  return internals(model).primaryKeyAttributes.map((pk) => `${prefix}${qg.quoteIdentifier(columnOf(model, pk))}`);
}

/** One identity value as SQL (a `ctid` is a `tid` literal). */
function identityValue(model: ModelStatic<Model>, attribute: string, value: unknown, qg: QueryGenerator): string {
  if (attribute === CTID) return `${qg.escape(String(value))}::tid`;
  return qg.escape(value, internals(model).rawAttributes[attribute]);
}

/** `(id columns) IN ((…), …)` for these rows — `FALSE` for none — as SQL. */
export function identityInSql(model: ModelStatic<Model>, rows: readonly Row[], qg: QueryGenerator): string {
  if (rows.length === 0) return 'FALSE';
  const ids = identityOf(model);
  const columns = identitySql(model, qg);
  const tuples = rows.map((row) => {
    const values = ids.map((a) => identityValue(model, a, row[a], qg));
    return values.length === 1 ? values[0]! : `(${values.join(', ')})`;
  });
  const left = columns.length === 1 ? columns[0]! : `(${columns.join(', ')})`;
  return `${left} IN (${tuples.join(', ')})`;
}

/** The same as a `where` literal, to add to Sequelize's own `where`. */
export function identityIn(model: ModelStatic<Model>, rows: readonly Row[], qg: QueryGenerator): ReturnType<typeof literal> {
  return literal(identityInSql(model, rows, qg));
}

/** `(id columns) > (values of row)`: keyset pagination in the locked read's order. */
export function identityAfterSql(model: ModelStatic<Model>, row: Row, qg: QueryGenerator): string {
  const ids = identityOf(model);
  const columns = identitySql(model, qg);
  const values = ids.map((a) => identityValue(model, a, row[a], qg));
  return columns.length === 1 ? `${columns[0]} > ${values[0]}` : `(${columns.join(', ')}) > (${values.join(', ')})`;
}

/** Drops a trailing semicolon and white space from a statement Sequelize generated. */
export function bare(sql: string): string {
  return sql.replace(/;\s*$/, '').trimEnd();
}

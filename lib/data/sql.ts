import { literal, type Model, type ModelStatic } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import { generatorOf, internals, type QueryGenerator, type Row } from '../internals';
import { dialectFor } from '../dialect';
import type { RowId } from '../dialect/sql-dialect';
import { CTID, columnOf, hasPrimaryKey, identityOf } from './model-info';

export type { QueryGenerator };

export function generatorFor(model: ModelStatic<Model>): QueryGenerator {
  return generatorOf(model.sequelize!);
}

/** A value as SQL typed as the attribute's column (see `SqlDialect.typed`). */
export function typedValue(model: ModelStatic<Model>, attribute: string, valueSql: string, tableName: unknown, qg: QueryGenerator): string {
  return dialectFor(model).typed(valueSql, model, attribute, tableName, qg);
}

/**
 * How rows of a model without a primary key are told apart on this dialect — or a typed error where they cannot
 * be, naming the write (`what`: 'updates', 'inserts', …) and the event it would have signalled.
 */
export function rowIdOf(model: ModelStatic<Model>, what = 'writes', event?: string): RowId {
  const rowId = dialectFor(model).rowId;
  if (rowId) return rowId;
  throw new UnsupportedOperationError(
    `${model.name} has no primary key, and on ${dialectFor(model).name} rows without one cannot be told apart, so its ${what} ` +
      'cannot be signalled; give it a primary key, or write it with bypassSignals. Nothing was written.',
    { modelName: model.name, ...(event ? { event } : {}) },
  );
}

/**
 * Whether rows of the model cannot be told apart at all: no primary key, and a dialect without a row id
 * (MariaDB/MySQL). Deletes still signal exactly (the rows locked are the rows removed, by Sequelize's own
 * statement); inserts where the INSERT returns its rows; updates cannot be paired and are refused.
 */
export function indistinctRows(model: ModelStatic<Model>): boolean {
  return !hasPrimaryKey(model) && dialectFor(model).rowId === undefined;
}

/** The quoted columns that identify a row (`ctid` for a model without a primary key). */
export function identitySql(model: ModelStatic<Model>, qg: QueryGenerator, prefix = ''): string[] {
  if (!hasPrimaryKey(model)) return [`${prefix}${rowIdOf(model).column}`];
  return internals(model).primaryKeyAttributes.map((pk) => `${prefix}${qg.quoteIdentifier(columnOf(model, pk))}`);
}

/** One identity value as SQL (a row id as the dialect writes it). */
function identityValue(model: ModelStatic<Model>, attribute: string, value: unknown, qg: QueryGenerator): string {
  if (attribute === CTID) return rowIdOf(model).literal(value, qg);
  return qg.escape(value, internals(model).rawAttributes[attribute]);
}

/** `(id columns) IN ((…), …)` for these rows — `1 = 0` for none — as SQL. */
export function identityInSql(model: ModelStatic<Model>, rows: readonly Row[], qg: QueryGenerator): string {
  if (rows.length === 0) return '1 = 0';
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

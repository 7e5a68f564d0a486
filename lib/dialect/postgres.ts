import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { internals, serverMajor, type QueryGenerator } from '../internals';
import { CTID, columnOf } from '../data/model-info';
import type { RowId, SqlDialect, ValuesStatement, ValuesUpdate } from './sql-dialect';
import { unnestUpdate } from './postgres-unnest';
import { valuesUpdateParts, type ValuesSpelling } from './portable-sql';
import { DEFERRED_BEGIN, installDeferredBegin } from '../deferred-begin';

/**
 * The SQL type to cast a value to, so that NULLs, JSON, enums and arrays land with the column's type. Enum
 * types are named with the table's schema (`Model.schema('tenant')` tables have their own enum types).
 */
function sqlType(model: ModelStatic<Model>, attribute: string, tableName: unknown, qg: QueryGenerator): string {
  if (attribute === CTID) return 'tid';
  const type = internals(model).rawAttributes[attribute]!.type as { key?: string; toSql?: () => string; type?: { key?: string } };
  if (type.key === 'ENUM' && qg.pgEnumName) return qg.pgEnumName(tableName, columnOf(model, attribute));
  if (type.key === 'ARRAY' && type.type?.key === 'ENUM' && qg.pgEnumName)
    return `${qg.pgEnumName(tableName, columnOf(model, attribute))}[]`;
  return withoutLength(type.toSql ? type.toSql() : String(type.key));
}

/**
 * A character type without its length: a cast to `VARCHAR(n)` cuts a longer value short, where storing it in the
 * column rejects it ("value too long"), as Sequelize's own UPDATE of the value would be. (`CHAR` alone is one
 * character: `BPCHAR` is its unbounded form.)
 */
function withoutLength(sql: string): string {
  if (/^VARCHAR\(\d+\)$/.test(sql)) return 'VARCHAR';
  if (/^CHAR\(\d+\)$/.test(sql)) return 'BPCHAR';
  return sql;
}

const CTID_ROW: RowId = { column: 'ctid', literal: (value, qg) => `${qg.escape(String(value))}::tid`, stable: false };

/** Every value cast to its column's type (NULLs, JSON, enums, arrays), flags as booleans, rows as a VALUES list. */
const spelling: ValuesSpelling = {
  rowId: CTID_ROW,
  typedAs: (model, attribute, tableName, qg) => {
    const type = sqlType(model, attribute, tableName, qg);
    return (valueSql) => `CAST(${valueSql} AS ${type})`;
  },
  booleanFlags: true,
  rowsTable: (rows, columns, alias, qg) =>
    `(VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS ${qg.quoteIdentifier(alias)}(${columns.map((c) => qg.quoteIdentifier(c)).join(', ')})`,
};

/**
 * The values as one array parameter per column (`unnest`), else `UPDATE t SET c = v.c … FROM (VALUES …) v WHERE
 * t.pk = v.pk RETURNING …`, every value cast to its column's type.
 */
function updateFromValuesSql(u: ValuesUpdate): ValuesStatement {
  const unnest = unnestUpdate(u, spelling, sqlType);
  if (unnest) return unnest;
  const { table, assignments, match } = valuesUpdateParts(u, spelling);
  const q = (id: string) => u.qg.quoteIdentifier(id);
  return {
    sql:
      `UPDATE ${u.qg.quoteTable(u.tableName)} AS t SET ${assignments('').join(', ')} ` +
      `FROM ${table} WHERE ${match} RETURNING v.${q('w')} AS ${q('__bsw')}, ${u.returning}`,
  };
}

/** PostgreSQL: RETURNING on every statement, `old.*` from 18, `ctid`, casts, `LOCK TABLE`. */
export function postgresDialect(sequelize: Sequelize): SqlDialect {
  installDeferredBegin(sequelize);
  return {
    name: 'postgres',
    tapsStatements: true,
    returnsOld: () => serverMajor(sequelize) >= 18,
    oneStatementWhereWrites: true,
    ownUpdateReturns: true,
    rowId: CTID_ROW,
    lockSuffix: ' FOR UPDATE',
    lockTableSql: (table) => `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`,
    typed: (valueSql, model, attribute, tableName, qg) => spelling.typedAs(model, attribute, tableName, qg)(valueSql),
    rowsTable: spelling.rowsTable,
    updateFromValuesSql,
    conflictsOnAnyUniqueKey: false,
    generatedKeys: undefined,
    readValue: (_model, _attribute, value) => value,
    // Its BEGIN rides with its first statement (see deferred-begin.ts).
    ownTransaction: (fn) => sequelize.transaction({ [DEFERRED_BEGIN]: true } as never, (t) => fn(t)),
  };
}

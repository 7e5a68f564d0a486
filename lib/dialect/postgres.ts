import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { internals, serverMajor, type QueryGenerator } from '../internals';
import { CTID, columnOf, identityOf } from '../data/model-info';
import type { SqlDialect, ValuesUpdate } from './sql-dialect';
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
  return type.toSql ? type.toSql() : String(type.key);
}

/** `UPDATE t SET c = v.c … FROM (VALUES …) v WHERE t.pk = v.pk RETURNING …`, every value cast to its column's type. */
function updateFromValuesSql(u: ValuesUpdate): string {
  const { model, qg, writes, tableName } = u;
  const attrs = internals(model).rawAttributes;
  const q = (id: string) => qg.quoteIdentifier(id);
  const ids = identityOf(model);
  const fields = [...new Set(writes.flatMap((w) => Object.keys(w.set)))];
  const everywhere = new Set(fields.filter((f) => writes.every((w) => Object.prototype.hasOwnProperty.call(w.set, f))));
  const types = new Map([...ids, ...fields].map((a) => [a, sqlType(model, a, tableName, qg)]));
  const cast = (attribute: string, value: unknown) =>
    attribute === CTID
      ? `CAST(${qg.escape(String(value))} AS tid)`
      : `CAST(${qg.escape(value, attrs[attribute], { operation: 'UPDATE' })} AS ${types.get(attribute)})`;
  const columns = ['w', ...ids.map((_, i) => `k${i}`), ...fields.flatMap((f, i) => (everywhere.has(f) ? [`v${i}`] : [`s${i}`, `v${i}`]))];
  const tuples = writes.map((w, n) => {
    const parts = [String(n), ...ids.map((a) => cast(a, w.key[a]))];
    fields.forEach((f) => {
      const has = Object.prototype.hasOwnProperty.call(w.set, f);
      if (!everywhere.has(f)) parts.push(has ? 'TRUE' : 'FALSE');
      parts.push(has ? cast(f, w.set[f]) : `CAST(NULL AS ${types.get(f)})`);
    });
    return `(${parts.join(', ')})`;
  });
  const assignments = fields.map((f, i) => {
    const column = q(columnOf(model, f));
    return everywhere.has(f)
      ? `${column} = v.${q(`v${i}`)}`
      : `${column} = CASE WHEN v.${q(`s${i}`)} THEN v.${q(`v${i}`)} ELSE t.${column} END`;
  });
  const match = ids.map((a, i) => `${a === CTID ? 't.ctid' : `t.${q(columnOf(model, a))}`} = v.${q(`k${i}`)}`).join(' AND ');
  return (
    `UPDATE ${qg.quoteTable(tableName)} AS t SET ${assignments.join(', ')} ` +
    `FROM (VALUES ${tuples.join(', ')}) AS v(${columns.map(q).join(', ')}) WHERE ${match} RETURNING v.${q('w')} AS ${q('__bsw')}, ${u.returning}`
  );
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
    rowId: { column: 'ctid', literal: (value, qg) => `${qg.escape(String(value))}::tid`, stable: false },
    lockSuffix: ' FOR UPDATE',
    lockTableSql: (table) => `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`,
    typed: (valueSql, model, attribute, tableName, qg) => `CAST(${valueSql} AS ${sqlType(model, attribute, tableName, qg)})`,
    rowsTable: (rows, columns, alias, qg) =>
      `(VALUES ${rows.map((r) => `(${r.join(', ')})`).join(', ')}) AS ${qg.quoteIdentifier(alias)}(${columns.map((c) => qg.quoteIdentifier(c)).join(', ')})`,
    updateFromValuesSql,
    conflictsOnAnyUniqueKey: false,
    generatedKeys: undefined,
    readValue: (_model, _attribute, value) => value,
    // Its BEGIN rides with its first statement (see deferred-begin.ts).
    ownTransaction: (fn) => sequelize.transaction({ [DEFERRED_BEGIN]: true } as never, (t) => fn(t)),
  };
}

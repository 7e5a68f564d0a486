import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { internals, type Row } from '../internals';
import { parseRow, selectList } from './locked-read';
import { CTID, columnOf, identityOf } from './model-info';
import { generatorFor, sqlType } from './sql';

/** One row to write: its identity (primary key values, or `ctid`) and the attributes to set on it. */
export interface RowWrite {
  readonly key: Row;
  readonly set: Row;
}

/**
 * Writes a different set of values to each row in ONE statement:
 * `UPDATE t SET c = v.c … FROM (VALUES …) v WHERE t.pk = v.pk RETURNING t.*`.
 * An attribute only some rows set is guarded by a per-row flag, so other rows keep their current value.
 * Values are escaped through Sequelize's own query generator (its type validation and stringify) and cast to
 * the column's type. Returns, for each write in order, the row as written (keyed by attribute), or
 * `undefined` for a row that no longer exists.
 */
export async function updateRowsFromValues(
  model: ModelStatic<Model>,
  writes: readonly RowWrite[],
  options: { transaction?: Transaction | undefined; logging?: unknown; tableName?: unknown },
): Promise<(Row | undefined)[]> {
  if (writes.length === 0) return [];
  const qg = generatorFor(model);
  const tableName = options.tableName ?? model.getTableName();
  const attrs = internals(model).rawAttributes;
  const q = (id: string) => qg.quoteIdentifier(id);
  const ids = identityOf(model);
  const fields = [...new Set(writes.flatMap((w) => Object.keys(w.set)))];
  const everywhere = new Set(fields.filter((f) => writes.every((w) => Object.prototype.hasOwnProperty.call(w.set, f))));
  const types = new Map([...ids, ...fields].map((a) => [a, a === CTID ? 'tid' : sqlType(model, a, tableName, qg)]));
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
  const sql =
    `UPDATE ${qg.quoteTable(tableName)} AS t SET ${assignments.join(', ')} ` +
    `FROM (VALUES ${tuples.join(', ')}) AS v(${columns.map(q).join(', ')}) WHERE ${match} RETURNING v.${q('w')} AS ${q('__bsw')}, ${selectList(model, qg, 'n', 't.')}`;
  const [rows] = await model.sequelize!.query(sql, {
    type: QueryTypes.RAW,
    ...(options.transaction ? { transaction: options.transaction } : {}),
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  });
  const written: (Row | undefined)[] = writes.map(() => undefined);
  for (const row of rows as Row[]) written[Number(row.__bsw)] = parseRow(model, row, 'n');
  return written;
}

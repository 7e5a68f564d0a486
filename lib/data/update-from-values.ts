import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { columnOf, internals, rowToAttributes } from './model-info';
import { generatorOf, sqlType } from './sql';
import type { Row } from './records';

/** One row to write: its primary key values and the attributes to set on it. */
export interface RowWrite {
  readonly key: Row;
  readonly set: Row;
}

/**
 * Writes a different set of values to each row in ONE statement:
 * `UPDATE t SET c = v.c … FROM (VALUES …) v WHERE t.pk = v.pk RETURNING t.*`.
 * An attribute only some rows set is guarded by a per-row flag, so other rows keep their current value.
 * Values are escaped through Sequelize's own query generator (its type validation and stringify).
 * Returns the written rows keyed by attribute name.
 */
export async function updateRowsFromValues(
  model: ModelStatic<Model>,
  writes: readonly RowWrite[],
  options: { transaction?: Transaction | undefined; logging?: unknown },
): Promise<Row[]> {
  if (writes.length === 0) return [];
  const qg = generatorOf(model);
  const attrs = internals(model).rawAttributes;
  const q = (id: string) => qg.quoteIdentifier(id);
  const pks = internals(model).primaryKeyAttributes;
  const fields = [...new Set(writes.flatMap((w) => Object.keys(w.set)))];
  const everywhere = new Set(fields.filter((f) => writes.every((w) => Object.prototype.hasOwnProperty.call(w.set, f))));
  const types = new Map([...pks, ...fields].map((a) => [a, sqlType(model, a, qg)]));
  const cast = (attribute: string, value: unknown) =>
    `CAST(${qg.escape(value, attrs[attribute], { operation: 'UPDATE' })} AS ${types.get(attribute)})`;

  const columns = [
    ...pks.map((_, i) => `k${i}`),
    ...fields.flatMap((f, i) => (everywhere.has(f) ? [`v${i}`] : [`s${i}`, `v${i}`])),
  ];
  const tuples = writes.map((w) => {
    const parts = pks.map((pk) => cast(pk, w.key[pk]));
    fields.forEach((f, i) => {
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
  const match = pks.map((pk, i) => `t.${q(columnOf(model, pk))} = v.${q(`k${i}`)}`).join(' AND ');
  const sql = `UPDATE ${qg.quoteTable(model.getTableName())} AS t SET ${assignments.join(', ')} `
    + `FROM (VALUES ${tuples.join(', ')}) AS v(${columns.map(q).join(', ')}) WHERE ${match} RETURNING t.*`;
  const [rows] = await model.sequelize!.query(sql, {
    type: QueryTypes.RAW,
    ...(options.transaction ? { transaction: options.transaction } : {}),
    ...(options.logging === undefined ? {} : { logging: options.logging as never }),
  });
  return (rows as Row[]).map((row) => rowToAttributes(model, row));
}

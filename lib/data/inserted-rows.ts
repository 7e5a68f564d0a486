import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import { internals, type Row } from '../internals';
import { dialectFor } from '../dialect';
import { parseRow, selectList } from './locked-read';
import { CTID, columnOf, columnsToAttributes, keyOf } from './model-info';
import { generatorFor, identityInSql, rowIdOf } from './sql';

type Query = { transaction: Transaction; logging?: never; benchmark?: boolean };

/**
 * Finds the rows an INSERT wrote, where the statement cannot return them (MariaDB/MySQL, SQLite): rows whose
 * key the INSERT carried are read by key; rows the database numbered itself are read by the dialect's
 * generated-keys condition and matched to the inserted rows in order (numbers are handed out in row order).
 * Use: `prepare()` before the INSERT, then `rows()` after it.
 */
export class InsertedRows {
  private before: unknown;
  readonly explicit: Row[];
  /** Indices (into `records`) of the rows the database numbers itself. */
  readonly generated: number[];

  constructor(
    readonly model: ModelStatic<Model>,
    readonly tableName: unknown,
    /** The rows as Sequelize inserts them (column-keyed), in statement order — those expected to be inserted. */
    readonly records: readonly Row[],
    /** How many rows the statement has (conflicting ones included: they use up numbers too). */
    readonly statementRows: number,
    readonly query: Query,
  ) {
    const pks = internals(model).primaryKeyAttributes;
    const values = records.map((r) => columnsToAttributes(model, r));
    // A model without a primary key (SQLite: rowid): every row is numbered by the database.
    const given = (v: Row) => pks.length > 0 && pks.every((pk) => v[pk] != null);
    this.explicit = values.filter(given);
    this.generated = values.flatMap((v, i) => (given(v) ? [] : [i]));
    if (pks.length === 0) {
      const rowId = rowIdOf(model); // refuses where rows without a key cannot be told apart (MariaDB/MySQL)
      this.numbering = { sql: rowId.column, attribute: CTID };
      return;
    }
    const auto = internals(model).autoIncrementAttribute;
    if (this.generated.length > 0 && (!auto || pks.length !== 1 || pks[0] !== auto)) {
      throw new UnsupportedOperationError(
        `${model.name}: rows inserted without a value for the primary key (${pks.join(', ')}) can only be found again when it ` +
          `is one auto-increment attribute, on ${dialectFor(model).name}; pass its values, or write with bypassSignals. Nothing was written.`,
        { modelName: model.name, event: 'afterCreate' },
      );
    }
    this.numbering = auto ? { sql: generatorFor(model).quoteIdentifier(columnOf(model, auto)), attribute: auto } : undefined;
  }

  /** The column the database numbers rows by (the auto-increment key, or SQLite's rowid), and its attribute. */
  private readonly numbering: { sql: string; attribute: string } | undefined;

  private get column(): string {
    return this.numbering!.sql;
  }

  /** The statement to run before the INSERT, if the dialect needs one. */
  async prepare(): Promise<void> {
    const keys = dialectFor(this.model).generatedKeys!;
    if (this.generated.length === 0 || !keys.before) return;
    const qg = generatorFor(this.model);
    const [row] = await this.model.sequelize!.query<Row>(keys.before(this.column, qg.quoteTable(this.tableName)), {
      type: QueryTypes.SELECT,
      raw: true,
      ...this.query,
    });
    this.before = row ? Object.values(row)[0] : 0;
  }

  /** The inserted rows (attribute-keyed), in `records` order; `undefined` where a row was not found. */
  async rows(): Promise<(Row | undefined)[]> {
    const qg = generatorFor(this.model);
    const keys = dialectFor(this.model).generatedKeys!;
    const conditions = [
      ...(this.explicit.length ? [identityInSql(this.model, this.explicit, qg)] : []),
      ...(this.generated.length ? [keys.condition(this.column, this.statementRows, this.before)] : []),
    ];
    if (conditions.length === 0) return [];
    const sql = `SELECT ${selectList(this.model, qg, 'n')} FROM ${qg.quoteTable(this.tableName)} WHERE ${conditions.map((c) => `(${c})`).join(' OR ')}`;
    const raw = await this.model.sequelize!.query<Row>(sql, { type: QueryTypes.SELECT, raw: true, ...this.query });
    const rows = raw.map((r) => parseRow(this.model, r, 'n')!);
    const byKey = new Map(rows.map((r) => [keyOf(this.model, r), r]));
    const explicitKeys = new Set(this.explicit.map((v) => keyOf(this.model, v)));
    const by = this.numbering?.attribute ?? '';
    const numbered = rows.filter((r) => !explicitKeys.has(keyOf(this.model, r))).sort((a, b) => Number(a[by]) - Number(b[by]));
    const out: (Row | undefined)[] = this.records.map((r) => byKey.get(keyOf(this.model, columnsToAttributes(this.model, r))));
    this.generated.forEach((index, n) => (out[index] = numbered[n]));
    return out;
  }
}

import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import { UnsupportedOperationError } from '../errors';
import { internals, type Row } from '../internals';
import { dialectFor } from '../dialect';
import type { GeneratedKeys } from '../dialect/sql-dialect';
import { aliasOf, parseRow, selectList } from './locked-read';
import { CTID, columnOf, columnsToAttributes, keyOf, storedAttributes } from './model-info';
import { generatorFor, identityInSql, rowIdOf } from './sql';

/** The library's column carrying a binary key's bytes as hex. */
const HEX_KEY = '__bsk_hex';

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

  /** The rows expected to be inserted (column-keyed), in statement order. */
  readonly records: readonly Row[];
  /** Per statement row: its explicit key value (single-column keys), or undefined where the database numbers it. */
  private readonly explicitIds: readonly unknown[];
  /** Per expected row (index into `records`): its position among the statement's rows. */
  private readonly positions: readonly number[];

  constructor(
    readonly model: ModelStatic<Model>,
    readonly tableName: unknown,
    /** Every row of the statement as Sequelize inserts it (column-keyed), conflicting ones too: they use up numbers. */
    readonly statementRecords: readonly Row[],
    /** Which of them are expected to be inserted (indices); all when omitted. */
    expected: readonly number[] | undefined,
    readonly query: Query,
  ) {
    this.positions = expected ?? statementRecords.map((_, i) => i);
    this.records = this.positions.map((i) => statementRecords[i]!);
    const statementValues = statementRecords.map((r) => columnsToAttributes(model, r));
    const single = internals(model).primaryKeyAttributes.length === 1 ? internals(model).primaryKeyAttributes[0] : undefined;
    this.explicitIds = statementValues.map((v) => (single === undefined ? undefined : (v[single] ?? undefined)));
    const pks = internals(model).primaryKeyAttributes;
    const values = this.records.map((r) => columnsToAttributes(model, r));
    // A model without a primary key (SQLite: rowid): every row is numbered by the database.
    const given = (v: Row) => pks.length > 0 && pks.every((pk) => v[pk] != null);
    this.explicit = values.filter(given);
    this.generated = values.flatMap((v, i) => (given(v) ? [] : [i]));
    if (pks.length === 0) {
      const rowId = rowIdOf(model, 'inserts', 'afterCreate'); // refuses where rows without a key cannot be told apart (MySQL)
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

  /** The single key attribute when the rows carry it as Buffers (a binary key), else undefined. */
  private get binaryKey(): string | undefined {
    const pks = internals(this.model).primaryKeyAttributes;
    if (pks.length !== 1) return undefined;
    return this.explicit.some((v) => Buffer.isBuffer(v[pks[0]!])) ? pks[0] : undefined;
  }

  /** The inserted rows (attribute-keyed), in `records` order; `undefined` where a row was not found. */
  async rows(): Promise<(Row | undefined)[]> {
    const qg = generatorFor(this.model);
    const keys = dialectFor(this.model).generatedKeys!;
    // Explicit ids among generated ones: InnoDB's numbering is worked out row by row (see `numberedIds`).
    const mixed = keys.mixed && this.generated.length > 0 && this.explicitIds.some((v) => v !== undefined) ? keys.mixed : undefined;
    const conditions = this.conditions(keys, mixed);
    if (conditions.length === 0) return [];
    // Binary keys come back from the MariaDB/MySQL drivers as text (Sequelize reads them so too), which cannot be
    // compared with the Buffers inserted: such a key is matched by its bytes, read as hex.
    const hex = this.binaryKey
      ? `, HEX(${qg.quoteIdentifier(columnOf(this.model, this.binaryKey))}) AS ${qg.quoteIdentifier(HEX_KEY)}`
      : '';
    const list = `${selectList(this.model, qg, 'n')}${hex}${mixed ? `, ${mixed.state}` : ''}`;
    const sql = `SELECT ${list} FROM ${qg.quoteTable(this.tableName)} WHERE ${conditions.map((c) => `(${c})`).join(' OR ')}`;
    const raw = await this.model.sequelize!.query<Row>(sql, { type: QueryTypes.SELECT, raw: true, ...this.query });
    const rows = raw.map((r) => parseRow(this.model, r, 'n')!);
    const keyOfRow = (row: Row, i: number) => (this.binaryKey ? String(raw[i]![HEX_KEY]).toLowerCase() : keyOf(this.model, row));
    const byKey = new Map(rows.map((r, i) => [keyOfRow(r, i), r]));
    const out: (Row | undefined)[] = this.records.map((r) => byKey.get(keyOf(this.model, columnsToAttributes(this.model, r))));
    if (mixed) this.matchNumbered(out, byKey, raw[0]);
    else this.matchInOrder(out, rows);
    return out;
  }

  private conditions(keys: GeneratedKeys, mixed: GeneratedKeys['mixed']): string[] {
    const qg = generatorFor(this.model);
    const out = this.explicit.length ? [identityInSql(this.model, this.explicit, qg)] : [];
    if (this.generated.length === 0) return out;
    return [...out, mixed ? mixed.from(this.column) : keys.condition(this.column, this.statementRecords.length, this.before)];
  }

  /** Generated rows by the ids InnoDB gave them. */
  private matchNumbered(out: (Row | undefined)[], byKey: Map<string, Row>, state: Row | undefined): void {
    const ids = state ? this.numberedIds(state) : [];
    const by = this.numbering!.attribute;
    for (const index of this.generated) out[index] = byKey.get(keyOf(this.model, { [by]: ids[this.positions[index]!] }));
  }

  /** Generated rows in numbering order: the database numbers a statement's rows in row order. */
  private matchInOrder(out: (Row | undefined)[], rows: Row[]): void {
    const explicitKeys = new Set(this.explicit.map((v) => keyOf(this.model, v)));
    const by = this.numbering?.attribute ?? '';
    const numbered = rows.filter((r) => !explicitKeys.has(keyOf(this.model, r))).sort((a, b) => Number(a[by]) - Number(b[by]));
    this.generated.forEach((index, n) => (out[index] = numbered[n]));
  }

  /**
   * The id InnoDB gave each statement row it numbered (by statement position): the first is LAST_INSERT_ID();
   * each next one `auto_increment_increment` above the previous — or, after an explicit id at or above that,
   * the first value of the series (`offset + k × increment`) above the explicit id.
   */
  private numberedIds(state: Row): (number | undefined)[] {
    const first = Number(state.__bsg_first);
    const inc = Math.max(1, Number(state.__bsg_inc) || 1);
    const rawOffset = Number(state.__bsg_off) || 1;
    const offset = rawOffset > inc ? 1 : rawOffset;
    const above = (v: number) => v + inc - ((((v - offset) % inc) + inc) % inc);
    let counter: number | undefined;
    return this.explicitIds.map((explicit) => {
      if (explicit !== undefined) {
        if (counter !== undefined && Number(explicit) >= counter) counter = above(Number(explicit));
        return undefined;
      }
      const id = counter ?? first;
      counter = id + inc;
      return id;
    });
  }
}

/**
 * The insert id MariaDB's OK packet carries for an INSERT (Sequelize numbers the instances it returns from it),
 * worked out from the rows an `INSERT … RETURNING` returned, in statement order: the first id the statement
 * generated; where it generated none, the auto-increment value of its last row; 0 without an auto-increment
 * attribute. `records` are the statement's rows as Sequelize inserts them (column-keyed); without them (one
 * instance's INSERT) the last row's value stands for both cases.
 */
export function okPacketInsertId(model: ModelStatic<Model>, returned: readonly Row[], records?: readonly Row[]): unknown {
  const auto = internals(model).autoIncrementAttribute;
  if (!auto || returned.length === 0) return 0;
  const alias = aliasOf('n', storedAttributes(model).indexOf(auto));
  const column = columnOf(model, auto);
  const generated = (records ?? []).findIndex((record, i) => {
    const given = record[column];
    return given == null || (Number(given) === 0 && Number(returned[i]?.[alias]) !== 0);
  });
  return returned[generated >= 0 ? generated : returned.length - 1]?.[alias] ?? 0;
}

import { QueryTypes, type Model, type ModelStatic, type Transaction } from 'sequelize';
import type { QueryGenerator, Row } from '../internals';
import { dialectFor } from '../dialect';
import { CTID, columnOf, hasPrimaryKey, storedAttributes } from './model-info';
import { fromSql } from '../inheritance/chain';
import { PROBE } from './quiet-tables';
import { OWN_STATEMENT } from '../deferred-begin';
import { generatorFor, identityAfterSql, identitySql, indistinctRows, rowIdOf } from './sql';

/** Which version of a row a column list reads: old, new, predicted (an expression evaluated on the locked row), or extra (xmax). */
export type Side = 'o' | 'n' | 'p' | 'x';

/**
 * Positional aliases for every column the library reads itself (`"__bso_3"`), so rows map back to attributes
 * by position: no column-to-attribute guessing (Sequelize misplaces a `field:` holding a double quote).
 */
export function aliasOf(side: Side, i: number | 'ctid'): string {
  if (i === 'ctid') return `__bs${side}_ctid`;
  const made = ALIASES[side];
  for (let k = made.length; k <= i; k++) made.push(`__bs${side}_${k}`);
  return made[i]!;
}

/** Aliases made once: a row's values are looked up by them for every row read (1 000 rows × every column). */
const ALIASES: Record<Side, string[]> = { o: [], n: [], p: [], x: [] };

/** The alias `selectList` gives an attribute (the row id of a model without a primary key included). */
export function attributeAlias(model: ModelStatic<Model>, side: Side, attribute: string): string {
  return aliasOf(side, attribute === CTID ? 'ctid' : storedAttributes(model).indexOf(attribute));
}

/** `<prefix>"col" AS "__bso_0", …` for every stored attribute (and the `ctid` of a model without a primary key). */
export function selectList(model: ModelStatic<Model>, qg: QueryGenerator, side: Side, prefix = ''): string {
  const columns = storedAttributes(model).map(
    (a, i) => `${prefix}${qg.quoteIdentifier(columnOf(model, a))} AS ${qg.quoteIdentifier(aliasOf(side, i))}`,
  );
  if (readsRowId(model)) columns.push(`${prefix}${rowIdOf(model).column} AS ${qg.quoteIdentifier(aliasOf(side, 'ctid'))}`);
  return columns.join(', ');
}

/**
 * Whether rows of the model are read with the dialect's row id: a model without a primary key, where the dialect
 * has one (MariaDB/MySQL have none: such rows are read without identity, and paths that need one refuse).
 */
function readsRowId(model: ModelStatic<Model>): boolean {
  return !hasPrimaryKey(model) && dialectFor(model).rowId !== undefined;
}

/** Rows of Sequelize's own `RETURNING` of every field (keyed by column) as `selectList` would have read them. */
export function mirrorOf(model: ModelStatic<Model>, side: Side): (row: Row) => Row {
  const qg = generatorFor(model);
  // The name the server gives the column back is what Sequelize's quoting made of the field (it drops quotes).
  const named = (field: string) => {
    const quoted = qg.quoteIdentifier(field);
    return quoted.startsWith('"') && quoted.endsWith('"') ? quoted.slice(1, -1).replace(/""/g, '"') : quoted;
  };
  const columns = storedAttributes(model).map((a, i) => [named(columnOf(model, a)), aliasOf(side, i)] as const);
  // PostgreSQL folds a column created unquoted (`quoteIdentifiers: false`) to lower case: `RETURNING *` names it so.
  return (row) => {
    const out: Row = {};
    for (const [column, alias] of columns) out[alias] = column in row ? row[column] : row[column.toLowerCase()];
    return out;
  };
}

/** `selectList` of some attributes only (their aliases are those `selectList` gives them). */
export function selectListOf(
  model: ModelStatic<Model>,
  qg: QueryGenerator,
  side: Side,
  attributes: readonly string[],
  prefix = '',
): string {
  const all = storedAttributes(model);
  return attributes
    .map((a) => `${prefix}${qg.quoteIdentifier(columnOf(model, a))} AS ${qg.quoteIdentifier(aliasOf(side, all.indexOf(a)))}`)
    .join(', ');
}

/** Reads rows read with `selectListOf(…, attributes)`: those attributes over `base` (the rest of the row). */
export function overParser(model: ModelStatic<Model>, side: Side, attributes: readonly string[]): (row: Row, base: Row) => Row {
  const all = storedAttributes(model);
  const dialect = dialectFor(model);
  const read = attributes.map((a) => [a, aliasOf(side, all.indexOf(a))] as const);
  return (row, base) => {
    const out: Row = { ...base };
    for (const [a, alias] of read) out[a] = dialect.readValue(model, a, row[alias]);
    return out;
  };
}

/** A row read with `selectList`, keyed by attribute name; `undefined` when that side is all NULL (no such row). */
export function parseRow(model: ModelStatic<Model>, row: Row, side: Side): Row | undefined {
  const out: Row = {};
  let present = false;
  const dialect = dialectFor(model);
  const attributes = storedAttributes(model);
  for (let i = 0; i < attributes.length; i++) {
    const value = row[aliasOf(side, i)];
    if (value !== null && value !== undefined) present = true;
    out[attributes[i]!] = dialect.readValue(model, attributes[i]!, value);
  }
  if (readsRowId(model)) {
    out[CTID] = row[aliasOf(side, 'ctid')];
    present ||= out[CTID] != null;
  }
  return present ? out : undefined;
}

/** Removes the library's own columns from a row Sequelize will see. */
export function isOwnColumn(name: string): boolean {
  return name.startsWith('__bs');
}

/** What a locked read reads: the statement's table and its WHERE, rendered exactly as the write renders it. */
export interface LockTarget {
  readonly model: ModelStatic<Model>;
  /** The table as Sequelize passes it to the query interface (schema included). */
  readonly tableName: unknown;
  /** The write's WHERE condition as SQL (no `WHERE` keyword); empty for every row. */
  readonly conditions: string;
}

export interface LockOptions {
  readonly limit?: number | undefined;
  /** Keyset pagination: only rows after this one, in identity order. */
  readonly after?: Row | undefined;
  /** SQL evaluated on each locked row, returned as predicted values of these attributes. */
  readonly predictions?: Readonly<Record<string, string>> | undefined;
  /** One more select-list item evaluated once (the quiet-table probe), returned as `LockedRows.probe`. */
  readonly probe?: string | undefined;
}

/** A locked read's select list: the columns, the predictions evaluated on each row, the probe. */
function lockedList(model: ModelStatic<Model>, qg: QueryGenerator, columns: string, options: LockOptions): string {
  const attributes = storedAttributes(model);
  const items = [columns];
  for (const [attribute, sql] of Object.entries(options.predictions ?? {})) {
    items.push(`${sql} AS ${qg.quoteIdentifier(aliasOf('p', attributes.indexOf(attribute)))}`);
  }
  if (options.probe) items.push(options.probe);
  return items.join(', ');
}

/** `SELECT <columns> FROM <table> WHERE … ORDER BY <identity> [LIMIT n] FOR UPDATE` — the library's one locked read. */
export function lockedSelectSql(target: LockTarget, side: Side, options: LockOptions = {}, columns?: string): string {
  const { model } = target;
  const qg = generatorFor(model);
  const conditions = [target.conditions, options.after ? identityAfterSql(model, options.after, qg) : '']
    .filter((c) => c !== '')
    .map((c) => `(${c})`)
    .join(' AND ');
  const list = lockedList(model, qg, columns ?? selectList(model, qg, side), options);
  // Rows that cannot be told apart are read in the order the statement visits them (a LIMIT picks the same ones).
  const order = indistinctRows(model) ? '' : ` ORDER BY ${identitySql(model, qg).join(', ')}`;
  return (
    `SELECT ${list} FROM ${fromSql(model, target.tableName, qg)}${conditions ? ` WHERE ${conditions}` : ''}` +
    `${order}${options.limit != null ? ` LIMIT ${Number(options.limit)}` : ''}${dialectFor(model).lockSuffix}`
  );
}

/** The rows of a locked read, keyed by attribute, with the predicted values beside them. */
export interface LockedRows {
  readonly rows: Row[];
  readonly predicted: Row[];
  /** What the probe returned (on the first row; nothing without rows). */
  readonly probe?: unknown;
}

/**
 * Reads the rows `target` matches, locked `FOR UPDATE` in identity order (so concurrent writers queue, and lock
 * in the same order), in the caller's transaction.
 */
export async function readLocked(
  target: LockTarget,
  query: { transaction: Transaction; logging?: unknown; benchmark?: unknown },
  options: LockOptions = {},
): Promise<LockedRows> {
  const { model } = target;
  const raw = await model.sequelize!.query<Row>(lockedSelectSql(target, 'o', options), {
    type: QueryTypes.SELECT,
    raw: true,
    transaction: query.transaction,
    ...(query.logging === undefined ? {} : { logging: query.logging as never }),
    ...(query.benchmark === undefined ? {} : { benchmark: query.benchmark as boolean }),
    // The library's statement: a deferred BEGIN of its own transaction rides with it.
    ...({ [OWN_STATEMENT]: true } as object),
  });
  const rows = raw.map((r) => parseRow(model, r, 'o')!);
  const attributes = storedAttributes(model);
  const predicted = options.predictions
    ? raw.map((r) => Object.fromEntries(Object.keys(options.predictions!).map((a) => [a, r[aliasOf('p', attributes.indexOf(a))]])))
    : [];
  return { rows, predicted, probe: options.probe ? raw[0]?.[PROBE] : undefined };
}

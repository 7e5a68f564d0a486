import type { Model, ModelStatic, Transaction } from 'sequelize';
import type { QueryGenerator, Row } from '../internals';

/** The Sequelize dialects the library signals on. */
export type DialectName = 'postgres' | 'mariadb' | 'mysql' | 'sqlite';

/** How a model without a primary key tells its rows apart (PostgreSQL's `ctid`, SQLite's `rowid`). */
export interface RowId {
  /** The column, as SQL. */
  readonly column: string;
  /** One value of it, as a literal. */
  literal(value: unknown, qg: QueryGenerator): string;
  /** Whether an UPDATE keeps it (SQLite's `rowid`) or gives the row a new one (PostgreSQL's `ctid`). */
  readonly stable: boolean;
}

/** One row to write by {@link SqlDialect.updateFromValuesSql}: its identity and the attributes to set. */
export interface RowWrite {
  readonly key: Row;
  readonly set: Row;
}

/** See {@link SqlDialect.generatedKeys}. */
export interface GeneratedKeys {
  /** Run before the INSERT (SQLite: the highest rowid); its single value is passed to `condition`. */
  before?(column: string, table: string): string;
  /**
   * The rows the INSERT just numbered: `count` rows were in the statement; `before` is the value the statement
   * above returned. MariaDB/MySQL: InnoDB reserves a block of `count` values for the statement (lock modes 0
   * and 1), starting at LAST_INSERT_ID(); SQLite: rowids above the highest one before the INSERT.
   */
  condition(column: string, count: number, before: unknown): string;
  /** The row the connection's last single-row INSERT numbered. */
  last(column: string): string;
  /**
   * MariaDB/MySQL, a statement with explicit ids among generated ones: an explicit id above InnoDB's counter
   * moves it, so the rows after it are numbered above that id, outside the block `condition` names. Then the
   * rows at or above the first generated id are read (`from`) with the numbering state (`state`: first id,
   * increment, offset as `__bsg_first`, `__bsg_inc`, `__bsg_off`), and the ids InnoDB gave are worked out from
   * it row by row (see inserted-rows.ts) — rows of other writers in that range are not taken for ours.
   */
  mixed?: { from(column: string): string; state: string };
}

/** A statement of `updateFromValuesSql`: its text, and the values of its `$1…` parameters where it has them. */
export interface ValuesStatement {
  readonly sql: string;
  readonly bind?: readonly unknown[] | undefined;
}

/** What `updateFromValuesSql` needs besides the writes. */
export interface ValuesUpdate {
  readonly model: ModelStatic<Model>;
  readonly tableName: unknown;
  readonly qg: QueryGenerator;
  readonly writes: readonly RowWrite[];
  /** `"col" AS "__bsn_0", …` of the updated table `t`: the rows as written (dialects that return them). */
  readonly returning: string;
}

/**
 * The SQL that differs between dialects and server versions, chosen once per Sequelize instance: operations ask
 * it what the server can do and for the statements that differ, and never branch on the dialect themselves.
 */
export interface SqlDialect {
  readonly name: DialectName;
  /**
   * Sequelize's own statements can carry the library's RETURNING columns (the statement tap). Where they cannot,
   * the rows a statement wrote are read again by key, in the same transaction, while the library holds them.
   */
  readonly tapsStatements: boolean;
  /** `RETURNING old.*, new.*`: one statement says what it replaced (PostgreSQL 18). Asked after the first connection. */
  returnsOld(): boolean;
  /**
   * Where statements cannot carry RETURNING in general: a where-based DELETE can (MariaDB ≥ 10.5), so with after
   * receivers alone it is one statement, Sequelize's own with `RETURNING` added. Asked after the first connection.
   */
  deletesReturning?(): boolean;
  /**
   * Where statements cannot carry RETURNING in general: an INSERT can (MariaDB ≥ 10.5), so `create` and a plain
   * `bulkCreate` return the rows they inserted instead of having them read again. Asked after the first connection.
   */
  insertsReturning?(): boolean;
  /** After receivers alone ride in one statement for where-based writes (a data-modifying CTE or `RETURNING old.*`). */
  readonly oneStatementWhereWrites: boolean;
  /** The library's own per-row UPDATE can return the rows it wrote. */
  readonly ownUpdateReturns: boolean;
  /** The identity of rows of a model without a primary key; `undefined` where there is none (MariaDB/MySQL). */
  readonly rowId: RowId | undefined;
  /** What a locked read ends with (`FOR UPDATE`; SQLite holds the database's write lock instead). */
  readonly lockSuffix: string;
  /** Locks a whole table before a TRUNCATE's read, so no row appears in between; `undefined` where not needed. */
  lockTableSql(table: string): string | undefined;
  /** A value as SQL, typed as the attribute's column (PostgreSQL casts NULLs, JSON, enums, arrays). */
  typed(valueSql: string, model: ModelStatic<Model>, attribute: string, tableName: unknown, qg: QueryGenerator): string;
  /** A derived table of literal rows with named columns: `(VALUES …) AS v(a, b)` or `(SELECT … UNION ALL …) AS v`. */
  rowsTable(rows: readonly (readonly string[])[], columns: readonly string[], alias: string, qg: QueryGenerator): string;
  /** One statement writing a different set of values to each row (with its bind parameters, where it has any). */
  updateFromValuesSql(u: ValuesUpdate): ValuesStatement;
  /**
   * Whether an INSERT conflicts on any unique key of the table (MariaDB/MySQL `ON DUPLICATE KEY`, `INSERT
   * IGNORE`) rather than on the target Sequelize names (`ON CONFLICT (…)`).
   */
  readonly conflictsOnAnyUniqueKey: boolean;
  /**
   * How the rows an INSERT numbered itself (auto-increment keys) are found again where it cannot return them:
   * an optional statement before the INSERT, and the condition selecting them after it.
   */
  readonly generatedKeys: GeneratedKeys | undefined;
  /**
   * A value of a row the library read itself (raw), as Sequelize holds it in an instance after a find (the
   * drivers leave some types to Sequelize: SQLite's dates and JSON, MariaDB/MySQL's booleans).
   */
  readValue(model: ModelStatic<Model>, attribute: string, value: unknown): unknown;
  /**
   * Where statements cannot return rows: how a where-write Sequelize rendered is sent once narrowed to the locked
   * keys (identity where no rewrite is needed). See mysql.ts.
   */
  readonly narrowedWrite?: ((sql: string) => string) | undefined;
  /**
   * Runs `fn` in a transaction the library opens itself (the call came without one). SQLite: `IMMEDIATE`, so the
   * write lock is held from before the old rows are read, and one at a time per instance (see sqlite.ts).
   * `model` is the model the call writes (MariaDB/MySQL pick the isolation level by it).
   */
  ownTransaction<T>(fn: (transaction: Transaction) => Promise<T>, model?: ModelStatic<Model>): Promise<T>;
}

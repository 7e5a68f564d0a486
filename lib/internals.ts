import { Utils, type Model, type ModelStatic, type Sequelize, type Transaction, type WhereOptions } from 'sequelize';

/**
 * Every private Sequelize field or method this library relies on, in one place. `spec/internals.spec.ts`
 * asserts these shapes on the installed Sequelize, so an upgrade that moves one fails in one named test
 * instead of somewhere deep in a write path.
 */

export type Row = Record<string, unknown>;

export interface AttributeInternals {
  field?: string;
  type?: unknown;
  primaryKey?: boolean;
  autoIncrement?: boolean;
  defaultValue?: unknown;
}

/** An association as a model's `associations` holds it. */
export interface AssociationInternals {
  readonly associationType: string;
  readonly target: ModelStatic<Model>;
  readonly foreignKey: string;
  readonly sourceKey: string;
  readonly scope?: Record<string, unknown>;
  readonly options: { onDelete?: string; useHooks?: boolean };
  readonly through?: { model: ModelStatic<Model> };
}

/** The parts of a model class the library reads. */
export interface ModelInternals {
  readonly name: string;
  readonly sequelize?: Sequelize;
  readonly rawAttributes: Record<string, AttributeInternals>;
  readonly primaryKeyAttributes: string[];
  /** The attribute the database numbers itself (`autoIncrement: true`), if any. */
  readonly autoIncrementAttribute?: string;
  readonly _virtualAttributes: Set<string>;
  readonly _timestampAttributes: { createdAt?: string; updatedAt?: string; deletedAt?: string };
  readonly _readOnlyAttributes?: Set<string>;
  readonly uniqueKeys: Record<string, { fields: string[] }>;
  readonly _indexes: { unique?: boolean; where?: unknown; fields: (string | { name?: string; attribute?: string })[] }[];
  readonly associations?: Record<string, AssociationInternals>;
  readonly options: { hasTrigger?: boolean; schema?: string };
  /** The schema of the model's table; a `Model.schema()` copy has its own (and its own delimiter). */
  readonly _schema?: string;
  readonly _schemaDelimiter?: string;
}

export function internals(model: ModelStatic<Model>): ModelInternals {
  return model as unknown as ModelInternals;
}

/** The parts of an instance the library reads and writes. */
export interface InstanceInternals {
  dataValues: Row;
  _previousDataValues: Row;
  _changed: Set<string>;
  _options: Row;
  isNewRecord: boolean;
}

export function instanceInternals(instance: Model): InstanceInternals {
  return instance as unknown as InstanceInternals;
}

/** An instance's current values (its `dataValues`), typed. */
export function valuesOf(instance: Model): Row {
  return (instance as unknown as InstanceInternals).dataValues;
}

/** The parts of Sequelize's query generator the library's own SQL uses. */
export interface QueryGenerator {
  quoteIdentifier(id: string): string;
  quoteTable(table: unknown): string;
  escape(value: unknown, field?: unknown, options?: unknown): string;
  /** A value as a bind parameter: validated and stringified by its type, handed to `bindParam`, which names it. */
  format?(value: unknown, field: unknown, options: unknown, bindParam: (value: unknown) => string): string;
  whereQuery(where: unknown, options?: unknown): string;
  getWhereConditions(where: unknown, tableName: unknown, model: unknown, options: unknown): string;
  pgEnumName?(table: unknown, column: string, options?: unknown): string;
  _dialect: { supports: Record<string, unknown> };
}

export function generatorOf(sequelize: Sequelize): QueryGenerator {
  return (sequelize.getQueryInterface() as unknown as { queryGenerator: QueryGenerator }).queryGenerator;
}

/** The query-interface methods the library wraps (each write path ends in one of them). */
export const QUERY_INTERFACE_WRITES = [
  'insert',
  'bulkInsert',
  'upsert',
  'update',
  'bulkUpdate',
  'delete',
  'bulkDelete',
  'increment',
  'decrement',
] as const;
export type QueryInterfaceWrite = (typeof QUERY_INTERFACE_WRITES)[number];

/** The object Sequelize builds per statement (`new dialect.Query(connection, sequelize, options)`). */
export interface DialectQuery {
  connection: unknown;
  options: Row;
  run(sql: string, parameters?: unknown): Promise<unknown>;
}
export type DialectQueryClass = new (connection: unknown, sequelize: Sequelize, options: Row) => DialectQuery;

export interface DialectInternals {
  Query: DialectQueryClass;
}

export function dialectOf(sequelize: Sequelize): DialectInternals {
  return (sequelize as unknown as { dialect: DialectInternals }).dialect;
}

/** The transaction Sequelize's CLS (`Sequelize.useCLS`) holds for the current async context, if any. */
export function clsTransaction(sequelize: Sequelize): Transaction | undefined {
  const cls = (sequelize.constructor as unknown as { _cls?: { get(key: string): unknown } })._cls;
  return (cls?.get('transaction') as Transaction | undefined) ?? undefined;
}

/** The options a Sequelize instance was built with, as it keeps them. */
export function sequelizeOptions(sequelize: Sequelize): { databaseVersion?: string | number; omitNull?: boolean } {
  return (sequelize as unknown as { options: { databaseVersion?: string | number; omitNull?: boolean } }).options;
}

/** The server's major version (Sequelize records it on its first connection). */
export function serverMajor(sequelize: Sequelize): number {
  // A version string once connected ('18.1', '10.11.6-MariaDB'); SQLite's stays the number 0.
  const version = String(sequelizeOptions(sequelize).databaseVersion ?? '0');
  return Number(version.split('.')[0]) || 0;
}

/** Whether a transaction was committed or rolled back (`finished`: 'commit' / 'rollback'). */
export function transactionFinished(transaction: Transaction): boolean {
  return (transaction as unknown as { finished?: string }).finished !== undefined;
}

/** The `Model` base class of the Sequelize copy this instance comes from (two copies may be loaded). */
export function modelBaseOf(sequelize: Sequelize): ModelStatic<Model> {
  return (sequelize.constructor as unknown as { Model: ModelStatic<Model> }).Model;
}

/** Sequelize's own deep clone for options (keeps model classes, instances and `fn`/`literal` by reference). */
export function cloneOptions<T>(value: T): T {
  return (Utils as unknown as { cloneDeep<U>(v: U): U }).cloneDeep(value);
}

/** `where` with attribute names mapped to columns, as Sequelize maps it before generating a statement. */
export function mapWhereFields(model: ModelStatic<Model>, where: WhereOptions | undefined): WhereOptions | undefined {
  const utils = Utils as unknown as { mapOptionFieldNames(o: object, m: unknown): { where?: WhereOptions } };
  return utils.mapOptionFieldNames({ where: cloneOptions(where) }, model).where;
}

/** Whether a value is one of Sequelize's SQL expressions (`literal`, `fn`, `col`, `cast`, `where`…). */
export function isExpression(value: unknown): boolean {
  return value instanceof Utils.SequelizeMethod;
}

/** A transaction's parent (savepoints) — Sequelize keeps it on the object. */
export function parentOf(transaction: Transaction): Transaction | undefined {
  return (transaction as unknown as { parent?: Transaction | null }).parent ?? undefined;
}

/** The parts of a model class `inherit()` rewrites: its attributes and the timestamps Sequelize sets. */
export interface MutableModelInternals {
  rawAttributes: Record<string, AttributeInternals & Record<string, unknown>>;
  _timestampAttributes: { createdAt?: string; updatedAt?: string; deletedAt?: string };
  _readOnlyAttributes: Set<string>;
  _hasReadOnlyAttributes: boolean;
  options: {
    timestamps?: boolean;
    paranoid?: boolean;
    validate?: Record<string, unknown>;
    indexes?: unknown[];
    /** Optimistic locking: `true` or the attribute's name. */
    version?: boolean | string;
  };
  refreshAttributes(): void;
  _findAutoIncrementAttribute(): void;
}

export function mutableInternals(model: ModelStatic<Model>): MutableModelInternals {
  return model as unknown as MutableModelInternals;
}

/** The query generator's `selectQuery`: every SELECT Sequelize renders for a model (finds, counts, aggregates, includes). */
export interface QueryGeneratorSelect {
  selectQuery(tableName: unknown, options: unknown, model: unknown): string;
}

/** The query-interface methods the library calls for one level of a child model's chain (a plain table). */
export interface LevelQueryInterface {
  bulkUpdate(tableName: unknown, values: Row, where: unknown, options: Row, attributes: unknown): Promise<unknown>;
  bulkDelete(tableName: unknown, where: unknown, options: Row, model: unknown): Promise<unknown>;
  increment(model: unknown, tableName: unknown, where: unknown, amounts: Row, extra: Row, options: Row): Promise<unknown>;
  decrement(model: unknown, tableName: unknown, where: unknown, amounts: Row, extra: Row, options: Row): Promise<unknown>;
}

export function levelQueryInterface(sequelize: Sequelize): LevelQueryInterface {
  return sequelize.getQueryInterface() as unknown as LevelQueryInterface;
}

/** The query generator's INSERT of many rows (column-keyed), as `bulkInsert` renders it. */
export function bulkInsertSql(sequelize: Sequelize, tableName: unknown, records: Row[], attributes: unknown): string {
  const qg = generatorOf(sequelize) as unknown as { bulkInsertQuery(t: unknown, r: Row[], o: Row, a: unknown): string };
  return qg.bulkInsertQuery(tableName, records, {}, attributes);
}

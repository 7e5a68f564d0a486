import { QueryTypes, Sequelize, type Model, type ModelStatic, type Options } from 'sequelize';
import { Sequelize as TypedSequelize } from 'sequelize-typescript';
import { installBulkSignals, type InstallOptions } from '../../lib';

const CONTROL =
  /^(START TRANSACTION|BEGIN( (DEFERRED|IMMEDIATE|EXCLUSIVE))? TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|SET (SESSION|TRANSACTION))/i;

/**
 * Counts statements through Sequelize's `logging` hook. Transaction control (BEGIN/COMMIT/ROLLBACK,
 * savepoints) is not counted: the budgets are about data statements.
 */
export class StatementLog {
  readonly statements: string[] = [];
  /** Per counted statement, the connection Sequelize names in its log line: `default` outside a transaction. */
  readonly connections: string[] = [];
  private on = false;
  readonly logging = (sql: string): void => {
    if (!this.on) return;
    const [, connection = '', logged = sql] = /^Executing \(([^)]*)\):\s*([\s\S]*)$/.exec(sql) ?? [];
    // The library's own PostgreSQL transactions send their BEGIN with their first statement: that one counts.
    const text = logged.replace(/^START TRANSACTION;\s*/i, '');
    if (text === '' || CONTROL.test(text)) return;
    this.statements.push(text);
    this.connections.push(connection);
  };

  /** Counts the statements `fn` issues. */
  async count<T>(fn: () => Promise<T>): Promise<{ result: T; count: number; statements: string[]; connections: string[] }> {
    this.statements.length = 0;
    this.connections.length = 0;
    this.on = true;
    try {
      const result = await fn();
      return { result, count: this.statements.length, statements: [...this.statements], connections: [...this.connections] };
    } finally {
      this.on = false;
    }
  }
}

export interface TestDatabase {
  readonly sequelize: Sequelize;
  readonly log: StatementLog;
}

/** The dialect the suite runs on: `TEST_DIALECT` (postgres, mariadb, mysql, sqlite), PostgreSQL by default. */
export const testDialect = (process.env.TEST_DIALECT ?? 'postgres') as 'postgres' | 'mariadb' | 'mysql' | 'sqlite';

/** Whether the suite runs on one of these dialects (specs of dialect-specific behaviour check it). */
export function onDialect(...dialects: (typeof testDialect)[]): boolean {
  return dialects.includes(testDialect);
}

/**
 * A value that depends on the dialect (statement counts mostly): `postgres` is PostgreSQL's, `others` every
 * other dialect's unless one is named.
 */
export function perDialect<T>(values: { postgres: T; others: T } & Partial<Record<typeof testDialect, T>>): T {
  if (testDialect in values) return values[testDialect] as T;
  return testDialect === 'postgres' ? values.postgres : values.others;
}

function baseOptions(log: StatementLog, extra: Options): Options {
  return { dialect: testDialect, logging: log.logging, pool: { max: 10, min: 0, idle: 1000 }, ...extra };
}

/** A Sequelize instance on the test database, with the library installed. Close it in `after`. */
export function connect(extra: Options = {}, install: InstallOptions | false = { warnOnMultipleReceivers: false }): TestDatabase {
  const log = new StatementLog();
  const sequelize = new Sequelize(process.env.DATABASE_URL!, baseOptions(log, extra));
  if (install !== false) installBulkSignals(sequelize, install);
  return { sequelize, log };
}

/** The same with sequelize-typescript's Sequelize. */
export function connectTyped(extra: Options = {}): TestDatabase & { sequelize: TypedSequelize } {
  const log = new StatementLog();
  const sequelize = new TypedSequelize(process.env.DATABASE_URL!, baseOptions(log, extra));
  installBulkSignals(sequelize, { warnOnMultipleReceivers: false });
  return { sequelize, log };
}

/**
 * Empties tables and restarts their id sequences, outside the library (raw statements are never signalled):
 * `TRUNCATE … RESTART IDENTITY CASCADE` on PostgreSQL; on the others a DELETE per table (children first, as
 * given) and the auto-increment counter reset.
 */
export async function resetTables(...models: ModelStatic<Model>[]): Promise<void> {
  const sequelize = models[0]!.sequelize!;
  const qg = (sequelize.getQueryInterface() as unknown as { queryGenerator: { quoteTable(t: unknown): string } }).queryGenerator;
  const tables = models.map((m) => qg.quoteTable(m.getTableName()));
  if (testDialect === 'postgres') {
    await sequelize.query(`TRUNCATE ${tables.join(', ')} RESTART IDENTITY CASCADE`);
    return;
  }
  await sequelize.transaction(async (transaction) => {
    const run = (sql: string) => sequelize.query(sql, { transaction });
    if (testDialect === 'sqlite') {
      for (const table of tables) await run(`DELETE FROM ${table}`);
      const [sequence] = await run("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'");
      if (sequence.length) {
        const names = models.map((m) => `'${tableNameOf(m).replace(/'/g, "''")}'`);
        await run(`DELETE FROM sqlite_sequence WHERE name IN (${names.join(', ')})`);
      }
      return;
    }
    await run('SET FOREIGN_KEY_CHECKS = 0');
    for (const table of tables) await run(`DELETE FROM ${table}`);
    await run('SET FOREIGN_KEY_CHECKS = 1');
  });
  // MariaDB/MySQL: ALTER TABLE commits by itself, so it runs outside the transaction.
  if (testDialect === 'mariadb' || testDialect === 'mysql')
    for (const table of tables) await sequelize.query(`ALTER TABLE ${table} AUTO_INCREMENT = 1`);
}

/** The server's major version (the strategies differ between PostgreSQL 18 and older servers). */
export async function serverMajor(sequelize: Sequelize): Promise<number> {
  const row = (await sequelize.query("SELECT current_setting('server_version_num') AS v", { type: QueryTypes.SELECT, plain: true })) as {
    v: string;
  };
  return Math.floor(Number(row.v) / 10000);
}

/**
 * Registers mocha hooks that connect (library installed), define the spec models under a table prefix,
 * create their tables, and close the connection after the file. Returns the live handle.
 */
export function useDatabase(prefix: string, define: (sequelize: Sequelize, prefix: string) => unknown, extra: Options = {}): TestDatabase {
  const handle = {} as { sequelize: Sequelize; log: StatementLog };
  before(async () => {
    Object.assign(handle, connect(extra));
    define(handle.sequelize, prefix);
    await handle.sequelize.sync({ force: true });
  });
  after(async () => {
    await handle.sequelize?.close();
  });
  return handle;
}

/** A model's table name as SQLite stores it: a schema is a prefix of the name. */
function tableNameOf(model: ModelStatic<Model>): string {
  const name = model.getTableName() as string | { tableName: string; schema?: string; delimiter?: string };
  if (typeof name === 'string') return name;
  return name.schema ? `${name.schema}${name.delimiter ?? '.'}${name.tableName}` : name.tableName;
}

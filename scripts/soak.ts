// `npm run soak`: concurrent writers on every write path, overlapping keys, random backend kills, and a
// replica fed ONLY from on-commit signals. Every old row a signal carries must equal the replica's row (the
// last committed version the signals described); at the end the replica must equal the tables. Single-client
// specs cannot find races between the locked read, the write and COMMIT; this does. Loopback only, bounded.
//
//   SOAK_SECONDS=30  how long to run (default 30)      SOAK_CLIENTS=32  concurrent writers (default 32)
//   SOAK_KEYS=40     rows per table the writers fight over (default 40)   SOAK_KILL_MS=250  backend-kill interval
//   SOAK_PATHS=increment,upsert  only these paths (names as in the summary)
//   DATABASE_URL     use that server (default: a throwaway PostgreSQL, TEST_PG=embedded|system)
// Exits 1 when any mismatch was seen; prints one line per mismatch (at most 20) and a summary.
import { DataTypes, Model, Op, QueryTypes, Sequelize, literal, type ModelStatic } from 'sequelize';
import { bulkDestroy, bulkSignals, bulkUpdate, installBulkSignals, type Signal } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

type Row = Record<string, unknown>;
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 32);
const KEYS = Number(process.env.SOAK_KEYS ?? 40);
const KILL_MS = Number(process.env.SOAK_KILL_MS ?? 250);

class Account extends Model {
  declare id: number;
  declare balance: number;
  declare status: string;
}
class Ledger extends Model {
  declare id: number;
  declare amount: number;
  declare deletedAt: Date | null;
}

const attributes = {
  id: { type: DataTypes.INTEGER, primaryKey: true },
  balance: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'open' },
};

/** The replica: per model, the last committed version of each row, as signals described it. */
const replica = new Map<string, Map<number, Row>>();
const mismatches: string[] = [];
const stats = { ops: 0, failed: 0, signals: 0, rows: 0, killed: 0 };

const comparable = (r: Row | undefined) =>
  r
    ? JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k] instanceof Date ? r[k].getTime() : r[k]]),
      )
    : 'none';
const plain = (m: Model) => ({ ...m.get({ plain: true }) }) as Row;

function mismatch(text: string): void {
  mismatches.push(text);
  if (mismatches.length <= 20) console.log(`MISMATCH ${text}`);
}

function listen(model: ModelStatic<Model>): void {
  const rows = new Map<number, Row>();
  replica.set(model.name, rows);
  const check = (s: Signal<Model>, old: Row) => {
    // instance.save/update/restore take old values from the instance as loaded (no query, by contract), so
    // another writer in between makes them stale; every other path reads them locked or from the statement.
    if (s.via === 'instance' && ['save', 'update', 'restore'].includes(s.operation)) return;
    const known = rows.get(old.id as number);
    const seen = known?.deletedAt === '?' && old.deletedAt != null ? { ...old, deletedAt: '?' } : old;
    if (comparable(known) !== comparable(seen))
      mismatch(
        `${model.name}.${s.operation} ${s.event} id ${String(old.id)}: signal old ${comparable(old)} but last committed ${comparable(known)}`,
      );
  };
  bulkSignals.on(
    model,
    'afterCreate',
    (s) => {
      stats.signals++;
      for (const r of s.newRecords.map(plain)) {
        if (rows.has(r.id as number)) mismatch(`${model.name}.${s.operation} afterCreate id ${String(r.id)}: the replica already has it`);
        rows.set(r.id as number, r);
        stats.rows++;
      }
    },
    { onCommit: process.env.SOAK_IN_TX !== '1' },
  );
  bulkSignals.on(
    model,
    'afterUpdate',
    (s) => {
      stats.signals++;
      s.oldRecords.forEach((o, i) => {
        check(s, plain(o));
        rows.set(plain(o).id as number, plain(s.newRecords[i]!));
        stats.rows++;
      });
    },
    { onCommit: process.env.SOAK_IN_TX !== '1' },
  );
  bulkSignals.on(
    model,
    'afterDelete',
    (s) => {
      stats.signals++;
      for (const o of s.oldRecords.map(plain)) {
        check(s, o);
        // A soft delete leaves the row; its deletedAt is only known from the table, so the next signal is checked without it.
        if (s.soft) rows.set(o.id as number, { ...o, deletedAt: '?' });
        else rows.delete(o.id as number);
        stats.rows++;
      }
    },
    { onCommit: process.env.SOAK_IN_TX !== '1' },
  );
}

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const someKeys = (n: number) => Array.from({ length: n }, () => 1 + Math.floor(Math.random() * KEYS));

async function main(): Promise<void> {
  const db = process.env.DATABASE_URL ? undefined : await startDatabase();
  const url: string = process.env.DATABASE_URL ?? db.url;
  const sequelize = new Sequelize(url, { logging: false, pool: { max: CLIENTS + 4 } });
  const admin = new Sequelize(url, { logging: false });
  installBulkSignals(sequelize, { warnOnMultipleReceivers: false });
  Account.init(attributes, { sequelize, tableName: 'soak_accounts', timestamps: false });
  Ledger.init(
    { id: attributes.id, amount: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 } },
    { sequelize, tableName: 'soak_ledgers', paranoid: true, timestamps: true, createdAt: false, updatedAt: false },
  );
  await sequelize.sync({ force: true });
  await Account.bulkCreate(
    Array.from({ length: KEYS }, (_, i) => ({ id: i + 1, balance: 100 })),
    { bypassSignals: true },
  );
  await Ledger.bulkCreate(
    Array.from({ length: KEYS }, (_, i) => ({ id: i + 1, amount: 1 })),
    { bypassSignals: true },
  );
  listen(Account);
  listen(Ledger);
  for (const [model, rows] of [
    [Account, replica.get('Account')!],
    [Ledger, replica.get('Ledger')!],
  ] as const) {
    for (const r of await (model as ModelStatic<Model>).findAll({ paranoid: false })) rows.set((r as Account).id, plain(r));
  }

  const paths: [string, () => Promise<unknown>][] = [
    ['Model.update', () => Account.update({ status: pick(['a', 'b', 'c']) }, { where: { id: someKeys(5) } })],
    [
      'Model.update expression',
      () =>
        Account.update({ balance: literal('balance + 1') }, { where: { id: { [Op.between]: [someKeys(1)[0]!, someKeys(1)[0]! + 5] } } }),
    ],
    ['increment', () => Account.increment('balance', { where: { id: someKeys(4) } })],
    ['decrement', () => Account.decrement('balance', { by: 2, where: { id: someKeys(4) } })],
    [
      'instance.update',
      async () => {
        const a = await Account.findByPk(someKeys(1)[0]);
        await a?.update({ balance: Math.floor(Math.random() * 1000) });
      },
    ],
    [
      'instance.increment',
      async () => {
        const a = await Account.findByPk(someKeys(1)[0]);
        await a?.increment('balance');
      },
    ],
    [
      'bulkUpdate',
      async () => {
        const rows = await Account.findAll({ where: { id: someKeys(4) } });
        rows.forEach((r) => {
          r.balance += 3;
        });
        await bulkUpdate(Account, rows);
      },
    ],
    ['destroy', () => Account.destroy({ where: { id: someKeys(1) } })],
    [
      'instance.destroy',
      async () => {
        const a = await Account.findByPk(someKeys(1)[0]);
        await a?.destroy();
      },
    ],
    ['bulkDestroy', () => bulkDestroy(Account, someKeys(2))],
    [
      'bulkCreate ignoreDuplicates',
      () =>
        Account.bulkCreate(
          someKeys(3).map((id) => ({ id, balance: 7 })),
          { ignoreDuplicates: true },
        ),
    ],
    // Rows in key order: an INSERT … ON CONFLICT DO UPDATE takes its row locks in VALUES order, and two of them
    // in opposite orders deadlock (in Sequelize alone too).
    [
      'bulkCreate updateOnDuplicate',
      () =>
        Account.bulkCreate(
          [...new Set(someKeys(3))].sort((a, b) => a - b).map((id) => ({ id, balance: 9 })),
          { updateOnDuplicate: ['balance'] },
        ),
    ],
    ['upsert', () => Account.upsert({ id: someKeys(1)[0]!, balance: 11, status: 'u' })],
    ['create', () => Account.create({ id: someKeys(1)[0]!, balance: 1 })],
    ['soft destroy', () => Ledger.destroy({ where: { id: someKeys(3) } })],
    ['restore', () => Ledger.restore({ where: { id: someKeys(3) } })],
    ['Ledger.update', () => Ledger.update({ amount: literal('amount * 2 % 1000') }, { where: { id: someKeys(4) } })],
    [
      'instance.restore',
      async () => {
        const l = await Ledger.findByPk(someKeys(1)[0], { paranoid: false });
        if (l?.deletedAt) await l.restore();
      },
    ],
  ];

  const only = process.env.SOAK_PATHS?.split(',');
  if (only) paths.splice(0, paths.length, ...paths.filter(([name]) => only.includes(name)));
  const errors = new Map<string, number>();
  const until = Date.now() + SECONDS * 1000;
  const killer = setInterval(() => {
    void admin
      .query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()
      AND pid <> pg_backend_pid() AND state = 'idle in transaction' ORDER BY random() LIMIT 1`,
        { type: QueryTypes.SELECT },
      )
      .then(
        (r) => {
          stats.killed += r.length;
        },
        () => undefined,
      );
  }, KILL_MS);
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (Date.now() < until) {
        const [name, run] = pick(paths);
        stats.ops++;
        try {
          await run();
        } catch (error) {
          stats.failed++;
          const kind = `${name}: ${(error as Error).name}`;
          errors.set(kind, (errors.get(kind) ?? 0) + 1);
        }
      }
    }),
  );
  clearInterval(killer);
  await new Promise((resolve) => setTimeout(resolve, 200));

  for (const model of [Account, Ledger] as ModelStatic<Model>[]) {
    const table = new Map((await model.findAll({ paranoid: false })).map((r) => [(r as Account).id, plain(r)]));
    const rows = replica.get(model.name)!;
    for (const id of new Set([...table.keys(), ...rows.keys()])) {
      const known = rows.get(id);
      const actual = table.get(id);
      const soft = known?.deletedAt === '?';
      if (soft ? comparable({ ...actual, deletedAt: '?' }) !== comparable(known) : comparable(actual) !== comparable(known)) {
        mismatch(`${model.name} id ${id} at the end: table ${comparable(actual)} but replica ${comparable(known)}`);
      }
    }
  }
  await sequelize.close();
  await admin.close();
  if (db) await db.stop();
  console.log(
    `soak: ${SECONDS}s, ${CLIENTS} clients, ${stats.ops} operations (${stats.failed} failed: ${[...errors].map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}), ` +
      `${stats.killed} backends killed, ${stats.signals} on-commit signals over ${stats.rows} rows, ${mismatches.length} mismatches`,
  );
  process.exit(mismatches.length > 0 ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

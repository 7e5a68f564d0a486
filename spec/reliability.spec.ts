import { expect } from 'chai';
import { QueryTypes, Transaction, literal } from 'sequelize';
import { bulkSignals, bulkUpdate, type Signal } from '../lib';
import { perDialect, resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';
import { collectConsoleWarnings, random, rejection } from './support/helpers';

describe('reliability', () => {
  const db = useDatabase('rel', defineModels, { pool: { max: 20, min: 0, idle: 1000, acquire: 60000 } });
  const receivers = new Receivers();

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(
      Array.from({ length: 20 }, (_, i) => ({ name: `r${i + 1}`, balance: 0, note: `r${i + 1}` })),
      { bypassSignals: true },
    );
  });
  afterEach(() => receivers.clear());

  /** Sessions left inside a transaction (SQLite: whether the database is still write-locked). */
  async function idleInTransaction(): Promise<number> {
    const sql = perDialect({
      postgres: `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`,
      others: 'SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX',
      sqlite: '',
    });
    if (!sql) {
      // Nothing holds the database's write lock any more: an IMMEDIATE transaction takes it at once.
      await db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, () => Promise.resolve());
      return 0;
    }
    const [row] = (await db.sequelize.query(sql, { type: QueryTypes.SELECT })) as [{ n: number | string }];
    return Number(row.n);
  }

  /** The server session of a transaction's connection, and a way to kill it from another. */
  const backend = perDialect<{ pid: string; kill: string } | undefined>({
    postgres: { pid: 'SELECT pg_backend_pid() AS pid', kill: 'SELECT pg_terminate_backend(:pid)' },
    others: { pid: 'SELECT CONNECTION_ID() AS pid', kill: 'KILL :pid' },
    sqlite: undefined,
  });

  function pool(): { using: number; waiting: number } {
    const p = (db.sequelize as unknown as { connectionManager: { pool: { using: number; waiting: number } } }).connectionManager.pool;
    return { using: p.using, waiting: p.waiting };
  }

  (backend ? it : it.skip)(
    'a backend killed between the locked read and the write: nothing written, no after signal, the caller gets an error, the pool recovers',
    async () => {
      let afterSignals = 0;
      receivers.add(
        bulkSignals.on(Account, 'beforeUpdate', async ({ transaction }) => {
          const session = backend!;
          const [{ pid }] = (await db.sequelize.query(session.pid, { type: QueryTypes.SELECT, transaction })) as [{ pid: number }];
          await db.sequelize.query(session.kill, {
            replacements: { pid },
            type: QueryTypes.RAW,
            transaction: null,
          });
        }),
      );
      receivers.add(
        bulkSignals.on(Account, 'afterUpdate', () => {
          afterSignals++;
        }),
      );
      const { result: error } = await collectConsoleWarnings(() => rejection(Account.update({ balance: 100 }, { where: {} })));
      expect(error, 'the caller gets an error').to.be.instanceOf(Error);
      expect(afterSignals).to.equal(0);
      expect(await Account.sum('balance', { where: {} })).to.equal(0, 'nothing written');
      receivers.clear();
      await Account.update({ balance: 1 }, { where: { id: 1 } });
      expect((await Account.findByPk(1))!.balance).to.equal(1, 'the pool recovered');
      expect(pool().using).to.equal(0);
    },
  );

  it('600 operations whose receivers throw leave no connection checked out and no session idle in transaction', async function () {
    this.timeout(120000);
    const failure = new Error('receiver failed');
    for (const event of ['beforeCreate', 'afterCreate', 'beforeUpdate', 'afterUpdate', 'beforeDelete', 'afterDelete'] as const) {
      receivers.add(
        bulkSignals.on(Account, event, () => {
          throw failure;
        }),
      );
    }
    const rnd = random(7);
    const ops = [
      () => Account.update({ balance: literal('balance + 1') }, { where: { id: 1 + Math.floor(rnd() * 20) } }),
      () => Account.increment('balance', { where: {} }),
      () => Account.destroy({ where: { id: 1 + Math.floor(rnd() * 20) } }),
      () => Account.bulkCreate([{ name: 'x' }]),
      () => Account.create({ name: 'y' }),
      async () => {
        const a = (await Account.findByPk(1 + Math.floor(rnd() * 20)))!;
        a.balance = 5;
        await a.save();
      },
      async () => {
        const rows = await Account.findAll({ limit: 5 });
        rows.forEach((r) => {
          r.balance = 9;
        });
        await bulkUpdate(Account, rows);
      },
      () => Account.upsert({ id: 1, name: 'z' }),
    ];
    let rejected = 0;
    for (let batch = 0; batch < 30; batch++) {
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => ops[Math.floor(rnd() * ops.length)]!()));
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(r.reason).to.equal(failure);
          rejected++;
        }
      }
    }
    expect(rejected).to.equal(600);
    expect(pool()).to.deep.equal({ using: 0, waiting: 0 });
    expect(await idleInTransaction()).to.equal(0);
    expect(await Account.count()).to.equal(20, 'every write rolled back');
    expect(await Account.sum('balance')).to.equal(0);
  });

  it("64 concurrent writers on overlapping rows in different orders: no deadlock, and each row's old→new history is one exact chain", async function () {
    this.timeout(180000);
    const history = new Map<number, [string, string | null][]>();
    const state = (a: Account) => `${a.note}#${a.balance}`;
    const record = ({ oldRecords, newRecords }: Signal<Account>) => {
      oldRecords.forEach((old, i) => {
        const next = newRecords[i];
        (history.get(old.id) ?? history.set(old.id, []).get(old.id)!).push([state(old), next ? state(next) : null]);
      });
    };
    receivers.add(bulkSignals.on(Account, 'afterUpdate', record));
    receivers.add(bulkSignals.on(Account, 'afterDelete', record));
    const rnd = random(42);
    const subset = () => {
      const ids = Array.from({ length: 20 }, (_, i) => i + 1).filter(() => rnd() < 0.35);
      return ids.sort(() => rnd() - 0.5);
    };
    let token = 0;
    const writer = async (w: number) => {
      for (let step = 0; step < 6; step++) {
        const ids = subset();
        const kind = Math.floor(rnd() * 5);
        const t = `|${w}.${step}.${token++}`;
        // Every write moves a row to a state it never had: a fresh note token, or a higher balance.
        if (kind === 0) await Account.update({ note: t }, { where: { id: ids } });
        else if (kind === 1) await Account.increment('balance', { by: 1, where: { id: ids } });
        else if (kind === 2) await Account.decrement('balance', { by: -2, where: { id: ids } });
        else if (kind === 3) {
          const rows = await Account.findAll({ where: { id: ids } });
          const ordered = ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is Account => Boolean(r));
          ordered.forEach((r) => {
            r.note = t;
          });
          await bulkUpdate(Account, ordered);
        } else if (rnd() < 0.15) await Account.destroy({ where: { id: ids.slice(0, 1) } });
        else await Account.update({ note: literal(`'${t}'`), balance: literal('balance + 3') }, { where: { id: ids.reverse() } });
      }
    };
    // Both strategies: after receivers only (one statement on PostgreSQL 18), then with a before receiver too.
    await Promise.all(Array.from({ length: 64 }, (_, w) => writer(w)));
    receivers.add(bulkSignals.on(Account, 'beforeUpdate', () => undefined));
    await Promise.all(Array.from({ length: 64 }, (_, w) => writer(100 + w)));

    const finals = new Map((await Account.findAll()).map((a) => [a.id, state(a)]));
    for (let id = 1; id <= 20; id++) {
      const pairs = history.get(id) ?? [];
      const byOld = new Map<string, string | null>();
      for (const [old, next] of pairs) {
        expect(byOld.has(old), `row ${id}: two writes replaced the same state ${old}`).to.equal(false);
        byOld.set(old, next);
      }
      let cursor: string | null = `r${id}#0`;
      let steps = 0;
      while (cursor !== null && byOld.has(cursor)) {
        cursor = byOld.get(cursor)!;
        steps++;
      }
      expect(steps, `row ${id}: the chain covers every signalled write`).to.equal(pairs.length);
      expect(cursor, `row ${id}: the chain ends where the table is`).to.equal(finals.get(id) ?? null);
    }
    expect(pool().using).to.equal(0);
  });
});

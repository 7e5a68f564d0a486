import { expect } from 'chai';
import { literal } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { onDialect, resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';
import { rejection } from './support/helpers';

describe('transactions', () => {
  const db = useDatabase('trx', defineModels, { pool: { max: 45, min: 0, idle: 1000 } });
  const receivers = new Receivers();

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 10 },
        { name: 'b', balance: 20 },
      ],
      { bypassSignals: true },
    );
  });
  afterEach(() => receivers.clear());

  it("delivers the caller's transaction to every phase, and the write stays uncommitted until the caller commits", async () => {
    const seen: unknown[] = [];
    for (const event of ['validateUpdate', 'beforeUpdate', 'afterUpdate'] as const) {
      receivers.add(
        bulkSignals.on(Account, event, ({ transaction }) => {
          seen.push(transaction);
        }),
      );
    }
    const t = await db.sequelize.transaction();
    try {
      await Account.update({ balance: 0 }, { where: {}, transaction: t });
      expect(seen).to.deep.equal([t, t, t]);
      expect(await Account.sum('balance')).to.equal(30, 'outside the transaction nothing changed yet');
      await t.rollback();
    } catch (e) {
      await t.rollback().catch(() => undefined);
      throw e;
    }
    expect(await Account.sum('balance')).to.equal(30);
  });

  it("opens a transaction when the caller has none: receivers' own writes commit with it", async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', async ({ transaction, newRecords }) => {
        expect(transaction).to.not.equal(null);
        await Account.create({ name: `log ${newRecords.length}` }, { transaction, bypassSignals: true });
      }),
    );
    await Account.update({ status: 'x' }, { where: {} });
    expect((await Account.findAll({ order: [['id', 'ASC']] })).map((a) => a.name)).to.deep.equal(['a', 'b', 'log 2']);
  });

  for (const [path, run] of [
    ['Model.update', () => Account.update({ balance: 0 }, { where: {} })],
    ['Model.increment', () => Account.increment('balance', { where: {} })],
    ['Model.destroy', () => Account.destroy({ where: {} })],
    ['Model.bulkCreate', () => Account.bulkCreate([{ name: 'c' }])],
    ['Model.create', () => Account.create({ name: 'c' })],
    [
      'instance.save',
      async () => {
        const a = (await Account.findByPk(1))!;
        a.balance = 0;
        await a.save();
      },
    ],
    [
      'instance.destroy',
      async () => {
        await (await Account.findByPk(1))!.destroy();
      },
    ],
  ] as const) {
    it(`${path}: an after receiver that throws rolls the write back and the caller gets its error`, async () => {
      const failure = new Error('after receiver failed');
      let receiverWrote = false;
      for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
        receivers.add(
          bulkSignals.on(Account, event, async ({ transaction }) => {
            await Account.update({ note: 'side effect' }, { where: {}, transaction, bypassSignals: true });
            receiverWrote = true;
            throw failure;
          }),
        );
      }
      expect(await rejection(run())).to.equal(failure);
      expect(receiverWrote).to.equal(true);
      const rows = await Account.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.name, r.balance, r.note])).to.deep.equal([
        ['a', 10, null],
        ['b', 20, null],
      ]);
    });
  }

  it("leaves the caller's transaction to the caller when an after receiver throws", async () => {
    const failure = new Error('nope');
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', () => {
        throw failure;
      }),
    );
    const t = await db.sequelize.transaction();
    expect(await rejection(Account.update({ balance: 1 }, { where: {}, transaction: t }))).to.equal(failure);
    expect((t as unknown as { finished?: string }).finished).to.equal(undefined, 'not committed or rolled back for the caller');
    await t.rollback();
    expect(await Account.sum('balance')).to.equal(30);
  });

  it('40 concurrent expression updates of one row: every old value is the previous new value', async function () {
    this.timeout(120000);
    const pairs: [number, number][] = [];
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', ({ oldRecords, newRecords }: Signal<Account>) => {
        pairs.push([oldRecords[0]!.balance, newRecords[0]!.balance]);
      }),
    );
    await Promise.all(Array.from({ length: 40 }, () => Account.update({ balance: literal('balance + 1') }, { where: { id: 1 } })));
    expect(pairs).to.have.length(40);
    const sorted = [...pairs].sort((x, y) => x[0] - y[0]);
    expect(sorted).to.deep.equal(Array.from({ length: 40 }, (_, i) => [10 + i, 11 + i]));
    expect((await Account.findByPk(1))!.balance).to.equal(50);
  });
});

/**
 * PostgreSQL: the library's own transactions send START TRANSACTION with their first statement (one round trip
 * less); every statement Sequelize's logging shows is what was sent.
 */
(onDialect('postgres') ? describe : describe.skip)('the BEGIN of the library’s own transactions (PostgreSQL)', () => {
  const lines: string[] = [];
  const db = useDatabase('trb', defineModels, {
    logging: (sql: string) => {
      lines.push(sql.replace(/^Executing \([^)]*\):\s*/, ''));
    },
  });
  const receivers = new Receivers();
  const sent = async (fn: () => Promise<unknown>) => {
    lines.length = 0;
    await fn();
    return [...lines];
  };

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate([{ name: 'a', balance: 1 }], { bypassSignals: true });
  });
  afterEach(() => receivers.clear());

  it('rides with the locked read: one round trip less', async () => {
    receivers.add(bulkSignals.on(Account, 'beforeUpdate', () => undefined));
    const statements = await sent(() => Account.update({ balance: 2 }, { where: {} }));
    expect(statements.map((s) => s.slice(0, 26))).to.deep.equal(['START TRANSACTION; SELECT ', 'UPDATE "trb_accounts" SET ', 'COMMIT;']);
  });

  it('goes on its own before a first statement with bind parameters, and statements sent at once keep their order', async () => {
    receivers.add(bulkSignals.on(Account, 'afterCreate', () => undefined));
    const statements = await sent(() => Account.bulkCreate([{ name: 'x' }, { name: 'y' }], { individualHooks: true }));
    expect(statements.map((s) => s.slice(0, 17))).to.deep.equal(['START TRANSACTION', 'INSERT INTO "trb_', 'INSERT INTO "trb_', 'COMMIT;']);
    expect((await Account.findAll({ order: [['id', 'ASC']] })).map((a) => a.name)).to.deep.equal(['a', 'x', 'y']);
  });

  it('a veto after the BEGIN went out rolls back; the caller’s own transactions begin as Sequelize begins them', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', () => {
        throw new Error('veto');
      }),
    );
    const vetoed = await sent(() => Account.update({ balance: 5 }, { where: {} }).catch(() => undefined));
    expect(vetoed.map((s) => s.slice(0, 19))).to.deep.equal(['START TRANSACTION; ', 'ROLLBACK;']);
    receivers.clear();
    const own = await sent(() => db.sequelize.transaction((transaction) => Account.update({ balance: 6 }, { where: {}, transaction })));
    expect(own[0]).to.equal('START TRANSACTION;');
    expect(await Account.sum('balance')).to.equal(6);
  });
});

import { expect } from 'chai';
import { literal } from 'sequelize';
import { InvalidInputError, bulkSignals, type Signal } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';

describe('chunked where-writes (chunkSize)', () => {
  const db = useDatabase('chk', defineModels);
  const receivers = new Receivers();
  let chunks: { event: string; ids: number[] }[];

  beforeEach(async () => {
    chunks = [];
    await resetTables(Account);
    await Account.bulkCreate(
      Array.from({ length: 1000 }, (_, i) => ({ name: `n${i}`, balance: i })),
      { bypassSignals: true },
    );
    for (const event of ['beforeUpdate', 'afterUpdate', 'beforeDelete', 'afterDelete'] as const) {
      receivers.add(
        bulkSignals.on(Account, event, (s: Signal<Account>) => {
          chunks.push({ event, ids: (s.newRecords.length ? s.newRecords : s.oldRecords).map((r) => r.id) });
        }),
      );
    }
  });
  afterEach(() => receivers.clear());

  it('Model.update reads, signals and writes at most chunkSize rows at a time, in primary-key order, in one transaction', async () => {
    const transactions = new Set<unknown>();
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', ({ transaction }) => {
        transactions.add(transaction);
      }),
    );
    const { result, count } = await db.log.count(() =>
      Account.update({ balance: literal('balance + 1') }, { where: {}, chunkSize: 300, returning: true }),
    );
    // What Sequelize returns for returning: true — rows on PostgreSQL; elsewhere [undefined, affected rows].
    if (onDialect('postgres')) {
      expect(result[0]).to.equal(1000);
      expect(result[1]).to.have.length(1000);
    } else expect(result).to.deep.equal([undefined, 1000]);
    expect(count).to.equal(perDialect({ postgres: 8, others: 12 }), '4 chunks × (locked read + write, + read by key without RETURNING)');
    expect(chunks.map((c) => [c.event, c.ids.length])).to.deep.equal([
      ['beforeUpdate', 300],
      ['afterUpdate', 300],
      ['beforeUpdate', 300],
      ['afterUpdate', 300],
      ['beforeUpdate', 300],
      ['afterUpdate', 300],
      ['beforeUpdate', 100],
      ['afterUpdate', 100],
    ]);
    expect(chunks.filter((c) => c.event === 'afterUpdate').flatMap((c) => c.ids)).to.deep.equal(
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    expect(transactions.size).to.equal(1);
    expect(await Account.sum('balance')).to.equal((999 * 1000) / 2 + 1000);
  });

  it('a receiver that throws in a later chunk rolls back the earlier chunks too', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
        if (newRecords.some((r) => r.id > 800)) throw new Error('stop at the last chunk');
      }),
    );
    let error: unknown;
    try {
      await Account.update({ balance: 0 }, { where: {}, chunkSize: 250 });
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property('message', 'stop at the last chunk');
    expect(await Account.sum('balance')).to.equal((999 * 1000) / 2);
  });

  it('Model.destroy chunks the same way and returns the total', async () => {
    const deleted = await Account.destroy({ where: {}, chunkSize: 400 });
    expect(deleted).to.equal(1000);
    expect(chunks.map((c) => [c.event, c.ids.length])).to.deep.equal([
      ['beforeDelete', 400],
      ['afterDelete', 400],
      ['beforeDelete', 400],
      ['afterDelete', 400],
      ['beforeDelete', 200],
      ['afterDelete', 200],
    ]);
    expect(await Account.count()).to.equal(0);
  });

  it('rejects a chunkSize that is not a positive integer, writing nothing', async () => {
    let error: unknown;
    try {
      await Account.update({ balance: 0 }, { where: {}, chunkSize: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InvalidInputError);
    expect((error as Error).message).to.match(/chunkSize must be a positive integer, got 0/);
    expect(await Account.sum('balance')).to.equal((999 * 1000) / 2);
  });
});

import { expect } from 'chai';
import { literal } from 'sequelize';
import { RecursionLimitError, bulkSignals, installBulkSignals } from '../lib';
import { connect, resetTables, useDatabase } from './support/database';
import { Account, Ledger, defineModels } from './support/models';
import { Receivers } from './support/recorder';

describe('recursion guard', () => {
  useDatabase('rec', defineModels);
  const receivers = new Receivers();

  beforeEach(async () => {
    await resetTables(Account);
    await resetTables(Ledger);
    await Account.bulkCreate([{ name: 'a', balance: 0 }], { bypassSignals: true });
  });
  afterEach(() => receivers.clear());

  it('nested signals flow as usual below the limit', async () => {
    const depths: number[] = [];
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', async ({ newRecords, transaction }) => {
        const balance = (newRecords[0] as Account).balance;
        depths.push(balance);
        if (balance < 3) await Account.update({ balance: literal('balance + 1') }, { where: { id: 1 }, transaction });
      }),
    );
    await Account.update({ balance: 1 }, { where: { id: 1 } });
    expect(depths).to.deep.equal([1, 2, 3]);
    expect((await Account.findByPk(1))!.balance).to.equal(3);
  });

  it('a receiver chain deeper than maxDepth throws a typed error naming the chain, and the outer write rolls back', async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', async ({ transaction }) => {
        await Ledger.create({ label: 'echo', amount: 1 }, { transaction });
      }),
    );
    receivers.add(
      bulkSignals.on(Ledger, 'afterCreate', async ({ transaction }) => {
        await Account.update({ balance: literal('balance + 1') }, { where: { id: 1 }, transaction });
      }),
    );
    let error: unknown;
    try {
      await Account.update({ balance: 1 }, { where: { id: 1 } });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(RecursionLimitError);
    const { chain } = error as RecursionLimitError;
    expect(chain).to.have.length(9);
    expect(chain.slice(0, 4)).to.deep.equal(['Account.afterUpdate', 'Ledger.afterCreate', 'Account.afterUpdate', 'Ledger.afterCreate']);
    expect((error as Error).message).to.match(/maxDepth 8: Account\.afterUpdate → Ledger\.afterCreate → /);
    expect((await Account.findByPk(1))!.balance).to.equal(0, 'rolled back');
    expect(await Ledger.count()).to.equal(0);
  });

  it('maxDepth is configurable per Sequelize instance and checked at install', async () => {
    const shallow = connect({}, { warnOnMultipleReceivers: false, maxDepth: 1 });
    try {
      const unused = connect({}, false).sequelize;
      expect(() => installBulkSignals(unused, { maxDepth: 0 })).to.throw(/maxDepth must be a positive integer, got 0/);
      expect(() => installBulkSignals(unused, { maxDepth: 1.5 })).to.throw(/maxDepth must be a positive integer, got 1.5/);
      await unused.close();
      const Shallow = shallow.sequelize.define(
        'ShallowAccount',
        { ...Account.getAttributes() },
        { tableName: 'rec_accounts', underscored: true },
      );
      receivers.add(
        bulkSignals.on(Shallow, 'afterUpdate', async ({ transaction }) => {
          await Shallow.update({ status: 'nested' }, { where: { id: 1 }, transaction });
        }),
      );
      let error: unknown;
      try {
        await Shallow.update({ status: 'outer' }, { where: { id: 1 } });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(RecursionLimitError);
      expect((error as RecursionLimitError).chain).to.deep.equal(['ShallowAccount.afterUpdate', 'ShallowAccount.afterUpdate']);
      expect((await Account.findByPk(1))!.status).to.equal('open');
    } finally {
      await shallow.sequelize.close();
    }
  });
});

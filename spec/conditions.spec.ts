import { expect } from 'chai';
import { Op } from 'sequelize';
import { InvalidReceiverError, and, bulkSignals, changed, changedFrom, changedTo, isEqual, not, or, type Signal } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';

describe('receiver conditions', () => {
  useDatabase('cnd', defineModels);
  const receivers = new Receivers();
  let got: { ids: number[]; old: unknown[]; new: unknown[]; changedFields: string[] }[];
  const record = (field: 'balance' | 'status') => (s: Signal<Account>) => {
    got.push({
      ids: (s.newRecords.length ? s.newRecords : s.oldRecords).map((r) => r.id),
      old: s.oldRecords.map((r) => r[field]),
      new: s.newRecords.map((r) => r[field]),
      changedFields: [...s.changedFields].sort(),
    });
  };

  beforeEach(async () => {
    got = [];
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 10, status: 'open' },
        { name: 'b', balance: 20, status: 'open' },
        { name: 'c', balance: 30, status: 'closed' },
        { name: 'd', balance: 40, status: 'open' },
      ],
      { bypassSignals: true },
    );
  });
  afterEach(() => receivers.clear());

  it('changed(field): only the pairs where the field changed, still paired; no call when none match', async () => {
    receivers.add(bulkSignals.on(Account, 'afterUpdate', record('status'), { when: changed('status') }));
    await Account.update({ status: 'open' }, { where: {} }); // only row 3 really changes
    await Account.update({ note: 'n' }, { where: {} }); // status unchanged everywhere: no call
    expect(got).to.deep.equal([{ ids: [3], old: ['closed'], new: ['open'], changedFields: ['status', 'updatedAt'] }]);
  });

  it('changedTo, changedFrom and isEqual', async () => {
    receivers.add(bulkSignals.on(Account, 'afterUpdate', record('status'), { when: changedTo('status', 'frozen') }));
    receivers.add(bulkSignals.on(Account, 'afterUpdate', record('status'), { when: changedFrom('status', 'closed') }));
    receivers.add(bulkSignals.on(Account, 'afterUpdate', record('status'), { when: isEqual('status', 'open') }));
    await Account.update({ status: 'frozen' }, { where: { id: [1, 3] } });
    expect(got).to.deep.equal([
      { ids: [1, 3], old: ['open', 'closed'], new: ['frozen', 'frozen'], changedFields: ['status', 'updatedAt'] },
      { ids: [3], old: ['closed'], new: ['frozen'], changedFields: ['status', 'updatedAt'] },
    ]);
  });

  it('and, or, not combine conditions', async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', record('balance'), {
        when: and(changed('balance'), not(isEqual('status', 'closed'))),
      }),
    );
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', record('balance'), {
        when: or(changedTo('balance', 11), changedFrom('balance', 40)),
      }),
    );
    await Account.increment('balance', { where: { id: { [Op.in]: [1, 3, 4] } } });
    expect(got).to.deep.equal([
      { ids: [1, 4], old: [10, 40], new: [11, 41], changedFields: ['balance', 'updatedAt'] },
      { ids: [1, 4], old: [10, 40], new: [11, 41], changedFields: ['balance', 'updatedAt'] },
    ]);
  });

  it('works on create and delete events: a missing side reads as NULL', async () => {
    receivers.add(bulkSignals.on(Account, 'afterCreate', record('status'), { when: isEqual('status', 'vip') }));
    receivers.add(bulkSignals.on(Account, 'afterDelete', record('status'), { when: changedFrom('status', 'closed') }));
    await Account.bulkCreate([{ name: 'e', status: 'vip' }, { name: 'f' }]);
    await Account.destroy({ where: { id: [2, 3] } });
    expect(got).to.deep.equal([
      { ids: [5], old: [], new: ['vip'], changedFields: ['balance', 'createdAt', 'id', 'name', 'status', 'updatedAt'] },
      { ids: [3], old: ['closed'], new: [], changedFields: [] },
    ]);
  });

  it('before receivers with a condition edit only their rows, and the edits are written', async () => {
    receivers.add(
      bulkSignals.on(
        Account,
        'beforeUpdate',
        ({ newRecords }) => {
          for (const r of newRecords) r.note = 'was closed';
        },
        { when: changedFrom('status', 'closed') },
      ),
    );
    await Account.update({ status: 'open' }, { where: {} });
    expect((await Account.findAll({ order: [['id', 'ASC']] })).map((r) => r.note)).to.deep.equal([null, null, 'was closed', null]);
  });

  it('rejects conditions that are not conditions or read unknown fields', () => {
    expect(() => bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: (() => true) as never })).to.throw(
      InvalidReceiverError,
      /when must be a condition built with changed\(\)/,
    );
    expect(() => bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: changed('balanse') as never })).to.throw(
      InvalidReceiverError,
      /the condition reads balanse, which Account does not have/,
    );
  });
});

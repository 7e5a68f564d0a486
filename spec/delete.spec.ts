import { expect } from 'chai';
import { Op } from 'sequelize';
import { bulkSignals } from '../lib';
import { perDialect, resetTables, useDatabase } from './support/database';
import { Account, Ledger, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

const FIELDS = ['id', 'name', 'balance'];

describe('delete events', () => {
  const db = useDatabase('del', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'c', balance: 3 },
        { name: 'a', balance: 1 },
        { name: 'b', balance: 2 },
      ],
      { bypassSignals: true },
    );
    recorder = new Recorder([Account, Ledger]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  it('instance.destroy() delivers the row as it was, and no new records', async () => {
    const account = (await Account.findByPk(2))!;
    account.balance = 99; // unsaved: the old row is what the database held
    await account.destroy();
    const old = [{ id: 2, name: 'a', balance: 1 }];
    expect(recorder.summary(FIELDS)).to.deep.equal(
      ['validateDelete', 'beforeDelete', 'afterDelete'].map((event) => ({
        event,
        model: 'Account',
        operation: 'destroy',
        via: 'instance',
        soft: false,
        newRecords: [],
        oldRecords: old,
        changedFields: [],
      })),
    );
    expect(await Account.count()).to.equal(2);
    expect(new Set(recorder.transactions).size).to.equal(1);
  });

  it('Model.destroy({ where }) delivers every matched row in primary-key order, in two statements', async () => {
    const { count, result } = await db.log.count(() => Account.destroy({ where: { balance: { [Op.gte]: 2 } } }));
    expect(result).to.equal(2);
    expect(count).to.equal(2);
    const old = [
      { id: 1, name: 'c', balance: 3 },
      { id: 3, name: 'b', balance: 2 },
    ];
    expect(recorder.summary(FIELDS)).to.deep.equal(
      ['validateDelete', 'beforeDelete', 'afterDelete'].map((event) => ({
        event,
        model: 'Account',
        operation: 'destroy',
        via: 'model',
        soft: false,
        newRecords: [],
        oldRecords: old,
        changedFields: [],
      })),
    );
    expect((await Account.findAll()).map((a) => a.id)).to.deep.equal([2]);
  });

  it('a before-delete receiver that throws leaves every row in place', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeDelete', ({ oldRecords }) => {
        if (oldRecords.length > 1) throw new Error('bulk deletes need approval');
      }),
    );
    let error: unknown;
    try {
      await Account.destroy({ where: {} });
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property('message', 'bulk deletes need approval');
    expect(await Account.count()).to.equal(3);
    expect(recorder.events()).to.deep.equal(['validateDelete', 'beforeDelete']);
  });

  describe('paranoid models', () => {
    beforeEach(async () => {
      await resetTables(Ledger);
      await Ledger.bulkCreate(
        [
          { label: 'x', amount: 1 },
          { label: 'y', amount: 2 },
          { label: 'z', amount: 3 },
        ],
        { bypassSignals: true },
      );
      recorder.clear();
    });

    it('a soft instance.destroy() is a delete, not an update, and says it was soft', async () => {
      const row = (await Ledger.findByPk(1))!;
      await row.destroy();
      expect(recorder.summary(['id', 'amount']).map((s) => [s.event, s.soft, s.oldRecords])).to.deep.equal([
        ['validateDelete', true, [{ id: 1, amount: 1 }]],
        ['beforeDelete', true, [{ id: 1, amount: 1 }]],
        ['afterDelete', true, [{ id: 1, amount: 1 }]],
      ]);
      expect(await Ledger.count()).to.equal(2);
      expect(await Ledger.count({ paranoid: false })).to.equal(3);
    });

    it('Model.restore is an update of every row its statement writes: deletedAt back to null', async () => {
      await Ledger.destroy({ where: { id: [1, 3] }, bypassSignals: true });
      const before = await Ledger.findAll({ paranoid: false, order: [['id', 'ASC']] });
      const { count, result: restored } = await db.log.count(() => Ledger.restore({ where: {} }));
      // Sequelize's restore sets deletedAt on every row its where matches, deleted or not, and counts them all —
      // except on MariaDB, which reports the rows changed (Sequelize's own result either way).
      expect(restored).to.equal(perDialect({ postgres: 3, sqlite: 3, others: 2 }));
      expect(count).to.equal(
        perDialect({ postgres: 2, others: 3 }),
        'one locked read, one UPDATE (+ the rows read by key without RETURNING)',
      );
      expect(
        recorder.summary(['id', 'deletedAt']).map((s) => [s.event, s.operation, s.via, s.oldRecords, s.newRecords, s.changedFields]),
      ).to.deep.equal(
        ['validateUpdate', 'beforeUpdate', 'afterUpdate'].map((event) => [
          event,
          'restore',
          'model',
          [
            { id: 1, deletedAt: before[0]!.deletedAt },
            { id: 2, deletedAt: null },
            { id: 3, deletedAt: before[2]!.deletedAt },
          ],
          [
            { id: 1, deletedAt: null },
            { id: 2, deletedAt: null },
            { id: 3, deletedAt: null },
          ],
          ['deletedAt'],
        ]),
      );
      expect(await Ledger.count()).to.equal(3);
    });

    it('instance.restore() is an update: deletedAt back to null', async () => {
      await Ledger.destroy({ where: { id: 2 }, bypassSignals: true });
      const row = (await Ledger.findByPk(2, { paranoid: false }))!;
      const deletedAt = row.deletedAt;
      await row.restore();
      const signals = recorder.summary(['id', 'deletedAt']);
      expect(signals.map((s) => [s.event, s.operation, s.via, s.oldRecords, s.newRecords, s.changedFields])).to.deep.equal(
        ['validateUpdate', 'beforeUpdate', 'afterUpdate'].map((event) => [
          event,
          'restore',
          'instance',
          [{ id: 2, deletedAt }],
          [{ id: 2, deletedAt: null }],
          ['deletedAt'],
        ]),
      );
      expect(await Ledger.count()).to.equal(3);
    });

    it('Model.destroy skips rows already soft-deleted, and force: true signals them too, as hard', async () => {
      const afterDeletes = () =>
        recorder
          .summary(['id'])
          .filter((s) => s.event === 'afterDelete')
          .map((s) => [s.soft, s.oldRecords]);
      await Ledger.destroy({ where: { id: 1 } });
      expect(afterDeletes()).to.deep.equal([[true, [{ id: 1 }]]]);
      recorder.clear();
      await Ledger.destroy({ where: {} });
      expect(afterDeletes()).to.deep.equal([[true, [{ id: 2 }, { id: 3 }]]]);
      recorder.clear();
      await Ledger.destroy({ where: {}, force: true });
      expect(afterDeletes()).to.deep.equal([[false, [{ id: 1 }, { id: 2 }, { id: 3 }]]]);
      expect(await Ledger.count({ paranoid: false })).to.equal(0);
    });
  });

  it('truncate delivers delete events for every row', async () => {
    const { count } = await db.log.count(() => Account.truncate());
    // PostgreSQL: LOCK TABLE, so no row can be added between the read and the truncate. MariaDB/MySQL: the locked
    // read's next-key locks do the same; SQLite: the call holds the database's write lock.
    expect(count).to.equal(perDialect({ postgres: 3, others: 2 }), 'LOCK TABLE (PostgreSQL), the read, the TRUNCATE');
    expect(recorder.summary(['id']).map((s) => [s.event, s.operation, s.via, s.soft, s.oldRecords])).to.deep.equal(
      ['validateDelete', 'beforeDelete', 'afterDelete'].map((e) => [e, 'truncate', 'model', false, [{ id: 1 }, { id: 2 }, { id: 3 }]]),
    );
    expect(await Account.count()).to.equal(0);
  });

  it('destroy({ truncate: true }) is the same', async () => {
    await Account.destroy({ truncate: true });
    expect(
      recorder
        .summary(['id'])
        .filter((s) => s.event === 'afterDelete')
        .map((s) => s.oldRecords),
    ).to.deep.equal([[{ id: 1 }, { id: 2 }, { id: 3 }]]);
  });
});

import { expect } from 'chai';
import { literal, Op, Transaction } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { onDialect, perDialect, resetTables, serverMajor, useDatabase } from './support/database';
import { Account, Ledger, Membership, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

const FIELDS = ['id', 'name', 'balance', 'status'];

describe('update events', () => {
  const db = useDatabase('upd', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate([
      { name: 'c', balance: 30 },
      { name: 'a', balance: 10 },
      { name: 'b', balance: 20, status: 'frozen' },
    ]);
    recorder = new Recorder([Account]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  describe('instance.save() / instance.update()', () => {
    it('delivers validate, before and after with the previous values as the old row', async () => {
      const account = (await Account.findByPk(2))!;
      account.balance = 15;
      await account.save();
      const expectedOld = [{ id: 2, name: 'a', balance: 10, status: 'open' }];
      const expectedNew = [{ id: 2, name: 'a', balance: 15, status: 'open' }];
      expect(recorder.summary(FIELDS)).to.deep.equal([
        {
          event: 'validateUpdate',
          model: 'Account',
          operation: 'save',
          via: 'instance',
          soft: false,
          newRecords: expectedNew,
          oldRecords: expectedOld,
          changedFields: ['balance'],
        },
        {
          event: 'beforeUpdate',
          model: 'Account',
          operation: 'save',
          via: 'instance',
          soft: false,
          newRecords: expectedNew,
          oldRecords: expectedOld,
          changedFields: ['balance'],
        },
        {
          event: 'afterUpdate',
          model: 'Account',
          operation: 'save',
          via: 'instance',
          soft: false,
          newRecords: expectedNew,
          oldRecords: expectedOld,
          changedFields: ['balance', 'updatedAt'],
        },
      ]);
      const [after] = recorder.signals.slice(-1) as [Signal<Account>];
      expect(after.newRecords[0]).to.not.equal(account, 'payload records are copies: saving the instance again cannot change them');
      expect(after.newRecords[0]!.get({ plain: true })).to.deep.equal(account.get({ plain: true }));
      expect(after.oldRecords[0]).to.not.equal(account);
      expect(after.oldRecords[0]!.updatedAt.getTime()).to.be.below(account.updatedAt.getTime());
      expect(recorder.transactions[0]).to.be.instanceOf(Transaction);
      expect(new Set(recorder.transactions).size).to.equal(1, 'one transaction for all phases');
    });

    it('reports instance.update() as operation "update" and writes one statement', async () => {
      const account = (await Account.findByPk(1))!;
      const { count } = await db.log.count(() => account.update({ status: 'closed' }));
      expect(count).to.equal(
        perDialect({ postgres: 1, others: 2 }),
        'the UPDATE (returning the row); elsewhere the row read by key after it',
      );
      expect(recorder.summary(FIELDS).map((s) => [s.event, s.operation, s.oldRecords, s.newRecords])).to.deep.equal([
        [
          'validateUpdate',
          'update',
          [{ id: 1, name: 'c', balance: 30, status: 'open' }],
          [{ id: 1, name: 'c', balance: 30, status: 'closed' }],
        ],
        [
          'beforeUpdate',
          'update',
          [{ id: 1, name: 'c', balance: 30, status: 'open' }],
          [{ id: 1, name: 'c', balance: 30, status: 'closed' }],
        ],
        [
          'afterUpdate',
          'update',
          [{ id: 1, name: 'c', balance: 30, status: 'open' }],
          [{ id: 1, name: 'c', balance: 30, status: 'closed' }],
        ],
      ]);
    });

    it('signals nothing and writes nothing when nothing changed', async () => {
      const account = (await Account.findByPk(1))!;
      const { count } = await db.log.count(() => account.save());
      expect(count).to.equal(0);
      expect(recorder.signals).to.deep.equal([]);
    });

    it('writes edits a before receiver makes, even to fields the caller did not name', async () => {
      receivers.add(
        bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
          newRecords[0]!.note = 'audited';
        }),
      );
      const account = (await Account.findByPk(1))!;
      await account.update({ balance: 31 }); // instance.update passes explicit fields to save
      await account.reload();
      expect([account.balance, account.note]).to.deep.equal([31, 'audited']);
      const after = recorder.signals.find((s) => s.event === 'afterUpdate')!;
      expect([...after.changedFields].sort()).to.deep.equal(['balance', 'note', 'updatedAt']);
    });
  });

  describe('Model.update(values, { where })', () => {
    it("pairs old and new rows by index, in primary-key order, with the database's values", async () => {
      const { result } = await db.log.count(() => Account.update({ status: 'review' }, { where: { balance: { [Op.gte]: 10 } } }));
      expect(result).to.deep.equal([3]);
      const oldRecords = [
        { id: 1, name: 'c', balance: 30, status: 'open' },
        { id: 2, name: 'a', balance: 10, status: 'open' },
        { id: 3, name: 'b', balance: 20, status: 'frozen' },
      ];
      const newRecords = oldRecords.map((r) => ({ ...r, status: 'review' }));
      const common = { model: 'Account', operation: 'update', via: 'model', soft: false, oldRecords, newRecords };
      expect(recorder.summary(FIELDS)).to.deep.equal([
        { event: 'validateUpdate', ...common, changedFields: ['status', 'updatedAt'] },
        { event: 'beforeUpdate', ...common, changedFields: ['status', 'updatedAt'] },
        { event: 'afterUpdate', ...common, changedFields: ['status', 'updatedAt'] },
      ]);
      const after = recorder.signals[2] as Signal<Account>;
      const rows = await Account.findAll({ order: [['id', 'ASC']] });
      expect(after.newRecords.map((r) => r.updatedAt.getTime())).to.deep.equal(rows.map((r) => r.updatedAt.getTime()));
      expect(after.newRecords.every((r) => r instanceof Account && !r.isNewRecord)).to.equal(true);
      expect(new Set(recorder.transactions).size).to.equal(1);
    });

    it('with after receivers only: the same payload, from one statement (RETURNING old.* on PostgreSQL 18, a CTE before)', async () => {
      recorder.off();
      const afterOnly = new Recorder([Account], ['afterUpdate']);
      try {
        const { count, statements, result } = await db.log.count(() =>
          Account.update({ balance: literal('balance + 5'), status: 'vip' }, { where: { balance: { [Op.gte]: 20 } }, returning: true }),
        );
        expect(count, statements.join('\n')).to.equal(
          perDialect({ postgres: 1, others: 3 }),
          'elsewhere: the locked read, the UPDATE, a read by key',
        );
        if (onDialect('postgres')) {
          expect(result[0]).to.equal(2);
          const major = await serverMajor(db.sequelize);
          expect(statements[0]).to.match(
            major >= 18
              ? /^WITH n AS \(UPDATE .* RETURNING .*old\."id" AS "__bso_0"/
              : /^WITH o AS \(SELECT .* FOR UPDATE\), n AS \(UPDATE /,
          );
          // `returning` is PostgreSQL's: Sequelize ignores it elsewhere.
          expect(result[1].map((r) => [r.id, r.balance, r instanceof Account])).to.have.deep.members([
            [1, 35, true],
            [3, 25, true],
          ]);
        }
        expect(afterOnly.summary(FIELDS)).to.deep.equal([
          {
            event: 'afterUpdate',
            model: 'Account',
            operation: 'update',
            via: 'model',
            soft: false,
            oldRecords: [
              { id: 1, name: 'c', balance: 30, status: 'open' },
              { id: 3, name: 'b', balance: 20, status: 'frozen' },
            ],
            newRecords: [
              { id: 1, name: 'c', balance: 35, status: 'vip' },
              { id: 3, name: 'b', balance: 25, status: 'vip' },
            ],
            changedFields: ['balance', 'status', 'updatedAt'],
          },
        ]);
        const [signal] = afterOnly.signals as Signal<Account>[];
        expect(signal!.transaction).to.be.instanceOf(Transaction);
        expect(signal!.newRecords.every((r) => r.updatedAt instanceof Date && r.createdAt instanceof Date)).to.equal(true);
      } finally {
        afterOnly.off();
      }
    });

    it('gives after receivers the values an expression computed, and before receivers the old ones', async () => {
      await Account.update({ balance: literal('balance * 2 + 1') }, { where: { id: [1, 3] } });
      const before = recorder.signals.find((s) => s.event === 'beforeUpdate') as Signal<Account>;
      const after = recorder.signals.find((s) => s.event === 'afterUpdate') as Signal<Account>;
      expect(before.newRecords.map((r) => r.balance)).to.deep.equal([30, 20]);
      expect(before.changedFields).to.include('balance');
      expect(after.oldRecords.map((r) => r.balance)).to.deep.equal([30, 20]);
      expect(after.newRecords.map((r) => r.balance)).to.deep.equal([61, 41]);
      expect([...after.changedFields].sort()).to.deep.equal(['balance', 'updatedAt']);
    });

    it('writes per-row edits of before receivers, fields outside the update too, in one extra statement', async () => {
      receivers.add(
        bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
          for (const r of newRecords as Account[]) {
            r.note = `was ${r.name}`; // a field the update does not touch, different per row
            if (r.id === 2) r.status = 'vip'; // overrides the update's own value on one row
          }
        }),
      );
      const { count, statements } = await db.log.count(() => Account.update({ status: 'review' }, { where: {} }));
      expect(count, statements.join('\n')).to.equal(
        perDialect({ postgres: 3, others: 4 }),
        'locked read, UPDATE, the edits (elsewhere: then a read by key)',
      );
      const rows = await Account.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.id, r.status, r.note])).to.deep.equal([
        [1, 'review', 'was c'],
        [2, 'vip', 'was a'],
        [3, 'review', 'was b'],
      ]);
      const after = recorder.signals.find((s) => s.event === 'afterUpdate') as Signal<Account>;
      expect(after.newRecords.map((r) => [r.id, r.status, r.note])).to.deep.equal([
        [1, 'review', 'was c'],
        [2, 'vip', 'was a'],
        [3, 'review', 'was b'],
      ]);
      expect(after.oldRecords.map((r) => [r.status, r.note])).to.deep.equal([
        ['open', null],
        ['open', null],
        ['frozen', null],
      ]);
      expect([...after.changedFields].sort()).to.deep.equal(['note', 'status', 'updatedAt']);
    });

    it('maps field: and underscored columns both ways', async () => {
      await Account.update({ ownerEmail: 'o@x.test', note: 'n' }, { where: { id: 2 } });
      const after = recorder.signals.find((s) => s.event === 'afterUpdate') as Signal<Account>;
      expect(after.oldRecords.map((r) => [r.ownerEmail, r.note])).to.deep.equal([[null, null]]);
      expect(after.newRecords.map((r) => [r.ownerEmail, r.note, r.createdAt instanceof Date])).to.deep.equal([['o@x.test', 'n', true]]);
      expect([...after.changedFields].sort()).to.deep.equal(['note', 'ownerEmail', 'updatedAt']);
    });

    it('returns instances holding the new values when the caller asks for returning (PostgreSQL: Sequelize ignores it elsewhere)', async function () {
      if (!onDialect('postgres')) this.skip();
      const [count, rows] = await Account.update({ balance: literal('balance + 1') }, { where: { id: 1 }, returning: true });
      expect(count).to.equal(1);
      expect(rows.map((r) => [r.id, r.balance, r instanceof Account])).to.deep.equal([[1, 31, true]]);
    });

    it('signals once, with the same payload, when the caller also asks Sequelize for individualHooks', async () => {
      const sequelizeHookSaw: number[] = [];
      Account.addHook('beforeUpdate', 'spec-individual', (instance: Account) => {
        sequelizeHookSaw.push(instance.id);
      });
      try {
        const [count] = await Account.update({ status: 'ih' }, { where: { id: [1, 2] }, individualHooks: true });
        expect(count).to.equal(2);
      } finally {
        Account.removeHook('beforeUpdate', 'spec-individual');
      }
      expect(sequelizeHookSaw.sort()).to.deep.equal([1, 2]);
      expect(recorder.summary(['id', 'status']).filter((s) => s.event === 'afterUpdate')).to.deep.equal([
        {
          event: 'afterUpdate',
          model: 'Account',
          operation: 'update',
          via: 'model',
          soft: false,
          oldRecords: [
            { id: 1, status: 'open' },
            { id: 2, status: 'open' },
          ],
          newRecords: [
            { id: 1, status: 'ih' },
            { id: 2, status: 'ih' },
          ],
          changedFields: ['status', 'updatedAt'],
        },
      ]);
    });

    it('with individualHooks, writes what before receivers set, also outside the fields of the update', async () => {
      recorder.off();
      recorder = new Recorder([Account], ['beforeUpdate']);
      receivers.add(
        bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
          for (const r of newRecords) if (r.id === 2) r.note = 'set by a receiver';
        }),
      );
      const [count] = await Account.update({ status: 'ih' }, { where: { id: [1, 2] }, individualHooks: true });
      expect(count).to.equal(2);
      const rows = await Account.findAll({ where: { id: [1, 2] }, order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.id, r.status, r.note])).to.deep.equal([
        [1, 'ih', null],
        [2, 'ih', 'set by a receiver'],
      ]);
      // Before receivers only: one before dispatch for both rows, nothing after.
      expect(recorder.summary(['id', 'status']).map((s) => [s.event, s.oldRecords, s.newRecords])).to.deep.equal([
        [
          'beforeUpdate',
          [
            { id: 1, status: 'open' },
            { id: 2, status: 'open' },
          ],
          [
            { id: 1, status: 'ih' },
            { id: 2, status: 'ih' },
          ],
        ],
      ]);
    });

    it('signals nothing when no row matches', async () => {
      const { result } = await db.log.count(() => Account.update({ status: 'x' }, { where: { id: 999 } }));
      expect(result).to.deep.equal([0]);
      expect(recorder.signals).to.deep.equal([]);
    });

    it('leaves soft-deleted rows of a paranoid model alone, as Sequelize does', async () => {
      const ledger = new Recorder([Ledger]);
      try {
        await resetTables(Ledger);
        await Ledger.bulkCreate(
          [
            { label: 'x', amount: 1 },
            { label: 'y', amount: 2 },
          ],
          { bypassSignals: true },
        );
        await Ledger.destroy({ where: { id: 2 }, bypassSignals: true });
        await Ledger.update({ amount: 5 }, { where: {} });
        expect(ledger.summary(['id', 'amount']).filter((s) => s.event === 'afterUpdate')).to.deep.equal([
          {
            event: 'afterUpdate',
            model: 'Ledger',
            operation: 'update',
            via: 'model',
            soft: false,
            oldRecords: [{ id: 1, amount: 1 }],
            newRecords: [{ id: 1, amount: 5 }],
            changedFields: ['amount'],
          },
        ]);
      } finally {
        ledger.off();
      }
    });

    it('pairs rows of a composite primary key', async () => {
      const members = new Recorder([Membership], ['afterUpdate']);
      try {
        await resetTables(Membership);
        await Membership.bulkCreate([
          { groupId: 2, userId: 1, role: 'a' },
          { groupId: 1, userId: 2, role: 'b' },
          { groupId: 1, userId: 1, role: 'c' },
        ]);
        await Membership.update({ role: literal("concat(role, '!')") }, { where: {} });
        expect(members.summary(['groupId', 'userId', 'role'])).to.deep.equal([
          {
            event: 'afterUpdate',
            model: 'Membership',
            operation: 'update',
            via: 'model',
            soft: false,
            oldRecords: [
              { groupId: 1, userId: 1, role: 'c' },
              { groupId: 1, userId: 2, role: 'b' },
              { groupId: 2, userId: 1, role: 'a' },
            ],
            newRecords: [
              { groupId: 1, userId: 1, role: 'c!' },
              { groupId: 1, userId: 2, role: 'b!' },
              { groupId: 2, userId: 1, role: 'a!' },
            ],
            changedFields: ['role'],
          },
        ]);
      } finally {
        members.off();
      }
    });
  });

  describe('increment / decrement', () => {
    it("Model.increment delivers the database-computed values (predicted on the locked row before) and keeps Sequelize's return shape", async () => {
      const vanilla = await Account.increment('balance', { by: 0, where: { id: 1 }, bypassSignals: true });
      const ours = await Account.increment('balance', { by: 5, where: { id: [1, 2] } });
      expect(ours.length).to.equal(vanilla.length);
      if (onDialect('postgres')) {
        // Sequelize's own shape on PostgreSQL: [[rows, count]] (elsewhere it returns no rows).
        const [[rows, count]] = ours as unknown as [[Record<string, unknown>[], number]];
        expect(count).to.equal(2);
        expect(rows.map((r) => r.balance).sort()).to.deep.equal([15, 35]);
      }
      expect(recorder.summary(['id', 'balance'])).to.deep.equal(
        ['validateUpdate', 'beforeUpdate', 'afterUpdate'].map((event) => ({
          event,
          model: 'Account',
          operation: 'increment',
          via: 'model',
          soft: false,
          oldRecords: [
            { id: 1, balance: 30 },
            { id: 2, balance: 10 },
          ],
          // before receivers see the increment evaluated on the locked rows, after receivers what was written
          newRecords: [
            { id: 1, balance: 35 },
            { id: 2, balance: 15 },
          ],
          changedFields: ['balance', 'updatedAt'],
        })),
      );
    });

    it('Model.decrement and instance.increment/decrement say which they were', async () => {
      await Account.decrement({ balance: 3 }, { where: { id: 3 } });
      const account = (await Account.findByPk(2))!;
      await account.increment('balance', { by: 7 });
      // Sequelize refreshes the instance from RETURNING on PostgreSQL; elsewhere it keeps what it had.
      expect(account.balance).to.equal(perDialect({ postgres: 17, others: 10 }));
      await account.decrement('balance');
      const afters = recorder.summary(['id', 'balance']).filter((s) => s.event === 'afterUpdate');
      expect(afters.map((s) => [s.operation, s.via, s.oldRecords, s.newRecords])).to.deep.equal([
        ['decrement', 'model', [{ id: 3, balance: 20 }], [{ id: 3, balance: 17 }]],
        ['increment', 'instance', [{ id: 2, balance: 10 }], [{ id: 2, balance: 17 }]],
        ['decrement', 'instance', [{ id: 2, balance: 17 }], [{ id: 2, balance: 16 }]],
      ]);
    });

    it('writes before-receiver edits on an increment', async () => {
      receivers.add(
        bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
          for (const r of newRecords as Account[]) r.status = `bumped-${r.id}`;
        }),
      );
      await Account.increment('balance', { where: { id: [2, 3] } });
      const rows = await Account.findAll({ where: { id: [2, 3] }, order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.balance, r.status])).to.deep.equal([
        [11, 'bumped-2'],
        [21, 'bumped-3'],
      ]);
    });
  });
});

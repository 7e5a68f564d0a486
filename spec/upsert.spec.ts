import { expect } from 'chai';
import { DataTypes } from 'sequelize';
import { bulkSignals } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Account, Membership, Tag, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

describe('upsert', () => {
  const db = useDatabase('ups', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    await resetTables(Membership);
    await resetTables(Tag);
    await Account.bulkCreate([{ name: 'a', balance: 1 }], { bypassSignals: true });
    recorder = new Recorder([Account, Membership, Tag]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  // Sequelize's own `created`: null on PostgreSQL and SQLite, whether the row was inserted on MariaDB/MySQL.
  const created = (inserted: boolean) => perDialect({ postgres: null, sqlite: null, others: inserted });
  it("an upsert that inserts fires create events; the caller gets Sequelize's own result (created: null on PostgreSQL)", async () => {
    const [row, wasCreated] = await Account.upsert({ id: 2, name: 'b', balance: 5 });
    expect(wasCreated).to.equal(created(true));
    expect(row.id).to.equal(2);
    expect(recorder.summary(['id', 'name', 'balance']).map((s) => [s.event, s.operation, s.via, s.oldRecords, s.newRecords])).to.deep.equal(
      ['validateCreate', 'beforeCreate', 'afterCreate'].map((e) => [e, 'upsert', 'model', [], [{ id: 2, name: 'b', balance: 5 }]]),
    );
    expect(new Set(recorder.transactions).size).to.equal(1);
  });

  it('an upsert that updates fires update events with the real old row', async () => {
    const { count, result } = await db.log.count(() => Account.upsert({ id: 1, name: 'a2', balance: 9 }));
    expect(count).to.equal(
      perDialect({ postgres: 2, others: 3 }),
      'one locked lookup, the upsert (+ the row read by key without RETURNING)',
    );
    expect(result[1]).to.equal(created(false));
    const signals = recorder.summary(['id', 'name', 'balance', 'status']);
    expect(signals.map((s) => [s.event, s.operation, s.oldRecords, s.newRecords])).to.deep.equal(
      ['validateUpdate', 'beforeUpdate', 'afterUpdate'].map((e) => [
        e,
        'upsert',
        [{ id: 1, name: 'a', balance: 1, status: 'open' }],
        [{ id: 1, name: 'a2', balance: 9, status: 'open' }],
      ]),
    );
    expect(signals[2]!.changedFields).to.deep.equal(['balance', 'name', 'updatedAt']);
    expect(result[0].get('xmax')).to.equal(undefined, 'no internal column leaks to the caller');
  });

  it('looks rows up by the unique key Sequelize targets, not only the primary key', async () => {
    await Tag.upsert({ slug: 'orm', label: 'ORM' });
    await Tag.upsert({ slug: 'orm', label: 'Object-relational mapping' });
    expect(
      recorder
        .summary(['id', 'slug', 'label'])
        .filter((s) => s.event.startsWith('after'))
        .map((s) => [s.event, s.oldRecords, s.newRecords]),
    ).to.deep.equal([
      ['afterCreate', [], [{ id: 1, slug: 'orm', label: 'ORM' }]],
      ['afterUpdate', [{ id: 1, slug: 'orm', label: 'ORM' }], [{ id: 1, slug: 'orm', label: 'Object-relational mapping' }]],
    ]);
  });

  it('works with a composite primary key', async () => {
    await Membership.upsert({ groupId: 1, userId: 2, role: 'r1' });
    await Membership.upsert({ groupId: 1, userId: 2, role: 'r2' });
    expect(
      recorder
        .summary(['groupId', 'userId', 'role'])
        .filter((s) => s.event.startsWith('after'))
        .map((s) => [s.event, s.oldRecords, s.newRecords]),
    ).to.deep.equal([
      ['afterCreate', [], [{ groupId: 1, userId: 2, role: 'r1' }]],
      ['afterUpdate', [{ groupId: 1, userId: 2, role: 'r1' }], [{ groupId: 1, userId: 2, role: 'r2' }]],
    ]);
  });

  it('writes before-receiver edits on both branches', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeCreate', ({ newRecords }) => {
        (newRecords[0] as Account).note = 'inserted';
      }),
    );
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
        (newRecords[0] as Account).note = 'updated';
      }),
    );
    await Account.upsert({ id: 1, name: 'a', balance: 2 });
    await Account.upsert({ id: 3, name: 'c', balance: 3 });
    const rows = await Account.findAll({ order: [['id', 'ASC']] });
    expect(rows.map((r) => [r.id, r.balance, r.note])).to.deep.equal([
      [1, 2, 'updated'],
      [3, 3, 'inserted'],
    ]);
    const afters = recorder.summary(['id', 'note']).filter((s) => s.event.startsWith('after'));
    expect(afters.map((s) => s.newRecords)).to.deep.equal([[{ id: 1, note: 'updated' }], [{ id: 3, note: 'inserted' }]]);
  });

  // SQLite: the call holds the database's write lock from its start, so no other writer can commit mid-call.
  // SQLite: the call holds the database's write lock from its start, so no other writer can commit mid-call.
  (onDialect('sqlite') ? it.skip : it)(
    'fails with ConcurrentWriteError, writing nothing, when another writer inserts the key mid-call',
    async () => {
      receivers.add(
        bulkSignals.on(Account, 'beforeCreate', async () => {
          // Another connection, outside this call's transaction, commits the same key first.
          await Account.create({ id: 5, name: 'racer' }, { bypassSignals: true, transaction: null });
        }),
      );
      let error: unknown;
      try {
        await Account.upsert({ id: 5, name: 'mine' });
      } catch (e) {
        error = e;
      }
      expect(error).to.have.property('name', 'ConcurrentWriteError');
      expect((error as Error).message).to.match(/Account\.upsert: .*inserted by a concurrent writer/);
      expect((await Account.findByPk(5))!.name).to.equal('racer');
      expect(recorder.events()).to.deep.equal(['validateCreate', 'beforeCreate']);
    },
  );

  it('an upsert without a value for its conflict key inserts, and is a create with the id the database chose', async () => {
    const [row] = await Account.upsert({ name: 'z', balance: 3 });
    // Sequelize returns no id from an upsert on MariaDB/MySQL; the signal has the row's.
    if (!onDialect('mariadb', 'mysql')) expect(row.id).to.equal(2);
    expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.newRecords])).to.deep.equal([
      ['validateCreate', [{ id: undefined, name: 'z' }]],
      ['beforeCreate', [{ id: undefined, name: 'z' }]],
      ['afterCreate', [{ id: 2, name: 'z' }]],
    ]);
  });

  it('with update receivers only, an inserting upsert is not signalled and an updating one is', async () => {
    recorder.off();
    recorder = new Recorder([Account], ['afterUpdate']);
    await Account.upsert({ id: 2, name: 'new' });
    await Account.upsert({ id: 1, name: 'a2' });
    expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.oldRecords, s.newRecords])).to.deep.equal([
      ['afterUpdate', [{ id: 1, name: 'a' }], [{ id: 1, name: 'a2' }]],
    ]);
    // Before receivers only: they see the update, nothing is delivered after it.
    recorder.off();
    recorder = new Recorder([Account], ['beforeUpdate']);
    await Account.upsert({ id: 1, name: 'a3' });
    expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.oldRecords, s.newRecords])).to.deep.equal([
      ['beforeUpdate', [{ id: 1, name: 'a2' }], [{ id: 1, name: 'a3' }]],
    ]);
    expect((await Account.findByPk(1))!.name).to.equal('a3');
  });

  it('a before receiver that throws vetoes the upsert', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', () => {
        throw new Error('frozen');
      }),
    );
    let error: unknown;
    try {
      await Account.upsert({ id: 1, name: 'nope' });
    } catch (e) {
      error = e;
    }
    expect(error).to.have.property('message', 'frozen');
    expect((await Account.findByPk(1))!.name).to.equal('a');
  });

  it('conflicts on a unique index declared in the model options: an update of the row with the old values', async () => {
    const sequelize = Account.sequelize!;
    const Handle = sequelize.isDefined('UpsHandle')
      ? sequelize.model('UpsHandle')
      : sequelize.define(
          'UpsHandle',
          { name: DataTypes.STRING, city: DataTypes.STRING },
          { tableName: 'ups_handles', timestamps: false, indexes: [{ unique: true, fields: ['name'] }] },
        );
    await Handle.sync({ force: true });
    await Handle.create({ name: 'u1', city: 'Old' }, { bypassSignals: true });
    const seen: unknown[] = [];
    const off = bulkSignals.on(Handle, 'afterUpdate', ({ oldRecords, newRecords }) => {
      seen.push([oldRecords.map((r) => r.get('city')), newRecords.map((r) => r.get('city'))]);
    });
    try {
      await Handle.upsert({ name: 'u1', city: 'New' });
    } finally {
      off();
    }
    expect(seen).to.deep.equal([[['Old'], ['New']]]);
    expect(await Handle.count()).to.equal(1);
  });
});

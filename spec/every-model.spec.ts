import { expect } from 'chai';
import { DataTypes, Sequelize, type Model, type ModelStatic } from 'sequelize';
import { InvalidReceiverError, NotInstalledError, Priority, bulkSignals, changedTo, type Signal } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { collectWarnings, rejection } from './support/helpers';
import { Account, Ledger, Membership, defineModels } from './support/models';
import { Receivers } from './support/recorder';

describe('receivers for every model: bulkSignals.on(sequelize, …)', () => {
  const db = useDatabase('evm', defineModels);
  const receivers = new Receivers();
  let seen: { model: string; event: string; operation: string; old: unknown[]; new: unknown[] }[];
  const record = (s: Signal<Model>) => {
    const ids = (records: readonly Model[]) => records.map((r) => r.get('id') ?? `${String(r.get('groupId'))}/${String(r.get('userId'))}`);
    seen.push({
      model: s.model.name,
      event: s.event,
      operation: s.operation,
      old: ids(s.oldRecords),
      new: ids(s.newRecords),
    });
  };

  beforeEach(async () => {
    seen = [];
    await resetTables(Account);
    await resetTables(Ledger);
    await resetTables(Membership);
  });
  afterEach(() => receivers.clear());

  it('receives the event for every model of the instance, signal.model saying which, on every path', async () => {
    for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) receivers.add(bulkSignals.on(db.sequelize, event, record));
    await Account.bulkCreate([{ name: 'a' }, { name: 'b' }]);
    await Ledger.create({ label: 'l', amount: 1 });
    await Membership.bulkCreate([{ groupId: 1, userId: 2, role: 'r' }]);
    await Account.increment('balance', { by: 5, where: { name: 'a' } });
    await Ledger.destroy({ where: {} }); // paranoid: a soft delete
    await Membership.update({ role: 's' }, { where: { groupId: 1 } });
    await Account.destroy({ where: { name: 'b' } });
    expect(seen).to.deep.equal([
      { model: 'Account', event: 'afterCreate', operation: 'bulkCreate', old: [], new: [1, 2] },
      { model: 'Ledger', event: 'afterCreate', operation: 'create', old: [], new: [1] },
      { model: 'Membership', event: 'afterCreate', operation: 'bulkCreate', old: [], new: ['1/2'] },
      { model: 'Account', event: 'afterUpdate', operation: 'increment', old: [1], new: [1] },
      { model: 'Ledger', event: 'afterDelete', operation: 'destroy', old: [1], new: [] },
      { model: 'Membership', event: 'afterUpdate', operation: 'update', old: ['1/2'], new: ['1/2'] },
      { model: 'Account', event: 'afterDelete', operation: 'destroy', old: [2], new: [] },
    ]);
  });

  it('covers models defined after the call', async () => {
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', record));
    const Later = db.sequelize.define(
      'Later',
      { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true } },
      {
        tableName: 'evm_later',
        timestamps: false,
      },
    );
    await Later.sync({ force: true });
    await Later.bulkCreate([{}, {}]);
    expect(seen.map((s) => [s.model, s.new])).to.deep.equal([['Later', [1, 2]]]);
  });

  it("runs among the model's own receivers by priority, then registration order", async () => {
    const order: string[] = [];
    const mark = (name: string) => () => void order.push(name);
    receivers.add(bulkSignals.on(Account, 'afterCreate', mark('own normal (1st)'), { name: 'a' }));
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', mark('every normal (2nd)'), { name: 'b' }));
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', mark('every low'), { priority: Priority.LOW }));
    receivers.add(bulkSignals.on(Account, 'afterCreate', mark('own high'), { priority: Priority.HIGH }));
    receivers.add(bulkSignals.on(Account, 'afterCreate', mark('own normal (3rd)'), { name: 'c' }));
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', mark('every highest'), { priority: Priority.HIGHEST }));
    await Account.create({ name: 'x' });
    expect(order).to.deep.equal(['every highest', 'own high', 'own normal (1st)', 'every normal (2nd)', 'own normal (3rd)', 'every low']);
    order.length = 0;
    await Ledger.create({ label: 'y', amount: 1 });
    expect(order).to.deep.equal(['every highest', 'every normal (2nd)', 'every low']);
  });

  it('checks a when condition against each signalled model: a model without the attribute is skipped, with one warning', async () => {
    receivers.add(bulkSignals.on(db.sequelize, 'afterUpdate', record, { when: changedTo('status', 'frozen'), name: 'freezes' }));
    await Account.bulkCreate([{ name: 'a' }, { name: 'b' }], { bypassSignals: true });
    await Ledger.create({ label: 'l', amount: 1 }, { bypassSignals: true });
    const warnings = await collectWarnings(async () => {
      await Account.update({ status: 'frozen' }, { where: { name: 'a' } });
      await Ledger.update({ amount: 2 }, { where: {} });
      await Ledger.update({ amount: 3 }, { where: {} });
    });
    expect(seen.map((s) => [s.model, s.new])).to.deep.equal([['Account', [1]]]);
    expect(warnings.map((w) => [w.code, w.message])).to.deep.equal([
      [
        'BULK_SIGNALS_CONDITION_FIELDS',
        'A receiver for every model (freezes) has a condition that reads status, which Ledger does not have; it is not called for Ledger.',
      ],
    ]);
    expect((await Ledger.findByPk(1))!.amount).to.equal(3, 'the write is not affected');
  });

  it('delivers onCommit receivers after the COMMIT, and before receivers edit every model they get', async () => {
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', record, { onCommit: true }));
    receivers.add(
      bulkSignals.on(db.sequelize, 'beforeCreate', ({ model, newRecords }) => {
        if (model === Account) for (const r of newRecords) r.set('note', `set for ${model.name}`);
      }),
    );
    await db.sequelize.transaction(async (transaction) => {
      await Account.create({ name: 'c' }, { transaction });
      expect(seen).to.deep.equal([]);
    });
    expect(seen.map((s) => [s.model, s.new])).to.deep.equal([['Account', [1]]]);
    expect((await Account.findByPk(1))!.note).to.equal('set for Account');
  });

  it('unsubscribes; off(sequelize) removes the every-model receivers only; has() sees both kinds', async () => {
    const off = bulkSignals.on(db.sequelize, 'afterCreate', record);
    receivers.add(bulkSignals.on(Account, 'afterDelete', record));
    expect([
      bulkSignals.has(db.sequelize, 'afterCreate'),
      bulkSignals.has(Account, 'afterCreate'),
      bulkSignals.has(Ledger, 'afterCreate'),
    ]).to.deep.equal([true, true, true]);
    off();
    expect([bulkSignals.has(db.sequelize, 'afterCreate'), bulkSignals.has(Account, 'afterCreate')]).to.deep.equal([false, false]);
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', record));
    bulkSignals.off(db.sequelize);
    expect([bulkSignals.has(db.sequelize, 'afterCreate'), bulkSignals.has(Account, 'afterDelete')]).to.deep.equal([false, true]);
    await Account.create({ name: 'd' });
    expect(seen).to.deep.equal([]);
  });

  it('refuses a Sequelize instance that was never installed, and bad input, naming what was expected', async () => {
    const bare = new Sequelize(process.env.DATABASE_URL!, { dialect: 'postgres', logging: false });
    try {
      expect(() => bulkSignals.on(bare, 'afterCreate', record)).to.throw(
        NotInstalledError,
        "bulkSignals.on(sequelize, 'afterCreate'): this Sequelize instance never ran installBulkSignals(sequelize)",
      );
    } finally {
      await bare.close();
    }
    expect(() => bulkSignals.on(db.sequelize, 'afterUpdte' as never, record)).to.throw(
      InvalidReceiverError,
      /^bulkSignals\.on\(sequelize, "afterUpdte"\): unknown event/,
    );
    expect(() => bulkSignals.on(db.sequelize, 'beforeCreate', record, { onCommit: true as never })).to.throw(
      InvalidReceiverError,
      "bulkSignals.on(sequelize, 'beforeCreate'): onCommit delivery is for after events only",
    );
    expect(() => bulkSignals.on({} as ModelStatic<Model>, 'afterCreate', record)).to.throw(
      InvalidReceiverError,
      'expected a Sequelize model class or a Sequelize instance as its first argument, got object',
    );
    // A throwing every-model receiver rolls the write back, like any receiver.
    receivers.add(
      bulkSignals.on(db.sequelize, 'afterCreate', () => {
        throw new Error('no');
      }),
    );
    expect(await rejection(Account.create({ name: 'e' }))).to.have.property('message', 'no');
    expect(await Account.count()).to.equal(0);
  });
});

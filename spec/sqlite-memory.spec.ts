import { expect } from 'chai';
import { Sequelize, literal } from 'sequelize';
import { bulkSignals, installBulkSignals } from '../lib';
import { onDialect } from './support/database';
import { collectWarnings } from './support/helpers';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';

/**
 * SQLite `:memory:`: every transaction of an instance runs on its one connection, so a write made while one is
 * open runs inside it — with vanilla Sequelize, and with the library, whose calls join it instead of nesting a
 * BEGIN; the library's own transactions for concurrent calls are queued.
 */
(onDialect('sqlite') ? describe : describe.skip)('SQLite :memory:', () => {
  let sequelize: Sequelize;
  const receivers = new Receivers();
  let seen: { ids: number[]; balances: [number, number][]; transaction: unknown }[];

  before(async () => {
    sequelize = new Sequelize({ dialect: 'sqlite', storage: ':memory:', logging: false });
    installBulkSignals(sequelize, { warnOnMultipleReceivers: false });
    defineModels(sequelize, 'mem');
    await sequelize.sync({ force: true });
  });
  after(() => sequelize.close());
  beforeEach(async () => {
    await Account.destroy({ where: {}, bypassSignals: true });
    await Account.bulkCreate(
      [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      { bypassSignals: true },
    );
    seen = [];
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', ({ oldRecords, newRecords, transaction }) => {
        seen.push({
          ids: newRecords.map((r) => r.id),
          balances: oldRecords.map((o, i) => [o.balance, newRecords[i]!.balance]),
          transaction,
        });
      }),
    );
  });
  afterEach(() => receivers.clear());

  it('a signalled write made while a transaction is open joins it, as the statement alone would', async () => {
    const t = await sequelize.transaction();
    await Account.update({ balance: 5 }, { where: { id: 1 } }); // no transaction passed
    expect(seen).to.deep.equal([{ ids: [1], balances: [[0, 5]], transaction: t }]);
    await t.rollback();
    expect((await Account.findByPk(1))!.balance).to.equal(0, 'rolled back with the transaction it ran in');
  });

  it('concurrent signalled writes without transactions all succeed, one after another, each old value exact', async () => {
    await Promise.all(Array.from({ length: 20 }, () => Account.increment('balance', { by: 1, where: { id: [1, 2] } })));
    expect(seen).to.have.length(20);
    const chain = seen.map((s) => s.balances[0]!).sort((x, y) => x[0] - y[0]);
    expect(chain).to.deep.equal(Array.from({ length: 20 }, (_, i) => [i, i + 1]));
    expect((await Account.findByPk(2))!.balance).to.equal(20);
  });

  it("a receiver's write without signal.transaction joins the call's transaction", async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', async ({ newRecords }) => {
        if (newRecords[0]!.id === 1) await Account.update({ balance: literal('balance + 100') }, { where: { id: 2 } });
      }),
    );
    const warnings = await collectWarnings(() => Account.update({ balance: 1 }, { where: { id: 1 } }));
    expect(warnings.map((w) => w.code)).to.deep.equal(['BULK_SIGNALS_OUTSIDE_TRANSACTION']);
    expect(seen.map((s) => s.ids)).to.deep.equal([[1], [2]]);
    expect(seen[1]!.transaction).to.equal(seen[0]!.transaction);
    expect((await Account.findByPk(2))!.balance).to.equal(100);
  });
});

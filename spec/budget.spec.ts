import { expect } from 'chai';
import { literal, type Model, type ModelStatic } from 'sequelize';
import { bulkSignals } from '../lib';
import { connect, resetTables, serverMajor, type TestDatabase, useDatabase } from './support/database';
import { Account, Ledger, Tag, defineModels } from './support/models';
import { Receivers } from './support/recorder';

const N = 1000;
const rows = () => Array.from({ length: N }, (_, i) => ({ name: `n${i}`, balance: i }));

/** The statements each path issues, for 1000 rows (transaction control not counted). */
describe('statement budget (1000 rows)', function () {
  this.timeout(120000);
  const db = useDatabase('bud', defineModels);
  const receivers = new Receivers();
  let vanilla: TestDatabase;
  let VanillaAccount: ModelStatic<Account>;

  before(() => {
    // The same table through a Sequelize instance that never installed the library.
    vanilla = connect({}, false);
    VanillaAccount = vanilla.sequelize.define(
      'VanillaAccount',
      { ...Account.getAttributes() },
      {
        tableName: 'bud_accounts',
        underscored: true,
      },
    ) as unknown as ModelStatic<Account>;
  });
  after(() => vanilla.sequelize.close());

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(rows(), { bypassSignals: true });
  });
  afterEach(() => receivers.clear());

  const paths: Record<string, (M: ModelStatic<Account>) => Promise<unknown>> = {
    'Model.update': (M) => M.update({ status: 'x' }, { where: {} }),
    'Model.update with an expression': (M) => M.update({ balance: literal('balance + 1') }, { where: {} }),
    'Model.destroy': (M) => M.destroy({ where: {} }),
    'Model.bulkCreate': (M) => M.bulkCreate(rows()),
    'Model.increment': (M) => M.increment('balance', { where: {} }),
    'Model.create': (M) => M.create({ name: 'one' }),
    'instance.update': async (M) => {
      const a = (await M.findByPk(1))!;
      await a.update({ balance: -1 });
    },
  };

  for (const [path, run] of Object.entries(paths)) {
    it(`${path} with no receivers issues exactly what vanilla Sequelize issues`, async () => {
      const ours = await db.log.count(() => run(Account));
      await resetTables(Account);
      await Account.bulkCreate(rows(), { bypassSignals: true });
      const theirs = await vanilla.log.count(() => run(VanillaAccount));
      const shape = (sql: string[]) =>
        sql.map((s) =>
          s
            .replace(/"VanillaAccount"/g, '"Account"')
            .replace(/'[^']*'/g, "'?'")
            .replace(/\$\d+/g, '$?'),
        );
      expect(shape(ours.statements)).to.deep.equal(shape(theirs.statements));
    });
  }

  const budgets: [string, number, () => Promise<unknown>][] = [
    ['Model.update', 2, () => Account.update({ status: 'x' }, { where: {} })],
    ['Model.update with an expression', 2, () => Account.update({ balance: literal('balance + 1') }, { where: {} })],
    ['Model.destroy', 2, () => Account.destroy({ where: {} })],
    ['Model.bulkCreate', 1, () => Account.bulkCreate(rows())],
    ['Model.increment', 2, () => Account.increment('balance', { where: {} })],
  ];
  for (const [path, budget, run] of budgets) {
    it(`${path} with before and after receivers: ${budget} statement(s)`, async () => {
      let delivered = 0;
      for (const family of ['Create', 'Update', 'Delete'] as const) {
        receivers.add(bulkSignals.on(Account, `before${family}`, () => undefined));
        receivers.add(
          bulkSignals.on(Account, `after${family}`, (s) => {
            delivered += s.newRecords.length + s.oldRecords.length;
          }),
        );
      }
      const { count, statements } = await db.log.count(run);
      expect(count, statements.map((s) => s.slice(0, 80)).join('\n')).to.equal(budget);
      expect(delivered).to.be.at.least(N);
    });
  }

  it('Model.update with after receivers only: 1 statement (RETURNING old.* on PostgreSQL 18, a CTE before)', async () => {
    let delivered = 0;
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', (s) => {
        delivered += s.oldRecords.length;
      }),
    );
    const { count } = await db.log.count(() => Account.update({ balance: literal('balance + 1') }, { where: {} }));
    expect(count).to.equal(1);
    expect(delivered).to.equal(N);
  });

  it('Model.destroy with after receivers only: 1 statement (DELETE … RETURNING)', async () => {
    let delivered = 0;
    receivers.add(
      bulkSignals.on(Account, 'afterDelete', (s) => {
        delivered += s.oldRecords.length;
      }),
    );
    const { count, statements } = await db.log.count(() => Account.destroy({ where: {} }));
    expect(count).to.equal(1);
    expect(statements[0]).to.match(/^WITH d AS \(DELETE FROM .* RETURNING .*\) SELECT \* FROM d ORDER BY /);
    expect(delivered).to.equal(N);
  });

  it('before receivers writing a different value per row: 3 statements, every value written', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
        for (const r of newRecords as Account[]) r.note = `note ${r.id}`;
      }),
    );
    const { count } = await db.log.count(() => Account.update({ status: 'x' }, { where: {} }));
    expect(count).to.equal(3);
    const written = await Account.findAll({ order: [['id', 'ASC']] });
    expect(written.every((r) => r.note === `note ${r.id}` && r.status === 'x')).to.equal(true);
  });
});

describe('statement budget with after receivers only (one statement where the server allows)', () => {
  const db = useDatabase('bua', defineModels);
  const receivers = new Receivers();
  let major: number;

  before(async () => {
    major = await serverMajor(db.sequelize);
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE bua_accounts, bua_ledgers, bua_tags RESTART IDENTITY');
    await Account.bulkCreate([{ name: 'a' }, { name: 'b' }], { bypassSignals: true });
    await Ledger.bulkCreate(
      [
        { label: 'a', amount: 1 },
        { label: 'b', amount: 2 },
      ],
      { bypassSignals: true },
    );
    await Tag.bulkCreate([{ slug: 'a' }], { bypassSignals: true });
    for (const model of [Account, Ledger, Tag] as ModelStatic<Model>[]) {
      for (const family of ['Create', 'Update', 'Delete'] as const) receivers.add(bulkSignals.on(model, `after${family}`, () => undefined));
    }
  });
  afterEach(() => receivers.clear());

  // [path, statements on PostgreSQL 18, before 18, run]
  const paths: [string, number, number, () => Promise<unknown>][] = [
    ['Model.update', 1, 1, () => Account.update({ status: 'x' }, { where: {} })],
    ['Model.increment', 1, 1, () => Account.increment('balance', { where: {} })],
    ['Model.destroy (hard)', 1, 1, () => Account.destroy({ where: {} })],
    ['Model.destroy (soft)', 1, 1, () => Ledger.destroy({ where: {} })],
    ['Model.restore', 1, 1, () => Ledger.restore({ where: {} })],
    ['Model.truncate (LOCK TABLE, read, TRUNCATE)', 3, 3, () => Account.truncate()],
    ['Model.bulkCreate', 1, 1, () => Account.bulkCreate([{ name: 'x' }, { name: 'y' }])],
    ['bulkCreate ignoreDuplicates', 1, 1, () => Tag.bulkCreate([{ slug: 'a' }, { slug: 'n' }], { ignoreDuplicates: true })],
    [
      'bulkCreate updateOnDuplicate (a locked lookup before 18)',
      1,
      2,
      () => Tag.bulkCreate([{ slug: 'a', label: 'A' }, { slug: 'n' }], { updateOnDuplicate: ['label'] }),
    ],
    ['upsert (a locked lookup before 18)', 1, 2, () => Tag.upsert({ slug: 'a', label: 'U' })],
  ];
  for (const [path, on18, before18, run] of paths) {
    it(`${path}: ${on18} on PostgreSQL 18, ${before18} before`, async () => {
      const { count, statements } = await db.log.count(run);
      expect(count, statements.join('\n')).to.equal(major >= 18 ? on18 : before18);
    });
  }
});

describe('statement budget of instance paths (before + after receivers)', () => {
  const db = useDatabase('bui', defineModels);
  const receivers = new Receivers();

  beforeEach(async () => {
    await resetTables(Ledger);
    await Ledger.bulkCreate(
      [
        { label: 'a', amount: 1 },
        { label: 'b', amount: 2 },
      ],
      { bypassSignals: true },
    );
    await Ledger.destroy({ where: { id: 2 }, bypassSignals: true });
    for (const family of ['Create', 'Update', 'Delete'] as const) {
      receivers.add(bulkSignals.on(Ledger, `before${family}`, () => undefined));
      receivers.add(bulkSignals.on(Ledger, `after${family}`, () => undefined));
    }
  });
  afterEach(() => receivers.clear());

  const paths: [string, number, (l: Ledger, deleted: Ledger) => Promise<unknown>][] = [
    [
      'instance.save',
      1,
      (l) => {
        l.amount = 5;
        return l.save();
      },
    ],
    ['instance.update', 1, (l) => l.update({ amount: 6 })],
    ['instance.increment', 2, (l) => l.increment('amount')],
    ['instance.destroy (soft)', 1, (l) => l.destroy()],
    ['instance.destroy (force)', 1, (l) => l.destroy({ force: true })],
    ['instance.restore', 1, (_, deleted) => deleted.restore()],
    ['Model.create', 1, () => Ledger.create({ label: 'c', amount: 3 })],
  ];
  for (const [path, budget, run] of paths) {
    it(`${path}: ${budget} statement(s)`, async () => {
      const ledger = (await Ledger.findByPk(1))!;
      const deleted = (await Ledger.findByPk(2, { paranoid: false }))!;
      const { count, statements } = await db.log.count(() => run(ledger, deleted));
      expect(count, statements.join('\n')).to.equal(budget);
    });
  }
});

import { expect } from 'chai';
import { literal, type Model, type ModelStatic } from 'sequelize';
import { bulkSignals } from '../lib';
import { connect, onDialect, perDialect, resetTables, serverMajor, type TestDatabase, useDatabase } from './support/database';
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
            .replace(/(["`])VanillaAccount\1/g, '$1Account$1')
            .replace(/'[^']*'/g, "'?'")
            .replace(/\$\d+/g, '$?'),
        );
      expect(shape(ours.statements)).to.deep.equal(shape(theirs.statements));
    });
  }

  // Where statements return no rows (MariaDB, MySQL, SQLite) the rows written are read again by key; bulkCreate
  // finds its generated ids from LAST_INSERT_ID() (MySQL) or from the largest rowid before (SQLite); MariaDB ≥ 10.5
  // (the mariadb dialect) has INSERT … RETURNING.
  const budgets: [string, number, () => Promise<unknown>][] = [
    ['Model.update', perDialect({ postgres: 2, others: 3 }), () => Account.update({ status: 'x' }, { where: {} })],
    [
      'Model.update with an expression',
      perDialect({ postgres: 2, others: 3 }),
      () => Account.update({ balance: literal('balance + 1') }, { where: {} }),
    ],
    ['Model.destroy', 2, () => Account.destroy({ where: {} })],
    ['Model.bulkCreate', perDialect({ postgres: 1, mariadb: 1, others: 2, sqlite: 3 }), () => Account.bulkCreate(rows())],
    ['Model.increment', perDialect({ postgres: 2, others: 3 }), () => Account.increment('balance', { where: {} })],
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

  const afterOnlyUpdate = perDialect({ postgres: 1, others: 3 });
  it(`Model.update with after receivers only: ${afterOnlyUpdate} statement(s) (PostgreSQL: RETURNING old.* on 18, a CTE before; elsewhere locked read, UPDATE, read by key)`, async () => {
    let delivered = 0;
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', (s) => {
        delivered += s.oldRecords.length;
      }),
    );
    const { count } = await db.log.count(() => Account.update({ balance: literal('balance + 1') }, { where: {} }));
    expect(count).to.equal(afterOnlyUpdate);
    expect(delivered).to.equal(N);
  });

  // MariaDB ≥ 10.5's DELETE … RETURNING through the mariadb dialect (the mysql one is for MySQL, which has none).
  const afterOnlyDestroy = perDialect({ postgres: 1, mariadb: 1, others: 2 });
  it(`Model.destroy with after receivers only: ${afterOnlyDestroy} statement(s) (DELETE … RETURNING on PostgreSQL and MariaDB; elsewhere locked read, DELETE)`, async () => {
    let delivered = 0;
    receivers.add(
      bulkSignals.on(Account, 'afterDelete', (s) => {
        delivered += s.oldRecords.length;
      }),
    );
    const { count, statements } = await db.log.count(() => Account.destroy({ where: {} }));
    expect(count).to.equal(afterOnlyDestroy);
    if (onDialect('postgres')) expect(statements[0]).to.match(/^WITH d AS \(DELETE FROM .* RETURNING .*\) SELECT \* FROM d ORDER BY /);
    else if (onDialect('mariadb')) expect(statements[0]).to.match(/^DELETE FROM .* RETURNING /);
    else expect(statements[0]).to.match(/FOR UPDATE$|^SELECT /);
    expect(delivered).to.equal(N);
  });

  const perRow = perDialect({ postgres: 3, others: 4 });
  it(`before receivers writing a different value per row: ${perRow} statements, every value written`, async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
        for (const r of newRecords as Account[]) r.note = `note ${r.id}`;
      }),
    );
    const { count } = await db.log.count(() => Account.update({ status: 'x' }, { where: {} }));
    expect(count).to.equal(perRow);
    const written = await Account.findAll({ order: [['id', 'ASC']] });
    expect(written.every((r) => r.note === `note ${r.id}` && r.status === 'x')).to.equal(true);
  });
});

describe('statement budget with after receivers only (one statement where the server allows)', () => {
  const db = useDatabase('bua', defineModels);
  const receivers = new Receivers();
  let major: number;

  before(async () => {
    major = onDialect('postgres') ? await serverMajor(db.sequelize) : 0;
  });
  beforeEach(async () => {
    await resetTables(Account, Ledger, Tag);
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

  // Statements per path: PostgreSQL 18, PostgreSQL before 18, MariaDB/MySQL, SQLite (where it differs).
  interface Cost {
    pg18: number;
    pg: number;
    others: number;
    mariadb?: number;
    sqlite?: number;
  }
  const paths: [string, Cost, () => Promise<unknown>][] = [
    ['Model.update', { pg18: 1, pg: 1, others: 3 }, () => Account.update({ status: 'x' }, { where: {} })],
    ['Model.increment', { pg18: 1, pg: 1, others: 3 }, () => Account.increment('balance', { where: {} })],
    ['Model.destroy (hard)', { pg18: 1, pg: 1, others: 2, mariadb: 1 }, () => Account.destroy({ where: {} })],
    ['Model.destroy (soft)', { pg18: 1, pg: 1, others: 2 }, () => Ledger.destroy({ where: {} })],
    ['Model.restore', { pg18: 1, pg: 1, others: 3 }, () => Ledger.restore({ where: {} })],
    ['Model.truncate (LOCK TABLE on PostgreSQL, read, TRUNCATE)', { pg18: 3, pg: 3, others: 2 }, () => Account.truncate()],
    ['Model.bulkCreate', { pg18: 1, pg: 1, others: 2, mariadb: 1, sqlite: 3 }, () => Account.bulkCreate([{ name: 'x' }, { name: 'y' }])],
    [
      'bulkCreate ignoreDuplicates',
      { pg18: 1, pg: 1, others: 3, sqlite: 4 },
      () => Tag.bulkCreate([{ slug: 'a' }, { slug: 'n' }], { ignoreDuplicates: true }),
    ],
    [
      'bulkCreate updateOnDuplicate (a locked lookup before PostgreSQL 18)',
      { pg18: 1, pg: 2, others: 4, sqlite: 5 },
      () => Tag.bulkCreate([{ slug: 'a', label: 'A' }, { slug: 'n' }], { updateOnDuplicate: ['label'] }),
    ],
    ['upsert (a locked lookup before PostgreSQL 18)', { pg18: 1, pg: 2, others: 3 }, () => Tag.upsert({ slug: 'a', label: 'U' })],
  ];
  const expected = (cost: Cost) =>
    perDialect({
      postgres: major >= 18 ? cost.pg18 : cost.pg,
      others: cost.others,
      ...(cost.mariadb ? { mariadb: cost.mariadb } : {}),
      ...(cost.sqlite ? { sqlite: cost.sqlite } : {}),
    });
  for (const [path, cost, run] of paths) {
    const maria = cost.mariadb === undefined ? `${cost.others} on MariaDB/MySQL` : `${cost.mariadb} on MariaDB, ${cost.others} on MySQL`;
    it(`${path}: ${cost.pg18} on PostgreSQL 18, ${cost.pg} before, ${maria}, ${cost.sqlite ?? cost.others} on SQLite`, async () => {
      const { count, statements } = await db.log.count(run);
      expect(count, statements.join('\n')).to.equal(expected(cost));
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

  // PostgreSQL's statements return the row written; elsewhere it is read again by key (a delete locks it first);
  // MariaDB ≥ 10.5's INSERT returns it.
  const again = perDialect({ postgres: 0, others: 1 });
  const insertAgain = perDialect({ postgres: 0, mariadb: 0, others: 1 });
  const paths: [string, number, (l: Ledger, deleted: Ledger) => Promise<unknown>][] = [
    [
      'instance.save',
      1 + again,
      (l) => {
        l.amount = 5;
        return l.save();
      },
    ],
    ['instance.update', 1 + again, (l) => l.update({ amount: 6 })],
    ['instance.increment', 2 + again, (l) => l.increment('amount')],
    ['instance.destroy (soft)', 1 + again, (l) => l.destroy()],
    ['instance.destroy (force)', 1 + again, (l) => l.destroy({ force: true })],
    ['instance.restore', 1 + again, (_, deleted) => deleted.restore()],
    ['Model.create', 1 + insertAgain, () => Ledger.create({ label: 'c', amount: 3 })],
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

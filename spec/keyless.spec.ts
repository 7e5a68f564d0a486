import { expect } from 'chai';
import { DataTypes, Op, literal, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { ConcurrentWriteError, UnsupportedOperationError, bulkSignals, type Signal } from '../lib';
import { connect, onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Receivers, Recorder } from './support/recorder';

type Any = any;

let Loose: ModelStatic<Model>;

/** A model without a primary key (a log table, a view-like table): `removeAttribute('id')`. */
function defineLoose(sequelize: Sequelize, prefix: string): ModelStatic<Model> {
  const model = sequelize.define(
    'Loose',
    { tag: DataTypes.STRING, n: { type: DataTypes.INTEGER, defaultValue: 7 } },
    { tableName: `${prefix}_loose`, timestamps: false },
  );
  model.removeAttribute('id');
  return model;
}

function define(sequelize: Sequelize, prefix: string): void {
  Loose = defineLoose(sequelize, prefix);
}

const seed = () =>
  Loose.bulkCreate(
    [
      { tag: 'x', n: 1 },
      { tag: 'x', n: 2 },
      { tag: 'y', n: 3 },
      { tag: 'x', n: 1 },
    ],
    { bypassSignals: true },
  );

const rowsOf = async () => (await Loose.findAll({ raw: true })).map((r) => [(r as Any).tag, (r as Any).n]).sort();

/**
 * Rows without identity: PostgreSQL tells them apart by `ctid`, SQLite by `rowid`. MariaDB/MySQL have neither:
 * deletes are still exact there (the rows locked are the rows Sequelize's own, un-narrowed statement removes,
 * held by REPEATABLE READ's next-key locks), inserts are exact where the INSERT returns its rows (MariaDB ≥ 10.5),
 * and updates — which cannot be paired — are refused before anything is written.
 */
describe('models without a primary key', () => {
  const db = useDatabase('kl', define);
  const receivers = new Receivers();
  let recorder: Recorder;
  const indistinct = onDialect('mariadb', 'mysql');

  beforeEach(async () => {
    await resetTables(Loose);
    await seed();
    recorder = new Recorder([Loose]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  const after = (event: string) => recorder.signals.filter((s) => s.event === event) as Signal<Model>[];
  const values = (records: readonly Model[]) => records.map((r) => [(r as Any).tag, (r as Any).n]);

  it('Model.destroy({ where }) delivers every removed row, whole, before and after, in one transaction', async () => {
    const { result, count } = await db.log.count(() => Loose.destroy({ where: { tag: 'x' } }));
    expect(result).to.equal(3);
    // Locked read and DELETE; after receivers alone would make MariaDB's one DELETE … RETURNING.
    expect(count).to.equal(2);
    const summary = recorder.summary(['tag', 'n']).map((s) => ({ ...s, oldRecords: s.oldRecords.map((r) => [r.tag, r.n]).sort() }));
    expect(summary).to.deep.equal(
      ['validateDelete', 'beforeDelete', 'afterDelete'].map((event) => ({
        event,
        model: 'Loose',
        operation: 'destroy',
        via: 'model',
        soft: false,
        newRecords: [],
        oldRecords: [
          ['x', 1],
          ['x', 1],
          ['x', 2],
        ],
        changedFields: [],
      })),
    );
    expect(new Set(recorder.transactions).size).to.equal(1);
    expect(await rowsOf()).to.deep.equal([['y', 3]]);
    expect(recorder.signals[0]!.oldRecords.every((r) => !Object.keys(r.get({ plain: true })).some((k) => k.startsWith('__bs')))).to.equal(
      true,
      'no library column reaches a record',
    );
  });

  it('Model.destroy with after receivers only: MariaDB deletes and returns the rows in one statement', async () => {
    recorder.off();
    const seen: unknown[][] = [];
    receivers.add(bulkSignals.on(Loose, 'afterDelete', ({ oldRecords }) => void seen.push(values(oldRecords).sort())));
    const { result, count } = await db.log.count(() => Loose.destroy({ where: { tag: 'x', n: 1 } }));
    expect(result).to.equal(2);
    expect(count).to.equal(perDialect({ postgres: 1, mariadb: 1, others: 2 }));
    expect(seen).to.deep.equal([
      [
        ['x', 1],
        ['x', 1],
      ],
    ]);
  });

  it('a veto in a before receiver leaves every row in place', async () => {
    const veto = new Error('no');
    receivers.add(
      bulkSignals.on(Loose, 'beforeDelete', () => {
        throw veto;
      }),
    );
    const error = await Loose.destroy({ where: { tag: 'x' } }).catch((e: unknown) => e);
    expect(error).to.equal(veto);
    expect(await rowsOf()).to.have.length(4);
  });

  it('Model.truncate delivers every row', async () => {
    await Loose.truncate();
    expect(after('afterDelete').map((s) => [s.operation, values(s.oldRecords).sort()])).to.deep.equal([
      [
        'truncate',
        [
          ['x', 1],
          ['x', 1],
          ['x', 2],
          ['y', 3],
        ],
      ],
    ]);
    expect(await Loose.count()).to.equal(0);
  });

  it('create and bulkCreate deliver the rows as inserted, database defaults included (MySQL: refused, nothing written)', async () => {
    const writes = async () => {
      await Loose.create({ tag: 'a' });
      await Loose.bulkCreate([{ tag: 'b', n: 1 }, { tag: 'c' }]);
    };
    if (onDialect('mysql')) {
      const error = await writes().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnsupportedOperationError);
      expect((error as UnsupportedOperationError).message).to.match(
        /^Loose has no primary key, .* so its instance inserts cannot be signalled/,
      );
      expect((error as UnsupportedOperationError).modelName).to.equal('Loose');
      expect((error as UnsupportedOperationError).event).to.equal('afterCreate');
      expect(await Loose.count()).to.equal(4, 'nothing written');
      return;
    }
    await writes();
    expect(after('afterCreate').map((s) => values(s.newRecords))).to.deep.equal([
      [['a', 7]],
      [
        ['b', 1],
        ['c', 7],
      ],
    ]);
  });

  it('Model.update pairs old and new rows by ctid (SQLite: rowid); refused on MariaDB/MySQL before anything is written', async () => {
    const run = () => Loose.update({ n: literal('n + 10') }, { where: { tag: 'x', n: { [Op.gt]: 1 } } });
    if (indistinct) {
      const error = await run().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnsupportedOperationError);
      expect((error as UnsupportedOperationError).message).to.match(
        /^Loose has no primary key, and on (mariadb|mysql) rows without one cannot be told apart, so its updates cannot be signalled; .*bypassSignals/,
      );
      expect((error as UnsupportedOperationError).event).to.equal('afterUpdate');
      expect(recorder.signals).to.deep.equal([]);
      expect(await rowsOf()).to.deep.equal([
        ['x', 1],
        ['x', 1],
        ['x', 2],
        ['y', 3],
      ]);
      expect(await Loose.update({ n: 0 }, { where: { tag: 'y' }, bypassSignals: true })).to.deep.equal([1]);
      return;
    }
    await run();
    const [signal] = after('afterUpdate');
    expect([values(signal!.oldRecords), values(signal!.newRecords), signal!.changedFields]).to.deep.equal([[['x', 2]], [['x', 12]], ['n']]);
  });

  (indistinct ? it : it.skip)(
    'MariaDB/MySQL: a row inserted meanwhile that matches the where waits for the delete, and is neither deleted nor signalled',
    async () => {
      const other = connect({}, false);
      try {
        const OtherLoose = defineLoose(other.sequelize, 'kl');
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => (entered = resolve));
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        receivers.add(
          bulkSignals.on(Loose, 'beforeDelete', async () => {
            entered();
            await held;
          }),
        );
        const deleting = Loose.destroy({ where: { tag: 'x' } });
        await inside;
        const inserting = OtherLoose.create({ tag: 'x', n: 9 });
        const raced = await Promise.race([inserting.then(() => 'inserted'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
        release();
        expect(await deleting).to.equal(3);
        await inserting;
        expect(raced).to.equal('waiting', "the insert waits for the delete's locks");
        expect(after('afterDelete').map((s) => s.oldRecords.length)).to.deep.equal([3]);
        expect(await rowsOf()).to.deep.equal([
          ['x', 9],
          ['y', 3],
        ]);
      } finally {
        await other.sequelize.close();
      }
    },
  );

  (indistinct ? it : it.skip)(
    'MariaDB/MySQL: a DELETE that removes other rows than the locked read held fails with ConcurrentWriteError, nothing signalled',
    async () => {
      // A receiver adds a matching row between the locked read and the DELETE, in the call's transaction: what a
      // concurrent commit could do inside a caller's READ COMMITTED transaction (no gap locks there).
      receivers.add(
        bulkSignals.on(Loose, 'beforeDelete', async ({ transaction }) => {
          await Loose.create({ tag: 'x', n: 5 }, { transaction, bypassSignals: true });
        }),
      );
      const error = await Loose.destroy({ where: { tag: 'x' } }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConcurrentWriteError);
      expect((error as Error).message).to.match(/^Loose\.destroy: the statement removed 4 row\(s\) where the locked read held 3/);
      expect(after('afterDelete')).to.deep.equal([]);
      expect(await rowsOf()).to.have.length(4, 'rolled back');
    },
  );

  it('instance writes of such a model are refused on MariaDB/MySQL (Sequelize writes them by the last find’s where)', async () => {
    const loaded = (await Loose.findOne({ where: { tag: 'y' } }))!;
    const error = await loaded
      .destroy()
      .then(() => undefined)
      .catch((e: unknown) => e);
    if (indistinct) {
      expect(error).to.be.instanceOf(UnsupportedOperationError);
      expect((error as Error).message).to.match(/so its instance deletes cannot be signalled/);
      expect(await rowsOf()).to.have.length(4);
    } else {
      expect(error).to.equal(undefined);
      expect(after('afterDelete').map((s) => values(s.oldRecords))).to.deep.equal([[['y', 3]]]);
    }
  });
});

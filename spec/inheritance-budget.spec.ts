import { expect } from 'chai';
import { Op, type Model, type ModelStatic } from 'sequelize';
import { bulkSignals, bulkUpdate } from '../lib';
import { perDialect, resetTables, useDatabase } from './support/database';
import { Pizzeria, Place, Restaurant, defineInheritance } from './support/inheritance-models';
import { Receivers } from './support/recorder';

type Listening = 'none' | 'after' | 'all';

/**
 * Statements per path of a child model (`inherit`), transaction control not counted: one statement per table the
 * write touches, plus the library's reads, and never one per row — each path is counted for 1 row and for 40
 * rows. Counts: PostgreSQL (every statement returns its rows), MariaDB (INSERT … RETURNING, the rest read back),
 * MySQL and SQLite (inserted rows found again by their generated keys, then read back).
 */
describe('statement budget of inherited models (per table touched, never per row)', function () {
  this.timeout(120000);
  const db = useDatabase('inbud', defineInheritance);
  const receivers = new Receivers();

  const seed = async (n: number) => {
    await resetTables(Pizzeria, Restaurant, Place);
    await Restaurant.bulkCreate(
      Array.from({ length: n }, (_, i) => ({ name: `r${i}`, seats: i })),
      { bypassSignals: true },
    );
    await Pizzeria.bulkCreate(
      Array.from({ length: n }, (_, i) => ({ name: `p${i}`, seats: i, crust: 'thin' })),
      { bypassSignals: true },
    );
  };
  const listen = (mode: Listening, models: ModelStatic<Model>[] = [Restaurant]) => {
    if (mode === 'none') return;
    for (const model of models) {
      for (const family of ['Create', 'Update', 'Delete'] as const) {
        if (mode === 'all') receivers.add(bulkSignals.on(model, `before${family}`, () => undefined));
        receivers.add(bulkSignals.on(model, `after${family}`, () => undefined));
      }
    }
  };
  afterEach(() => receivers.clear());

  /** [path, prepare for n rows (returns the write to count), statements by listening mode: PostgreSQL, MariaDB, MySQL, SQLite]. */
  type Cost = Record<Listening, { postgres: number; mariadb: number; mysql: number; sqlite: number }>;
  const same = (postgres: number, mariadb: number, mysql: number, sqlite: number) => ({ postgres, mariadb, mysql, sqlite });
  const paths: [string, (n: number) => Promise<() => Promise<unknown>> | (() => Promise<unknown>), Cost][] = [
    [
      'Restaurant.bulkCreate (2 tables)',
      (n) => () => Restaurant.bulkCreate(Array.from({ length: n }, (_, i) => ({ name: `n${i}` }))),
      { none: same(2, 2, 3, 4), after: same(2, 2, 4, 5), all: same(2, 2, 4, 5) },
    ],
    [
      'Pizzeria.bulkCreate (3 tables)',
      (n) => () => Pizzeria.bulkCreate(Array.from({ length: n }, (_, i) => ({ name: `n${i}` }))),
      { none: same(3, 3, 4, 5), after: same(3, 3, 5, 6), all: same(3, 3, 5, 6) },
    ],
    [
      'Restaurant.update where (both tables)',
      (n) => () => Restaurant.update({ rating: 1, seats: 2 }, { where: { seats: { [Op.lt]: n } } }),
      { none: same(3, 3, 3, 3), after: same(4, 4, 4, 4), all: same(4, 4, 4, 4) },
    ],
    [
      'Restaurant.increment where',
      (n) => () => Restaurant.increment({ seats: 1, rating: 1 }, { where: { seats: { [Op.lt]: n } } }),
      // PostgreSQL's increment returns the rows it wrote (Sequelize's RETURNING *): they are read through the join.
      { none: same(4, 3, 3, 3), after: same(5, 4, 4, 4), all: same(5, 4, 4, 4) },
    ],
    [
      'Restaurant.destroy where (leaf first)',
      (n) => () => Restaurant.destroy({ where: { seats: { [Op.lt]: n } } }),
      { none: same(3, 3, 3, 3), after: same(3, 3, 3, 3), all: same(3, 3, 3, 3) },
    ],
    [
      'bulkUpdate(Restaurant) (both tables)',
      async (n) => {
        const rows = await Restaurant.findAll({ where: { seats: { [Op.lt]: n } } });
        for (const r of rows) {
          r.seats = 99;
          r.rating = 2;
        }
        return () => bulkUpdate(Restaurant, rows);
      },
      { none: same(3, 3, 3, 3), after: same(4, 4, 4, 4), all: same(4, 4, 4, 4) },
    ],
  ];

  for (const [path, run, cost] of paths) {
    for (const mode of ['none', 'after', 'all'] as const) {
      const expected = perDialect({ ...cost[mode], others: 0 });
      it(`${path}, ${mode === 'none' ? 'no receivers' : mode === 'after' ? 'after receivers only' : 'before and after receivers'}: ${expected} statement(s) for 1 row and for 40`, async () => {
        const counts: number[] = [];
        for (const n of [1, 40]) {
          await seed(40);
          const write = await run(n);
          listen(mode);
          counts.push((await db.log.count(write)).count);
          receivers.clear();
        }
        expect(counts, path).to.deep.equal([expected, expected]);
      });
    }
  }

  it('a Place write with receivers on Restaurant reads the restaurants among its rows once, locked; without them, nothing more', async () => {
    await seed(5);
    listen('after', [Place]);
    const placeOnly = await db.log.count(() => Place.update({ rating: 3 }, { where: {} }));
    listen('after', [Restaurant]);
    const withChild = await db.log.count(() => Place.update({ rating: 4 }, { where: {} }));
    // PostgreSQL's after-only update is one statement; with a child listening it reads first, then the children.
    expect([placeOnly.count, withChild.count]).to.deep.equal(perDialect({ postgres: [1, 4], others: [3, 5] }));
  });

  it('reads through the join are one statement: findAll, findOne, count', async () => {
    await seed(3);
    const { count } = await db.log.count(async () => {
      await Pizzeria.findAll({ where: { name: { [Op.like]: 'p%' }, crust: 'thin' } });
      await Restaurant.findOne({ where: { name: 'r1' } });
      await Restaurant.count();
    });
    expect(count).to.equal(3);
  });
});

import { expect } from 'chai';
import { QueryTypes, type Sequelize } from 'sequelize';
import { bulkSignals } from '../lib';
import { connect, onDialect, type TestDatabase } from './support/database';
import { Tag, defineModels } from './support/models';

/**
 * Where an INSERT returns no rows (MariaDB/MySQL), the ids the database numbered are found from
 * LAST_INSERT_ID(): InnoDB numbers the rows of one statement from a block it reserves for it, in row order,
 * `auto_increment_increment` apart. Here the increment is 3 (as on a Galera cluster), rows with explicit ids sit
 * between generated ones, and conflicting rows use up numbers: every id a signal carries must be the table's.
 */
(onDialect('mariadb', 'mysql') ? describe : describe.skip)('generated ids without RETURNING', () => {
  let db: TestDatabase;
  let admin: Sequelize;
  let seen: [string, number][];

  before(async () => {
    admin = connect({}, false).sequelize;
    await admin.query('SET GLOBAL auto_increment_increment = 3');
    // Connections made from now on take the server's setting.
    db = connect();
    defineModels(db.sequelize, 'gid');
    await db.sequelize.sync({ force: true });
    const [row] = await db.sequelize.query<{ i: number | string }>('SELECT @@auto_increment_increment AS i', { type: QueryTypes.SELECT });
    expect(Number(row!.i)).to.equal(3);
  });
  after(async () => {
    await admin.query('SET GLOBAL auto_increment_increment = 1');
    await db.sequelize.close();
    await admin.close();
  });
  beforeEach(() => {
    seen = [];
  });

  const listen = () =>
    bulkSignals.on(Tag, 'afterCreate', ({ newRecords }) => {
      for (const r of newRecords) seen.push([r.slug, r.id]);
    });
  const table = async () => Object.fromEntries((await Tag.findAll()).map((t) => [t.slug, t.id]));

  it('bulkCreate: generated ids 3 apart, explicit ids in between, in the rows the signal carries', async () => {
    const off = listen();
    try {
      await Tag.bulkCreate([{ slug: 'g1' }, { id: 1000, slug: 'e1' }, { slug: 'g2' }, { slug: 'g3' }]);
      await Tag.bulkCreate([{ slug: 'g4' }, { slug: 'g5' }]);
    } finally {
      off();
    }
    const ids = await table();
    expect(Object.fromEntries(seen)).to.deep.equal(ids);
    expect(seen.map(([slug]) => slug)).to.deep.equal(['g1', 'e1', 'g2', 'g3', 'g4', 'g5']);
    // The server's numbering this spec relies on: 3 apart, and past the explicit id once it went by it.
    expect(ids.g3! - ids.g2!).to.equal(3);
    expect(ids.g2).to.be.above(1000);
  });

  it('ignoreDuplicates and updateOnDuplicate: conflicting rows use up numbers; only the rows inserted are creates, with their ids', async () => {
    await Tag.bulkCreate([{ slug: 'a' }, { slug: 'b' }], { bypassSignals: true });
    const off = listen();
    try {
      await Tag.bulkCreate([{ slug: 'a' }, { slug: 'n1' }, { slug: 'b' }, { slug: 'n2' }], { ignoreDuplicates: true });
      await Tag.bulkCreate([{ slug: 'n3' }, { slug: 'a', label: 'A' }, { slug: 'n4' }], { updateOnDuplicate: ['label'] });
    } finally {
      off();
    }
    const ids = await table();
    expect(seen).to.deep.equal(['n1', 'n2', 'n3', 'n4'].map((slug) => [slug, ids[slug]]));
  });
});

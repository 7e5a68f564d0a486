// `npm run profile:update`: where the time of a 1000-row Model.update goes — the vanilla UPDATE, the same with
// RETURNING, the locked read, an empty transaction, and the library with after-only and before+after receivers
// (medians of 15, on a throwaway PostgreSQL 18). The README's "where the time goes" paragraph comes from here.
import { DataTypes, Model, Sequelize, type ModelStatic } from 'sequelize';
import { bulkSignals, installBulkSignals } from '../lib';
// @ts-expect-error -- esm helper
import { startDatabase } from './database.mjs';
async function main() {
  const db = await startDatabase('embedded');
  const s = new Sequelize(db.url, { logging: false });
  installBulkSignals(s, { warnOnMultipleReceivers: false });
  class Item extends Model {}
  Item.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: DataTypes.STRING,
      status: DataTypes.STRING,
      counter: DataTypes.INTEGER,
    },
    { sequelize: s, tableName: 'prof' },
  );
  await s.sync({ force: true });
  const I = Item as ModelStatic<Model>;
  await I.bulkCreate(Array.from({ length: 1000 }, (_, i) => ({ name: 'n' + i, status: 'a', counter: i })));
  const time = async (label: string, fn: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let r = 0; r < 15; r++) {
      const t0 = process.hrtime.bigint();
      await fn();
      xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    xs.sort((a, b) => a - b);
    console.log(label.padEnd(40), xs[7]!.toFixed(2));
  };
  await time('vanilla update', () => I.update({ status: 'x' }, { where: {}, bypassSignals: true }));
  await time('update returning raw', () =>
    I.update({ status: 'x' }, { where: {}, returning: true, raw: true, bypassSignals: true } as never),
  );
  await time('findAll raw lock (tx)', () =>
    s.transaction((t) => I.findAll({ raw: true, lock: true, transaction: t, order: [['id', 'ASC']] })),
  );
  await time('findAll raw', () => I.findAll({ raw: true }));
  await time('raw query select *', () => s.query('SELECT * FROM prof ORDER BY id FOR UPDATE'));
  await time('empty transaction', () => s.transaction(() => Promise.resolve(undefined)));
  const off = bulkSignals.on(I, 'afterUpdate', () => undefined);
  await time('lib after only', () => I.update({ status: 'x' }, { where: {} }));
  const off2 = bulkSignals.on(I, 'beforeUpdate', () => undefined);
  await time('lib before+after', () => I.update({ status: 'x' }, { where: {} }));
  off();
  off2();
  await s.close();
  await db.stop();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});

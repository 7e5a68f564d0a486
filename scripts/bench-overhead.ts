// `npm run bench:overhead`: what installing the library costs a call nobody listens to. The same small calls
// (one row or none, where a 1 000-row bench's ratio is mostly noise) through vanilla Sequelize and through an
// installed instance without receivers, in alternating blocks on one table; prints each call's median time
// per call and the difference. A throwaway PostgreSQL unless DATABASE_URL is set.
//   BENCH_CALLS=300 calls per block (default)   BENCH_REPS=9 blocks per side (default)
import { DataTypes, Model, Sequelize, type ModelStatic } from 'sequelize';
import { installBulkSignals } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

const attributes = {
  id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
  name: DataTypes.STRING,
  counter: DataTypes.INTEGER,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const calls = Number(process.env.BENCH_CALLS ?? 300);
  const reps = Number(process.env.BENCH_REPS ?? 9);
  const db = process.env.DATABASE_URL ? undefined : ((await startDatabase('embedded')) as { url: string; stop: () => Promise<void> });
  const url = process.env.DATABASE_URL ?? db!.url;
  const vanilla = new Sequelize(url, { logging: false });
  const installed = new Sequelize(url, { logging: false });
  installBulkSignals(installed);
  class V extends Model {}
  V.init(attributes, { sequelize: vanilla, tableName: 'bench_overhead', modelName: 'Item' });
  class L extends Model {}
  L.init(attributes, { sequelize: installed, tableName: 'bench_overhead', modelName: 'Item' });
  try {
    await vanilla.sync({ force: true });
    await V.bulkCreate(Array.from({ length: 10 }, (_, i) => ({ name: `n${i}`, counter: i })));
    const paths: [string, (M: ModelStatic<Model>, i: number) => Promise<unknown>][] = [
      ['Model.update, one row', (M, i) => M.update({ counter: i }, { where: { id: 1 } })],
      ['Model.increment, one row', (M) => M.increment('counter', { where: { id: 2 } })],
      ['Model.destroy, no row', (M) => M.destroy({ where: { id: -1 } })],
      ['Model.create', (M, i) => M.create({ name: `c${i}`, counter: i })],
      ['instance.save', async (M, i) => (await M.findByPk(3))!.set('counter', i).save()],
      ['Model.findAll, one row', (M) => M.findAll({ where: { id: 4 } })],
    ];
    console.log(`${calls} calls per block, ${reps} blocks per side, alternating; median µs per call`);
    console.log(`${'call'.padEnd(28)}${'vanilla'.padStart(9)}${'installed'.padStart(11)}${'difference'.padStart(12)}`);
    for (const [name, call] of paths) {
      const times: Record<'V' | 'L', number[]> = { V: [], L: [] };
      for (let rep = -1; rep < reps; rep++) {
        const order: ['V' | 'L', ModelStatic<Model>][] =
          rep % 2
            ? [
                ['V', V],
                ['L', L],
              ]
            : [
                ['L', L],
                ['V', V],
              ];
        for (const [side, M] of order) {
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < calls; i++) await call(M, i);
          // The first block of each side warms up and is not recorded.
          if (rep >= 0) times[side].push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
        }
      }
      const [v, l] = [median(times.V), median(times.L)];
      console.log(
        `${name.padEnd(28)}${v.toFixed(0).padStart(9)}${l.toFixed(0).padStart(11)}${`${l - v >= 0 ? '+' : ''}${(l - v).toFixed(0)}`.padStart(12)}`,
      );
    }
  } finally {
    await vanilla.close();
    await installed.close();
    await db?.stop();
  }
}

void main();

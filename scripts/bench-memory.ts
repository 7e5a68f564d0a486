// `npm run bench:memory`: peak memory of one where-update with before+after receivers over N rows, with and
// without `chunkSize`, each in a fresh child process (peak RSS growth over the run, from the OS's maxRSS).
//   BENCH_MEMORY_N=10000,100000 (default)   BENCH_MEMORY_CHUNK=1000 (default)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DataTypes, Model, Sequelize } from 'sequelize';
import { bulkSignals, installBulkSignals } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

async function child(url: string, n: number, chunk: number | undefined): Promise<void> {
  const sequelize = new Sequelize(url, { logging: false });
  installBulkSignals(sequelize);
  class Item extends Model {}
  Item.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: DataTypes.STRING,
      counter: DataTypes.INTEGER,
    },
    { sequelize, tableName: 'bench_memory_items', timestamps: false },
  );
  await sequelize.sync({ force: true });
  // Seeded in SQL, so the seed itself builds nothing in this process.
  await sequelize.query(`INSERT INTO bench_memory_items (name, counter) SELECT 'n' || g, g FROM generate_series(1, ${n}) g`);
  let seen = 0;
  bulkSignals.on(Item, 'beforeUpdate', ({ newRecords }) => {
    seen += newRecords.length;
  });
  bulkSignals.on(Item, 'afterUpdate', () => undefined);
  const before = process.resourceUsage().maxRSS;
  const t0 = process.hrtime.bigint();
  await Item.update({ name: 'x' }, { where: {}, ...(chunk ? { chunkSize: chunk } : {}) });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const after = process.resourceUsage().maxRSS;
  console.log(
    JSON.stringify({
      n,
      chunk: chunk ?? null,
      signalled: seen,
      peakGrowthMB: Number(((after - before) / 1024).toFixed(1)),
      ms: Math.round(ms),
    }),
  );
  await sequelize.close();
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') {
    await child(process.env.DATABASE_URL!, Number(process.argv[3]), process.argv[4] ? Number(process.argv[4]) : undefined);
    return;
  }
  const ns = (process.env.BENCH_MEMORY_N ?? '10000,100000').split(',').map(Number);
  const chunk = Number(process.env.BENCH_MEMORY_CHUNK ?? 1000);
  const db = process.env.DATABASE_URL ? undefined : await startDatabase('embedded');
  const url: string = process.env.DATABASE_URL ?? db.url;
  const tsx = path.join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  console.log('rows      chunkSize  signalled  peak RSS growth  ms');
  try {
    for (const n of ns) {
      for (const c of [undefined, chunk]) {
        const res = spawnSync(process.execPath, [tsx, __filename, 'child', String(n), c ? String(c) : ''], {
          env: { ...process.env, DATABASE_URL: url },
          encoding: 'utf8',
        });
        if (res.status !== 0) throw new Error(res.stderr);
        const r = JSON.parse(res.stdout.trim().split('\n').pop()!) as {
          n: number;
          chunk: number | null;
          signalled: number;
          peakGrowthMB: number;
          ms: number;
        };
        console.log(
          `${String(r.n).padEnd(9)} ${String(r.chunk ?? '—').padEnd(10)} ${String(r.signalled).padEnd(10)} ${`${r.peakGrowthMB} MB`.padEnd(16)} ${r.ms}`,
        );
      }
    }
  } finally {
    if (db) await db.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

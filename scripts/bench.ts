// `npm run bench`: wall-clock and statement counts of vanilla Sequelize, Sequelize with individualHooks, and
// this library, interleaved in one run on a real PostgreSQL (a throwaway PostgreSQL 18 unless DATABASE_URL
// is set). Prints medians, ratios to vanilla, statements and peak heap growth; writes bench-results/*.json.
//
//   BENCH_N=100,1000,10000  row counts (default 100,1000,10000)   BENCH_REPS=5  repetitions per case (default 5)
//   BENCH_ONLY=bulkUpdate   run only groups whose name contains this
//   BENCH_CHART=docs/bench.svg  also draw the N=1000 ratios as an SVG bar chart (BENCH_FROM=file.json: redraw only)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataTypes, Model, Sequelize, type ModelStatic } from 'sequelize';
import { bulkSignals, bulkUpdate, installBulkSignals } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';

class Item extends Model {
  declare id: number;
  declare name: string;
  declare status: string;
  declare counter: number;
}

const attributes = {
  id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
  name: { type: DataTypes.STRING, allowNull: false },
  status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'new' },
  counter: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
};

interface Case {
  group: string;
  name: string;
  /** The vanilla case of the group, ratios are against it. */
  baseline?: boolean;
  setup?: () => void | Promise<void>;
  run: (n: number) => Promise<unknown>;
  teardown?: () => void;
  /** Skip above this N (one UPDATE per row gets slow). */
  maxN?: number;
  /** run() resolves to its own timing in ms (it loads instances first, untimed). */
  selfTimed?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function main(): Promise<void> {
  if (process.env.BENCH_FROM && process.env.BENCH_CHART) {
    // Redraw the chart from a saved result file, without running anything.
    const saved = JSON.parse(readFileSync(process.env.BENCH_FROM, 'utf8')) as {
      serverVersion: string;
      reps: number;
      results: (Parameters<typeof chart>[0][number] & { n: number })[];
    };
    writeFileSync(
      process.env.BENCH_CHART,
      chart(
        saved.results.filter((r) => r.n === 1000),
        saved.serverVersion,
        saved.reps,
      ),
    );
    return;
  }
  const ns = (process.env.BENCH_N ?? '100,1000,10000').split(',').map(Number);
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const only = process.env.BENCH_ONLY;
  const db = process.env.DATABASE_URL ? undefined : await startDatabase('embedded');
  const url: string = process.env.DATABASE_URL ?? db.url;
  let counting = false;
  let statements = 0;
  const logging = (sql: string) => {
    if (counting && !/START TRANSACTION|COMMIT|ROLLBACK|SAVEPOINT/.test(sql)) statements++;
  };
  const vanilla = new Sequelize(url, { logging, pool: { max: 5 } });
  const lib = new Sequelize(url, { logging, pool: { max: 5 } });
  installBulkSignals(lib, { warnOnMultipleReceivers: false });
  const V = vanilla.define('Item', attributes, { tableName: 'bench_items' }) as unknown as ModelStatic<Item>;
  class LibItem extends Item {}
  LibItem.init(attributes, { sequelize: lib, tableName: 'bench_items', modelName: 'Item' });
  const L = LibItem as unknown as ModelStatic<Item>;
  await vanilla.sync({ force: true });
  const serverVersion = ((await vanilla.query('SHOW server_version', { plain: true })) as { server_version: string }).server_version;

  let offs: (() => void)[] = [];
  const listen =
    (events: ('before' | 'after')[], family: 'Create' | 'Update' | 'Delete', perRow = false) =>
    () => {
      for (const phase of events) {
        offs.push(
          bulkSignals.on(
            L,
            `${phase}${family}`,
            phase === 'before' && perRow
              ? ({ newRecords }) => {
                  for (const r of newRecords) r.name = `${r.name}!`;
                }
              : () => undefined,
          ),
        );
      }
    };
  const off = () => {
    for (const o of offs) o();
    offs = [];
  };
  const trivialHook = (instance: Item) => {
    void instance;
  };
  const perRowHook = (instance: Item) => {
    instance.name = `${instance.name}!`;
  };
  const withHook = (type: 'beforeUpdate' | 'beforeDestroy' | 'beforeCreate', fn: (i: Item) => void) => () => {
    V.addHook(type, 'bench', fn as never);
  };
  const dropHook = (type: 'beforeUpdate' | 'beforeDestroy' | 'beforeCreate') => () => {
    V.removeHook(type, 'bench');
  };
  const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `n${i}`, counter: i }));

  const all: Case[] = [
    { group: 'update-by-where', name: 'vanilla Model.update', baseline: true, run: () => V.update({ status: 'x' }, { where: {} }) },
    {
      group: 'update-by-where',
      name: 'individualHooks, trivial hook',
      setup: withHook('beforeUpdate', trivialHook),
      teardown: dropHook('beforeUpdate'),
      run: () => V.update({ status: 'x' }, { where: {}, individualHooks: true }),
    },
    {
      group: 'update-by-where',
      name: 'individualHooks, per-row hook',
      maxN: 1000,
      setup: withHook('beforeUpdate', perRowHook),
      teardown: dropHook('beforeUpdate'),
      run: () => V.update({ status: 'x' }, { where: {}, individualHooks: true }),
    },
    { group: 'update-by-where', name: 'library, no receivers', run: () => L.update({ status: 'x' }, { where: {} }) },
    {
      group: 'update-by-where',
      name: 'library, after only',
      setup: listen(['after'], 'Update'),
      teardown: off,
      run: () => L.update({ status: 'x' }, { where: {} }),
    },
    {
      group: 'update-by-where',
      name: 'library, before+after',
      setup: listen(['before', 'after'], 'Update'),
      teardown: off,
      run: () => L.update({ status: 'x' }, { where: {} }),
    },
    {
      group: 'update-by-where',
      name: 'library, before+after, chunks of 1000',
      setup: listen(['before', 'after'], 'Update'),
      teardown: off,
      run: () => L.update({ status: 'x' }, { where: {}, chunkSize: 1000 }),
    },
    {
      group: 'update-by-where',
      name: 'library, per-row before edits',
      setup: listen(['before', 'after'], 'Update', true),
      teardown: off,
      run: () => L.update({ status: 'x' }, { where: {} }),
    },

    { group: 'destroy-by-where', name: 'vanilla Model.destroy', baseline: true, run: () => V.destroy({ where: {} }) },
    {
      group: 'destroy-by-where',
      name: 'individualHooks, trivial hook',
      setup: withHook('beforeDestroy', trivialHook),
      teardown: dropHook('beforeDestroy'),
      run: () => V.destroy({ where: {}, individualHooks: true }),
    },
    { group: 'destroy-by-where', name: 'library, no receivers', run: () => L.destroy({ where: {} }) },
    {
      group: 'destroy-by-where',
      name: 'library, before+after',
      setup: listen(['before', 'after'], 'Delete'),
      teardown: off,
      run: () => L.destroy({ where: {} }),
    },

    { group: 'bulkCreate', name: 'vanilla Model.bulkCreate', baseline: true, run: (n) => V.bulkCreate(rows(n)) },
    {
      group: 'bulkCreate',
      name: 'individualHooks, trivial hook',
      maxN: 1000,
      setup: withHook('beforeCreate', trivialHook),
      teardown: dropHook('beforeCreate'),
      run: (n) => V.bulkCreate(rows(n), { individualHooks: true }),
    },
    { group: 'bulkCreate', name: 'library, no receivers', run: (n) => L.bulkCreate(rows(n)) },
    {
      group: 'bulkCreate',
      name: 'library, before+after',
      setup: listen(['before', 'after'], 'Create'),
      teardown: off,
      run: (n) => L.bulkCreate(rows(n)),
    },

    { group: 'increment', name: 'vanilla Model.increment', baseline: true, run: () => V.increment('counter', { where: {} }) },
    { group: 'increment', name: 'library, no receivers', run: () => L.increment('counter', { where: {} }) },
    {
      group: 'increment',
      name: 'library, before+after',
      setup: listen(['before', 'after'], 'Update'),
      teardown: off,
      run: () => L.increment('counter', { where: {} }),
    },

    {
      group: 'bulkUpdate',
      name: 'loop of instance.save()',
      baseline: true,
      maxN: 1000,
      selfTimed: true,
      run: async () => {
        const items = await V.findAll({ order: [['id', 'ASC']] });
        items.forEach((r, i) => {
          r.counter = i * 3;
        });
        const t0 = process.hrtime.bigint();
        for (const item of items) await item.save();
        return Number(process.hrtime.bigint() - t0) / 1e6;
      },
    },
    {
      group: 'bulkUpdate',
      name: 'bulkUpdate, no receivers',
      selfTimed: true,
      run: async () => {
        const items = await L.findAll({ order: [['id', 'ASC']] });
        items.forEach((r, i) => {
          r.counter = i * 3;
        });
        const t0 = process.hrtime.bigint();
        await bulkUpdate(L, items);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      },
    },
    {
      group: 'bulkUpdate',
      name: 'bulkUpdate, before+after',
      selfTimed: true,
      setup: listen(['before', 'after'], 'Update'),
      teardown: off,
      run: async () => {
        const items = await L.findAll({ order: [['id', 'ASC']] });
        items.forEach((r, i) => {
          r.counter = i * 3;
        });
        const t0 = process.hrtime.bigint();
        await bulkUpdate(L, items);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      },
    },
  ];
  const cases = all.filter((c) => !only || c.group.includes(only));

  const results: { n: number; group: string; name: string; statements: number; medianMs: number; ratio: number; peakHeapMB: number }[] = [];
  for (const n of ns) {
    const times = new Map<Case, number[]>();
    const counts = new Map<Case, number>();
    const heaps = new Map<Case, number>();
    const active = cases.filter((c) => !c.maxN || n <= c.maxN);
    for (let rep = 0; rep < reps; rep++) {
      for (const c of active) {
        // interleaved: every case once per repetition
        await V.truncate({ restartIdentity: true });
        if (c.group !== 'bulkCreate') await V.bulkCreate(rows(n));
        await c.setup?.();
        global.gc?.();
        const heapBefore = process.memoryUsage().heapUsed;
        let peak = heapBefore;
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage().heapUsed);
        }, 2);
        statements = 0;
        counting = true;
        const t0 = process.hrtime.bigint();
        let inner: unknown;
        try {
          inner = await c.run(n);
        } finally {
          counting = false;
          clearInterval(sampler);
          c.teardown?.();
        }
        const ms = c.selfTimed ? (inner as number) : Number(process.hrtime.bigint() - t0) / 1e6;
        peak = Math.max(peak, process.memoryUsage().heapUsed);
        (times.get(c) ?? times.set(c, []).get(c)!).push(ms);
        // bulkUpdate cases count their findAll too; report the write's own statements.
        counts.set(c, c.group === 'bulkUpdate' ? statements - 1 : statements);
        heaps.set(c, Math.max(heaps.get(c) ?? 0, (peak - heapBefore) / 2 ** 20));
      }
    }
    for (const c of active) {
      // The baseline may be skipped at this N (a save loop at 10 000 rows): then there is no ratio.
      const base = active.find((b) => b.group === c.group && b.baseline);
      const m = median(times.get(c)!);
      results.push({
        n,
        group: c.group,
        name: c.name,
        statements: counts.get(c)!,
        medianMs: Number(m.toFixed(2)),
        ratio: base ? Number((m / median(times.get(base)!)).toFixed(2)) : Number.NaN,
        peakHeapMB: Number(heaps.get(c)!.toFixed(1)),
      });
    }
  }

  console.log(`PostgreSQL ${serverVersion}, ${reps} interleaved repetitions, Node ${process.version}\n`);
  console.log(
    `${'N'.padStart(6)}  ${'group'.padEnd(17)} ${'case'.padEnd(32)} ${'stmts'.padStart(6)} ${'median ms'.padStart(10)} ${'× baseline'.padStart(11)} ${'heap MB'.padStart(8)}`,
  );
  for (const r of results) {
    console.log(
      `${String(r.n).padStart(6)}  ${r.group.padEnd(17)} ${r.name.padEnd(32)} ${String(r.statements).padStart(6)} ${r.medianMs.toFixed(2).padStart(10)} ${(Number.isNaN(r.ratio) ? '—' : r.ratio.toFixed(2)).padStart(11)} ${r.peakHeapMB.toFixed(1).padStart(8)}`,
    );
  }
  const dir = path.join(__dirname, '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ serverVersion, node: process.version, reps, results }, null, 2));
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  if (process.env.BENCH_CHART) {
    writeFileSync(
      process.env.BENCH_CHART,
      chart(
        results.filter((r) => r.n === 1000),
        serverVersion,
        reps,
      ),
    );
    console.log(`wrote ${process.env.BENCH_CHART}`);
  }
  await vanilla.close();
  await lib.close();
  if (db) await db.stop();
}

/** A horizontal bar chart of median ms at N = 1000, one bar per case, grouped, with the ratio to the group's baseline. */
function chart(
  rows: { group: string; name: string; statements: number; medianMs: number; ratio: number }[],
  version: string,
  reps: number,
): string {
  const barH = 18;
  const gap = 6;
  const left = 330;
  const width = 900;
  const max = Math.max(...rows.map((r) => r.medianMs));
  const scale = (ms: number) => Math.max(1, (Math.log10(1 + ms) / Math.log10(1 + max)) * (width - left - 230));
  let y = 40;
  const parts: string[] = [];
  let group = '';
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      y += 10;
      parts.push(`<text x="10" y="${y + 12}" font-weight="bold">${group}</text>`);
      y += barH + gap;
    }
    const colour = r.name.startsWith('library') || r.name.startsWith('bulkUpdate') ? '#2b7bb9' : '#b0b0b0';
    const w = scale(r.medianMs);
    parts.push(`<text x="20" y="${y + 13}">${r.name.replace(/&/g, '&amp;')}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colour}"/>`);
    parts.push(
      `<text x="${left + w + 6}" y="${y + 13}">${r.medianMs.toFixed(1)} ms · ${r.ratio.toFixed(2)}× · ${r.statements} stmt</text>`,
    );
    y += barH + gap;
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 20}" font-family="sans-serif" font-size="12">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<text x="10" y="20" font-size="14" font-weight="bold">1000 rows, PostgreSQL ${version}, median of ${reps} interleaved runs (log scale; ratio to the group's first bar)</text>` +
    `${parts.join('')}</svg>\n`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

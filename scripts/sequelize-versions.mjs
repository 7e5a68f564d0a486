#!/usr/bin/env node
// `npm run test:sequelize-versions [-- 6.30.0 6.37.8 …]`: runs the suite and the type tests against other
// Sequelize 6 releases, each in a scratch copy of this checkout whose node_modules differ only in `sequelize`.
//
// The type tests are what an application compiles: spec/types against the declarations the package ships
// (built once, here, and put in place of lib/ in the copy), with that release's Sequelize types. Errors inside
// Sequelize's own declaration files are not counted (some releases do not compile under TypeScript 5.9 with
// skipLibCheck off); errors in ours or in the type tests are. The whole-project type check of the specs and
// scripts (spec/types.spec.ts) is a development check against the Sequelize in package.json, so it is left to
// `npm test`, as is spec/package.spec.ts (the packed project installs its own Sequelize).
//
// Without arguments: the newest patch of every 6.x minor on the registry. With `--supported-ends`: the oldest
// and newest release the peer range (package.json) allows — what CI runs. Versions the peer range allows
// must pass; the others are run and reported, so the table shows where the floor is and why.
// DATABASE_URL and TEST_PG are honoured as by `npm test` (one server for every version).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { startDatabase } from './database.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const range = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).peerDependencies.sequelize;
// Packaging is not version-dependent (the packed project installs its own Sequelize): left to `npm test`.
const SKIPPED_SPECS = new Set(['spec/package.spec.ts', 'spec/types.spec.ts']);

function sh(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (res.status !== 0 && !options.allowFailure) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}):\n${res.stdout}\n${res.stderr}`);
  }
  return res;
}

function published() {
  const all = JSON.parse(sh('npm', ['view', 'sequelize', 'versions', '--json']).stdout);
  return all.filter((v) => semver.valid(v) && semver.major(v) === 6 && !semver.prerelease(v));
}

function newestPerMinor(versions) {
  const byMinor = new Map();
  for (const v of versions) byMinor.set(semver.minor(v), v);
  return [...byMinor.values()].sort(semver.compare);
}

function chooseVersions(args) {
  if (args.includes('--supported-ends')) {
    const supported = published().filter((v) => semver.satisfies(v, range));
    return [supported[0], supported[supported.length - 1]];
  }
  return args.length > 0 ? args : newestPerMinor(published());
}

/** A scratch copy of the checkout (tracked and new files) with a copy of node_modules, then `sequelize@version`. */
function workspace(version) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bulk-signals-sequelize-${version}-`));
  const files = sh('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root })
    .stdout.split('\n')
    .filter((f) => f && !f.startsWith('node_modules/'));
  for (const file of files) cpSync(path.join(root, file), path.join(dir, file), { recursive: true });
  // A real copy: npm rewrites some files in place (its hidden lockfile), which would write through hard links.
  sh('cp', ['-a', path.join(root, 'node_modules'), path.join(dir, 'node_modules')]);
  sh('npm', ['install', '--save-exact', '--no-audit', '--no-fund', '--ignore-scripts', `sequelize@${version}`], { cwd: dir });
  const installed = JSON.parse(readFileSync(path.join(dir, 'node_modules', 'sequelize', 'package.json'), 'utf8')).version;
  if (installed !== version) throw new Error(`asked npm for sequelize@${version} in ${dir}, got ${installed}`);
  // Mocha adds command-line specs to the configured ones: the scratch config names none.
  const config = JSON.parse(readFileSync(path.join(dir, '.mocharc.json'), 'utf8'));
  delete config.spec;
  writeFileSync(path.join(dir, '.mocharc.json'), JSON.stringify(config));
  return dir;
}

/** spec/types compiled against the shipped declarations (from dist/cjs) and this Sequelize's types. */
function runTypeTests(dir) {
  rmSync(path.join(dir, 'lib'), { recursive: true, force: true });
  cpSync(path.join(root, 'dist', 'cjs'), path.join(dir, 'lib'), { recursive: true, filter: (f) => !/\.(js|map)$/.test(f) });
  const res = sh(
    process.execPath,
    [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--skipLibCheck', 'false', '-p', 'spec/types/tsconfig.json'],
    { cwd: dir, allowFailure: true },
  );
  const errors = `${res.stdout}${res.stderr}`.split('\n').filter((line) => /error TS\d+/.test(line));
  const ours = errors.filter((line) => !line.startsWith('node_modules/') && !line.startsWith('../'));
  return { ok: ours.length === 0, errors: ours.slice(0, 6), theirs: errors.length - ours.length };
}

function runSuite(dir, url) {
  const specs = sh('git', ['ls-files', 'spec/*.spec.ts'], { cwd: root })
    .stdout.split('\n')
    .filter((f) => f && !SKIPPED_SPECS.has(f));
  const res = sh(process.execPath, [path.join(dir, 'node_modules', 'mocha', 'bin', 'mocha.js'), ...specs], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: url },
    allowFailure: true,
  });
  const output = `${res.stdout}${res.stderr}`;
  const summary = /(\d+) passed, (\d+) failed/.exec(output);
  const failures = [...output.matchAll(/^\s+\d+\) (.+)$/gm)].map((m) => m[1].trim());
  return {
    passed: summary ? Number(summary[1]) : 0,
    failed: summary ? Number(summary[2]) : 1,
    failures: [...new Set(failures)].slice(0, 6),
    output,
  };
}

const versions = chooseVersions(process.argv.slice(2));
// The declarations the type tests compile against: built from this checkout, with the Sequelize it develops on.
sh(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root });
const logDir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-sequelize-versions-'));
let db;
let url = process.env.DATABASE_URL;
if (!url) {
  db = await startDatabase();
  url = db.url;
  console.log(`Testing on a throwaway ${db.engine}`);
}
const rows = [];
try {
  for (const version of versions) {
    const started = Date.now();
    const dir = workspace(version);
    const suite = runSuite(dir, url);
    const types = runTypeTests(dir);
    rmSync(dir, { recursive: true, force: true });
    const result = {
      passed: suite.passed + (types.ok ? 1 : 0),
      failed: suite.failed + (types.ok ? 0 : 1),
      failures: [...suite.failures, ...types.errors.map((e) => `types: ${e}`)],
      output: suite.output,
      note: types.theirs ? ` (${types.theirs} error(s) inside Sequelize's own declarations, not counted)` : '',
    };
    const log = path.join(logDir, `${version}.log`);
    writeFileSync(log, result.output);
    const supported = semver.satisfies(version, range);
    rows.push({ version, supported, ...result, log });
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(
      `sequelize ${version.padEnd(7)} ${supported ? 'supported  ' : 'unsupported'} ${result.passed} passed, ${result.failed} failed (${seconds} s)${result.note}` +
        (result.failed ? `\n    ${result.failures.join('\n    ')}\n    log: ${log}` : ''),
    );
  }
} finally {
  if (db) await db.stop();
}
const broken = rows.filter((r) => r.supported && r.failed > 0);
const passed = rows.reduce((n, r) => n + (r.supported ? r.passed : 0), 0);
const failed = rows.reduce((n, r) => n + (r.supported ? r.failed : 0), 0);
console.log(`peer range ${range}: ${rows.filter((r) => r.supported).length} supported version(s) run, ${broken.length} failing`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(broken.length > 0 ? 1 : 0);

#!/usr/bin/env node
// `npm run coverage`: the whole suite under c8, with line and branch figures for lib/.
//
// The specs run compiled by tsc (into coverage/build, with source maps back to lib/*.ts) rather than through
// tsx: esbuild's CommonJS wrapper adds branches of its own to every module (its export helpers and a dead
// `0 && module.exports` annotation), which c8 would count as untested branches of ours. Thresholds are in
// .c8rc.json. Extra arguments go to mocha; DATABASE_URL and TEST_PG are honoured as by `npm test`.
// COVERAGE_APPEND=1 adds a run to the previous one (same build) and reports both together: CI runs the suite
// on PostgreSQL 18, 15, MariaDB and SQLite, whose paths differ (`RETURNING old.*`, a data-modifying CTE, a
// read by key), and checks the thresholds on the merged figures only.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const build = path.join(root, 'coverage', 'build');
const append = process.env.COVERAGE_APPEND === '1' && existsSync(build);
const c8Bin = path.join(root, 'node_modules', 'c8', 'bin', 'c8.js');

if (!append) {
  rmSync(path.join(root, 'coverage'), { recursive: true, force: true });
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.json',
      '--outDir',
      build,
      '--sourceMap',
      '--declaration',
      'false',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
}

const mocha = [
  '--no-config',
  '--require',
  path.join(build, 'spec', 'support', 'hooks.js'),
  '--reporter',
  path.join(root, 'spec', 'support', 'summary-reporter.cjs'),
  '--timeout',
  '60000',
  '--forbid-only',
  '--exit',
  ...(process.argv.length > 2 ? process.argv.slice(2) : [path.join(build, 'spec', '**', '*.spec.js')]),
];
// The run itself reports nothing; `c8 report` then reports (and checks) every run so far.
const run = spawnSync(
  process.execPath,
  [
    c8Bin,
    '--clean',
    String(!append),
    '--reporter',
    'none',
    '--check-coverage',
    'false',
    process.execPath,
    path.join(root, 'scripts', 'test.mjs'),
    ...mocha,
  ],
  { cwd: root, stdio: 'inherit' },
);
// COVERAGE_CHECK=0 reports without checking the thresholds: a run that more runs will be merged into.
const check = process.env.COVERAGE_CHECK === '0' ? ['--check-coverage', 'false'] : [];
const report = spawnSync(process.execPath, [c8Bin, 'report', ...check], { cwd: root, stdio: 'inherit' });
process.exit(run.status || report.status || 0);

#!/usr/bin/env node
// Builds the package: CommonJS + declarations with tsc into dist/cjs, and an ESM entry (dist/esm) that
// re-exports the CommonJS build, so `import` and `require` share one module instance (one registry).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const res = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (res.status !== 0) process.exit(res.status ?? 1);

const require = createRequire(import.meta.url);
const names = Object.keys(require(path.join(dist, 'cjs', 'index.js'))).filter((n) => n !== '__esModule');
mkdirSync(path.join(dist, 'esm'), { recursive: true });
writeFileSync(path.join(dist, 'esm', 'index.mjs'),
  `import cjs from '../cjs/index.js';\n\nexport const {\n  ${names.join(',\n  ')},\n} = cjs;\n`);
writeFileSync(path.join(dist, 'esm', 'index.d.mts'), `export * from '../cjs/index.js';\n`);
console.log(`built dist/cjs and dist/esm (${names.length} exports: ${names.join(', ')})`);

#!/usr/bin/env node
// Builds the package: CommonJS + declarations + source maps with tsc into dist/cjs, and a real ESM build
// (one bundled module, `sequelize` and `debug` left as imports) with esbuild into dist/esm. An application
// that loads both builds still has one registry, one scope and one set of error classes: the library keeps
// them on `Symbol.for` keys of globalThis (lib/shared.ts).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dist = path.join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const res = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (res.status !== 0) process.exit(res.status ?? 1);

await build({
  entryPoints: [path.join(root, 'lib', 'index.ts')],
  outfile: path.join(dist, 'esm', 'index.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  // lib/debug.ts loads `debug` through this at run time, so a bundler never inlines it.
  banner: {
    js: "import { createRequire as __bulkSignalsCreateRequire } from 'node:module';\nconst __bulkSignalsRequire = __bulkSignalsCreateRequire(import.meta.url);",
  },
});
// The ESM build's types are the CommonJS build's declarations, as ESM.
writeFileSync(path.join(dist, 'esm', 'index.d.mts'), "export * from '../cjs/index.js';\n");
console.log('built dist/cjs (tsc) and dist/esm (esbuild)');

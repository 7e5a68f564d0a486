import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as source from '../lib';

describe('the built package', () => {
  it('can be required and imported, and both share one registry', async function () {
    this.timeout(120000);
    const root = path.resolve(__dirname, '..');
    const res = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { encoding: 'utf8' });
    expect(res.status, `${res.stdout}${res.stderr}`).to.equal(0);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const cjs = require(path.join(root, 'dist', 'cjs', 'index.js')) as typeof source;
    const esm = await import(pathToFileURL(path.join(root, 'dist', 'esm', 'index.mjs')).href) as typeof source;
    expect(Object.keys(cjs).filter((k) => k !== '__esModule').sort()).to.deep.equal(Object.keys(source).sort());
    expect(Object.keys(esm).sort()).to.deep.equal(Object.keys(source).sort());
    expect(esm.bulkSignals).to.equal(cjs.bulkSignals);
    expect(esm.BulkSignalsError).to.equal(cjs.BulkSignalsError);
  });
});

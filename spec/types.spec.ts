import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

describe('type tests', () => {
  it('spec/types compiles: payloads are typed from the model, wrong events and fields do not compile', function () {
    this.timeout(120000);
    const root = path.resolve(__dirname, '..');
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const res = spawnSync(process.execPath, [tsc, '--noEmit', '-p', path.join(root, 'spec', 'types', 'tsconfig.json')], { encoding: 'utf8' });
    expect(res.status, `${res.stdout}${res.stderr}`).to.equal(0);
  });
});

import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './support/root';

function tsc(project: string): { status: number | null; output: string } {
  const root = repoRoot;
  const bin = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const res = spawnSync(process.execPath, [bin, '--noEmit', '-p', path.join(root, project)], { encoding: 'utf8' });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe('type tests', () => {
  it('the library, specs and scripts type-check under the strict settings', function () {
    this.timeout(120000);
    const { status, output } = tsc('tsconfig.json');
    expect(status, output).to.equal(0);
  });

  it('the demo type-checks as an application: the package imported by name, its own SignalContext', function () {
    this.timeout(120000);
    const { status, output } = tsc('scripts/tsconfig.demo.json');
    expect(status, output).to.equal(0);
  });

  it('spec/types compiles: payloads are typed from the model, wrong events and fields do not compile', function () {
    this.timeout(120000);
    const { status, output } = tsc('spec/types/tsconfig.json');
    expect(status, output).to.equal(0);
  });
});

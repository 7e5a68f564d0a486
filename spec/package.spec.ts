import { expect } from 'chai';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as source from '../lib';
import { repoRoot } from './support/root';

const root = repoRoot;
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
}

function ok(res: SpawnSyncReturns<string>): string {
  expect(res.status, `${res.stdout}\n${res.stderr}`).to.equal(0);
  return res.stdout;
}

/** The app every kind of consumer runs: a signalled bulkCreate through the installed package. */
const app = (imports: string) => `${imports}
const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false });
installBulkSignals(sequelize);
class Thing extends Model {}
Thing.init({ n: DataTypes.INTEGER }, { sequelize, tableName: 'pkg_things_' + process.pid, timestamps: false });
const main = async () => {
  await Thing.sync({ force: true });
  const seen = [];
  bulkSignals.on(Thing, 'afterCreate', (signal) => { seen.push(signal.newRecords.map((r) => r.get('n'))); });
  await Thing.bulkCreate([{ n: 1 }, { n: 2 }]);
  await Thing.drop();
  await sequelize.close();
  console.log(JSON.stringify(seen));
};
main().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * The package as npm would install it: `npm pack`, unpacked into fresh projects (their dependencies linked from
 * this checkout, so nothing is downloaded), then required from CommonJS, imported from ESM, compiled by a
 * NodeNext TypeScript project, and bundled by esbuild with `sequelize` external — each running a real
 * signalled write. publint and arethetypeswrong check the tarball.
 */
describe('the packed package', function () {
  this.timeout(180000);
  let dir: string;
  let tarball: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bulk-signals-pkg-'));
    const packed = ok(run('npm', ['pack', '--silent', '--pack-destination', dir], root))
      .trim()
      .split('\n')
      .pop()!;
    tarball = path.join(dir, packed);
    const modules = path.join(dir, 'node_modules');
    mkdirSync(path.join(modules, 'sequelize-bulk-signals'), { recursive: true });
    ok(run('tar', ['-xzf', tarball, '-C', path.join(modules, 'sequelize-bulk-signals'), '--strip-components=1'], dir));
    for (const dep of ['sequelize', 'pg', 'pg-hstore', 'debug', 'ms', 'typescript', '@types']) {
      symlinkSync(path.join(root, 'node_modules', dep), path.join(modules, dep));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('CommonJS: require()', () => {
    writeFileSync(
      path.join(dir, 'app.cjs'),
      app(
        "const { Sequelize, DataTypes, Model } = require('sequelize');\nconst { installBulkSignals, bulkSignals } = require('sequelize-bulk-signals');",
      ),
    );
    expect(JSON.parse(ok(run(process.execPath, ['app.cjs'], dir)))).to.deep.equal([[1, 2]]);
  });

  it('ESM: import', () => {
    writeFileSync(
      path.join(dir, 'app.mjs'),
      app(
        "import { Sequelize, DataTypes, Model } from 'sequelize';\nimport { installBulkSignals, bulkSignals } from 'sequelize-bulk-signals';",
      ),
    );
    expect(JSON.parse(ok(run(process.execPath, ['app.mjs'], dir)))).to.deep.equal([[1, 2]]);
  });

  it('an esbuild ESM bundle with sequelize external', () => {
    writeFileSync(
      path.join(dir, 'bundled.mjs'),
      app(
        "import { Sequelize, DataTypes, Model } from 'sequelize';\nimport { installBulkSignals, bulkSignals } from 'sequelize-bulk-signals';",
      ),
    );
    ok(
      run(
        bin('esbuild'),
        [
          'bundled.mjs',
          '--bundle',
          '--format=esm',
          '--platform=node',
          '--external:sequelize',
          '--outfile=bundle.mjs',
          '--log-level=warning',
        ],
        dir,
      ),
    );
    expect(JSON.parse(ok(run(process.execPath, ['bundle.mjs'], dir)))).to.deep.equal([[1, 2]]);
  });

  it("a NodeNext TypeScript project type-checks against both builds' declarations", () => {
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['typed.mts', 'typed.cts'],
      }),
    );
    const typed = (importLine: string) => `${importLine}
export function wire(Account: ModelStatic<Model>): () => void {
  return bulkSignals.on(Account, 'afterUpdate', (signal: Signal<Model>) => { void signal.changedFields; }, { priority: Priority.HIGH });
}
// @ts-expect-error -- a wrong event name does not compile
export const wrong = (Account: ModelStatic<Model>) => bulkSignals.on(Account, 'afterUpdte', () => undefined);
export const isOurs = (e: unknown): boolean => e instanceof BulkSignalsError;
`;
    writeFileSync(
      path.join(dir, 'typed.mts'),
      typed(
        "import type { Model, ModelStatic } from 'sequelize';\nimport { bulkSignals, BulkSignalsError, Priority, type Signal } from 'sequelize-bulk-signals';",
      ),
    );
    writeFileSync(
      path.join(dir, 'typed.cts'),
      typed(
        "import type { Model, ModelStatic } from 'sequelize';\nimport { bulkSignals, BulkSignalsError, Priority, type Signal } from 'sequelize-bulk-signals';",
      ),
    );
    ok(run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], dir));
  });

  it('an app that loads both builds has one registry, one set of error classes', () => {
    writeFileSync(
      path.join(dir, 'both.mjs'),
      `
import { createRequire } from 'node:module';
import * as esm from 'sequelize-bulk-signals';
const cjs = createRequire(import.meta.url)('sequelize-bulk-signals');
console.log(JSON.stringify({
  sameRegistry: esm.bulkSignals === cjs.bulkSignals,
  sameErrors: esm.BulkSignalsError === cjs.BulkSignalsError && new cjs.InvalidInputError('x') instanceof esm.BulkSignalsError,
  exports: Object.keys(esm).sort(),
}));
`,
    );
    const out = JSON.parse(ok(run(process.execPath, ['both.mjs'], dir))) as {
      sameRegistry: boolean;
      sameErrors: boolean;
      exports: string[];
    };
    expect(out).to.deep.equal({ sameRegistry: true, sameErrors: true, exports: Object.keys(source).sort() });
  });

  it('publint and arethetypeswrong find nothing', () => {
    expect(ok(run(bin('publint'), [tarball], root))).to.match(/All good!/);
    const attw = run(bin('attw'), [tarball, '--format', 'ascii'], root);
    expect(attw.status, `${attw.stdout}\n${attw.stderr}`).to.equal(0);
    expect(attw.stdout).to.match(/No problems found/);
  });
});

'use strict';
// Mocha --require file for modes B, C and D of scripts/sequelize-suite/run.sh (mode A runs without it): the
// shared PostgreSQL harness's install.js (../shared/tools/sequelize-suite) for every dialect the library
// supports, so Sequelize's suite can be run on MariaDB (mariadb, mysql) and SQLite too.
//   SUITE_MODE=B  installBulkSignals on every Sequelize instance of a supported dialect; no receivers.
//   SUITE_MODE=C  also a no-op receiver for each of the 9 events on every model, as soon as it is defined.
//   SUITE_MODE=D  like C, but only the 3 after-events (afterCreate, afterUpdate, afterDelete).
// SUITE_LOG: a file for what this did (instances, models, shim activity); SUITE_LIBRARY: the package name.
// SUITE_NO_SHIM1=1 / SUITE_NO_SHIM2=1 turn the shims below off, to watch what they work around.
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const LIBRARY = process.env.SUITE_LIBRARY || 'sequelize-bulk-signals';
const MODE = process.env.SUITE_MODE;
if (!['B', 'C', 'D'].includes(MODE)) throw new Error(`SUITE_MODE must be B, C or D, got ${MODE}`);

// Resolve as the tests do (mocha runs in the Sequelize tree): `sequelize` is node_modules/sequelize, a link
// to the tree itself, so this is the code under test; the library's own require('sequelize') must land on
// the very same file, or it would wrap a different copy and the run would prove nothing.
const testRequire = createRequire(path.join(process.cwd(), 'test', 'support.js'));
const Sequelize = testRequire('sequelize');
const libraryPath = testRequire.resolve(LIBRARY);
if (createRequire(libraryPath).resolve('sequelize') !== testRequire.resolve('sequelize')) {
  throw new Error(`${LIBRARY} (${libraryPath}) does not resolve the sequelize under test (${testRequire.resolve('sequelize')})`);
}
const { installBulkSignals, bulkSignals, EVENT_NAMES } = testRequire(LIBRARY);

const EVENTS = [
  'validateCreate',
  'beforeCreate',
  'afterCreate',
  'validateUpdate',
  'beforeUpdate',
  'afterUpdate',
  'validateDelete',
  'beforeDelete',
  'afterDelete',
];
if (JSON.stringify([...EVENT_NAMES].sort()) !== JSON.stringify([...EVENTS].sort())) {
  throw new Error(`the library's EVENT_NAMES (${[...EVENT_NAMES]}) are not the 9 this harness registers`);
}
const SUPPORTED = ['postgres', 'mariadb', 'mysql', 'sqlite'];
const RECEIVED = MODE === 'D' ? EVENTS.filter((e) => e.startsWith('after')) : EVENTS;

const log = process.env.SUITE_LOG ? fs.openSync(process.env.SUITE_LOG, 'w') : null;
const note = (msg) => {
  if (log !== null) fs.writeSync(log, `${msg}\n`);
};
const stats = { instances: 0, installed: 0, skipped: 0, models: 0, copiedNamedHooksDropped: 0, deliveries: {} };
process.on('exit', () => note(`STATS ${JSON.stringify(stats)}`));

// Hooks this file or the library add, by name. Only these are touched by the shims.
const OURS = new RegExp(`^(${LIBRARY.replace(/[^\w-]/g, '\\$&')}|sequelize-suite):`);
const isOurs = (h) => h !== null && typeof h === 'object' && typeof h.name === 'string' && OURS.test(h.name);

// Shim 1. Some tests reset hooks wholesale: `sequelize.options.hooks = {}` and `Sequelize.options.hooks = {}`
// (test/integration/hooks/hooks.test.js and others). In an application that would remove the library, so it
// is no behaviour of Sequelize's worth comparing; here it would leave every later model unwrapped (and, in
// C/D, without receivers) for the rest of the run. Across such a reset keep only our named hooks; every other
// hook is reset exactly as in mode A.
function keepOurHooksOnReset(holder) {
  if (process.env.SUITE_NO_SHIM1) return;
  let current = holder.hooks;
  Object.defineProperty(holder, 'hooks', {
    configurable: true,
    enumerable: true,
    get() {
      return current;
    },
    set(next) {
      next = next || {};
      for (const [type, list] of Object.entries(current || {})) {
        const ours = (list || []).filter(isOurs);
        if (ours.length === 0) continue;
        next[type] = [...ours, ...(next[type] || []).filter((h) => !ours.includes(h))];
      }
      if (next !== current) note(`hooks reset, kept ours for: ${Object.keys(next).join(',')}`);
      current = next;
    },
  });
}

// Shim 2. Sequelize's _setupHooks (src/hooks.js) re-adds each entry of `options.hooks` with
// addHook(type, hook). A named hook stored as { name, fn } then becomes { name: { name, fn }, fn: undefined },
// and the first run of that hook type throws "Cannot read properties of undefined (reading 'apply')".
// Tests build new instances from the shared one's options (`new Sequelize(db, u, p, this.sequelize.options)`,
// `{ ...options }`), which then carry the library's named hooks. Drop only our named hooks from such copied
// options (the new instance gets its own through afterInit below); every other hook is copied as in mode A.
if (!process.env.SUITE_NO_SHIM2) {
  const setupHooks = Sequelize.prototype._setupHooks;
  Sequelize.prototype._setupHooks = function (hooks) {
    if (hooks && typeof hooks === 'object') {
      const filtered = {};
      for (const [type, list] of Object.entries(hooks)) {
        const all = Array.isArray(list) ? list : [list];
        filtered[type] = all.filter((h) => !isOurs(h));
        stats.copiedNamedHooksDropped += all.length - filtered[type].length;
      }
      hooks = filtered;
    }
    return setupHooks.call(this, hooks);
  };
}

function addNoopReceivers(model) {
  for (const event of RECEIVED) {
    bulkSignals.on(model, event, async (signal) => {
      const k = `${event}:${signal.operation}`;
      stats.deliveries[k] = (stats.deliveries[k] || 0) + 1;
    });
  }
  stats.models++;
}

Sequelize.addHook('afterInit', 'sequelize-suite:install', (sequelize) => {
  stats.instances++;
  if (!SUPPORTED.includes(sequelize.getDialect())) {
    stats.skipped++;
    note(`skipped dialect ${sequelize.getDialect()}`);
    return;
  }
  installBulkSignals(sequelize, { warnOnMultipleReceivers: false });
  stats.installed++;
  if (MODE !== 'B') {
    // Added after installBulkSignals' own afterDefine hook, so each model is wrapped before it gets receivers.
    sequelize.addHook('afterDefine', 'sequelize-suite:receivers', (model) => {
      try {
        addNoopReceivers(model);
      } catch (e) {
        note(`receiver error ${model.name}: ${e && e.stack}`);
        throw e;
      }
    });
    for (const model of Object.values(sequelize.models)) addNoopReceivers(model);
  }
  keepOurHooksOnReset(sequelize.options);
});
keepOurHooksOnReset(Sequelize.options);
note(`mode ${MODE}: ${LIBRARY} from ${libraryPath}`);

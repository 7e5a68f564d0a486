import { expect } from 'chai';
import createDebug from 'debug';
import { format } from 'node:util';
import { bulkSignals, changedTo } from '../lib';
import { onDialect, resetTables, serverMajor, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';

/** Runs `fn` with `DEBUG=<namespaces>` in effect and returns the lines `debug` would have printed. */
async function debugLines(namespaces: string, fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  const previous = createDebug.disable();
  const print = createDebug.log;
  createDebug.log = (...args: unknown[]) => {
    // eslint-disable-next-line no-control-regex -- debug colours its output on a terminal
    lines.push(format(...args).replace(/\u001b\[[0-9;]*m/g, ''));
  };
  createDebug.enable(namespaces);
  try {
    await fn();
  } finally {
    createDebug.disable();
    createDebug.log = print;
    if (previous) createDebug.enable(previous);
  }
  return lines.map((line) => line.replace(/^.*?sequelize-bulk-signals:(\w+) /, '$1 ').replace(/ \+\d+m?s$/, ''));
}

describe('debug logging (DEBUG=sequelize-bulk-signals:*)', () => {
  const db = useDatabase('dbg', defineModels);
  const receivers = new Receivers();

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 10 },
        { name: 'b', balance: 20 },
        { name: 'c', balance: 30 },
      ],
      { bypassSignals: true },
    );
  });
  afterEach(() => receivers.clear());

  it('says why a call is not signalled: no receiver, bypassSignals, bulkSignals.bypass', async () => {
    const lines = await debugLines('sequelize-bulk-signals:*', async () => {
      await Account.update({ note: 'x' }, { where: {} });
      receivers.add(bulkSignals.on(Account, 'afterUpdate', () => undefined));
      await Account.update({ note: 'y' }, { where: {}, bypassSignals: true });
      await bulkSignals.bypass(() => Account.update({ note: 'z' }, { where: {} }));
    });
    expect(lines.filter((l) => l.startsWith('call'))).to.deep.equal([
      'call Account update: no signals (no receiver)',
      'call Account update: no signals (bypassSignals: true)',
      'call Account update: no signals (inside bulkSignals.bypass)',
    ]);
    expect(lines.filter((l) => l.startsWith('registry'))).to.deep.equal(['registry on Account.afterUpdate priority 50']);
  });

  it('names the strategy and the rows read and written, and per receiver what its when condition matched', async () => {
    const strategy = !onDialect('postgres')
      ? 'locked read, the statement, a read by key'
      : `one statement (${(await serverMajor(db.sequelize)) >= 18 ? 'RETURNING old.*, new.*' : 'data-modifying CTE'})`;
    receivers.add(bulkSignals.on(Account, 'afterUpdate', () => undefined));
    receivers.add(bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: changedTo('status', 'frozen'), name: 'freezer' }));
    const afterOnly = await debugLines('sequelize-bulk-signals:*', () => Account.update({ status: 'frozen' }, { where: { id: [1, 2] } }));
    expect(afterOnly).to.deep.equal([
      `call Account.update (update): ${strategy}`,
      onDialect('postgres') ? 'call Account.update: 2 row(s) written' : 'call Account.update: 2 row(s) read locked',
      'dispatch Account.afterUpdate (freezer): when changedTo(status, "frozen") matched 2 of 2 row(s)',
      'dispatch Account.afterUpdate (update via model): 2 row(s); 2 receiver(s) now, 0 queued for commit, 0 filtered out by when',
    ]);

    receivers.add(bulkSignals.on(Account, 'beforeUpdate', () => undefined));
    receivers.add(bulkSignals.on(Account, 'afterUpdate', () => undefined, { onCommit: true }));
    const locked = await debugLines('sequelize-bulk-signals:call,sequelize-bulk-signals:dispatch', () =>
      Account.update({ balance: 0 }, { where: {}, chunkSize: 2 }),
    );
    expect(locked).to.deep.equal([
      'call Account.update (update): locked read in chunks of 2',
      'call Account.update: 2 row(s) read locked',
      'dispatch Account.beforeUpdate (update via model): 2 row(s); 1 receiver(s) now, 0 queued for commit, 0 filtered out by when',
      'dispatch Account.afterUpdate (freezer): when changedTo(status, "frozen") matched 0 of 2 row(s)',
      'dispatch Account.afterUpdate (update via model): 2 row(s); 1 receiver(s) now, 1 queued for commit, 1 filtered out by when',
      'call Account.update: 1 row(s) read locked',
      'dispatch Account.beforeUpdate (update via model): 1 row(s); 1 receiver(s) now, 0 queued for commit, 0 filtered out by when',
      'dispatch Account.afterUpdate (freezer): when changedTo(status, "frozen") matched 0 of 1 row(s)',
      'dispatch Account.afterUpdate (update via model): 1 row(s); 1 receiver(s) now, 1 queued for commit, 1 filtered out by when',
    ]);
  });

  it('marks the internal calls Sequelize makes inside a signalled call (individualHooks saves join their bulk call)', async () => {
    receivers.add(bulkSignals.on(Account, 'afterCreate', () => undefined));
    const lines = await debugLines('sequelize-bulk-signals:call', () =>
      Account.bulkCreate([{ name: 'd' }, { name: 'e' }], { individualHooks: true }),
    );
    expect(lines).to.deep.equal(['call Account.save: part of its bulkCreate call', 'call Account.save: part of its bulkCreate call']);
  });

  it('prints nothing while the namespaces are off', async () => {
    receivers.add(bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: changedTo('status', 'x') }));
    const lines = await debugLines('other-library:*', () => Account.update({ status: 'x' }, { where: {} }));
    expect(lines).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { bulkSignals } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers } from './support/recorder';

describe('signal context', () => {
  useDatabase('ctx', defineModels);
  const receivers = new Receivers();
  let seen: [string, unknown][];

  beforeEach(async () => {
    seen = [];
    await resetTables(Account);
    receivers.add(
      bulkSignals.on(Account, 'afterCreate', (s) => {
        seen.push([`now:${s.newRecords[0]!.name}`, s.context]);
      }),
    );
    receivers.add(
      bulkSignals.on(
        Account,
        'afterCreate',
        (s) => {
          seen.push([`commit:${s.newRecords[0]!.name}`, s.context]);
        },
        { onCommit: true },
      ),
    );
  });
  afterEach(() => receivers.clear());

  it('carries the innermost withContext value, also to onCommit receivers; undefined outside', async () => {
    await Account.create({ name: 'none' });
    await bulkSignals.withContext({ user: 'ann' }, async () => {
      await Account.create({ name: 'outer' });
      await bulkSignals.withContext({ user: 'job' }, () => Account.create({ name: 'inner' }));
      await Account.create({ name: 'outer again' });
    });
    expect(seen).to.deep.equal([
      ['now:none', undefined],
      ['commit:none', undefined],
      ['now:outer', { user: 'ann' }],
      ['commit:outer', { user: 'ann' }],
      ['now:inner', { user: 'job' }],
      ['commit:inner', { user: 'job' }],
      ['now:outer again', { user: 'ann' }],
      ['commit:outer again', { user: 'ann' }],
    ]);
  });

  it('is isolated between concurrent requests', async () => {
    const request = (user: string, n: number) =>
      bulkSignals.withContext({ user }, async () => {
        for (let i = 0; i < n; i++) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          await Account.create({ name: `${user}-${i}` });
        }
      });
    await Promise.all([request('ann', 8), request('bob', 8), request('cy', 8)]);
    expect(seen).to.have.length(48);
    for (const [label, context] of seen) {
      expect((context as { user: string }).user, label).to.equal(label.split(':')[1]!.split('-')[0]);
    }
  });

  it("is kept inside bypass scopes and receivers' own writes", async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', (s) => {
        seen.push(['update', s.context]);
      }),
    );
    receivers.add(
      bulkSignals.on(Account, 'afterCreate', async ({ newRecords, transaction }) => {
        if (newRecords[0]!.name === 'parent') await Account.update({ note: 'x' }, { where: { id: newRecords[0]!.id }, transaction });
      }),
    );
    await bulkSignals.withContext('req-1', () => Account.create({ name: 'parent' }));
    await bulkSignals.withContext('req-2', () => bulkSignals.bypass(() => Account.create({ name: 'silent' })));
    expect(seen).to.deep.equal([
      ['now:parent', 'req-1'],
      ['update', 'req-1'],
      ['commit:parent', 'req-1'],
    ]);
  });
});

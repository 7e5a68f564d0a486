import { expect } from 'chai';
import { bulkSignals } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Account, Tag, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

describe('bulkCreate with conflict options', () => {
  const db = useDatabase('bcc', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Tag);
    await resetTables(Account);
    await Tag.bulkCreate(
      [
        { slug: 'a', label: 'A', uses: 1 },
        { slug: 'b', label: 'B', uses: 2 },
      ],
      { bypassSignals: true },
    );
    recorder = new Recorder([Tag, Account]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  describe('updateOnDuplicate', () => {
    it("inserted rows fire create events, conflicting rows update events with their old values; ids are the database's", async () => {
      const { count, result } = await db.log.count(() =>
        Tag.bulkCreate(
          [
            { slug: 'c', label: 'C', uses: 5 },
            { slug: 'a', label: 'A2', uses: 9 },
            { slug: 'd', label: 'D' },
          ],
          { updateOnDuplicate: ['label'] },
        ),
      );
      expect(count).to.equal(
        perDialect({ postgres: 2, others: 4, sqlite: 5 }),
        'one locked lookup, one INSERT … ON CONFLICT (elsewhere: + the inserted and the updated rows read back by key)',
      );
      // What the caller gets back is Sequelize's own result: refreshed from RETURNING on PostgreSQL only.
      if (onDialect('postgres'))
        expect(result.map((t) => [t.id, t.slug, t.label, t.uses])).to.deep.equal([
          [3, 'c', 'C', 5],
          [1, 'a', 'A2', 1],
          [5, 'd', 'D', 0],
        ]);
      // PostgreSQL's conflicting row draws a sequence value (d gets 5); InnoDB's does not (d gets 4): the ids are
      // the table's either way.
      const dId = perDialect({ postgres: 5, others: 4, sqlite: 5 });
      const summary = recorder.summary(['id', 'slug', 'label', 'uses']);
      expect(summary.map((s) => [s.event, s.operation, s.oldRecords, s.newRecords, s.changedFields])).to.deep.equal([
        [
          'validateCreate',
          'bulkCreate',
          [],
          [
            { id: null, slug: 'c', label: 'C', uses: 5 },
            { id: null, slug: 'd', label: 'D', uses: 0 },
          ],
          ['label', 'slug', 'uses'],
        ],
        [
          'validateUpdate',
          'bulkCreate',
          [{ id: 1, slug: 'a', label: 'A', uses: 1 }],
          [{ id: 1, slug: 'a', label: 'A2', uses: 1 }],
          ['label'],
        ],
        [
          'beforeCreate',
          'bulkCreate',
          [],
          [
            { id: null, slug: 'c', label: 'C', uses: 5 },
            { id: null, slug: 'd', label: 'D', uses: 0 },
          ],
          ['label', 'slug', 'uses'],
        ],
        [
          'beforeUpdate',
          'bulkCreate',
          [{ id: 1, slug: 'a', label: 'A', uses: 1 }],
          [{ id: 1, slug: 'a', label: 'A2', uses: 1 }],
          ['label'],
        ],
        [
          'afterCreate',
          'bulkCreate',
          [],
          [
            { id: 3, slug: 'c', label: 'C', uses: 5 },
            { id: dId, slug: 'd', label: 'D', uses: 0 },
          ],
          ['id', 'label', 'slug', 'uses'],
        ],
        ['afterUpdate', 'bulkCreate', [{ id: 1, slug: 'a', label: 'A', uses: 1 }], [{ id: 1, slug: 'a', label: 'A2', uses: 1 }], ['label']],
      ]);
      expect(new Set(recorder.transactions).size).to.equal(1);
      const rows = await Tag.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((t) => [t.id, t.slug, t.label])).to.deep.equal([
        [1, 'a', 'A2'],
        [2, 'b', 'B'],
        [3, 'c', 'C'],
        [dId, 'd', 'D'],
      ]);
    });

    it('writes update-receiver edits outside updateOnDuplicate in one more statement', async () => {
      receivers.add(
        bulkSignals.on(Tag, 'beforeUpdate', ({ newRecords }) => {
          for (const t of newRecords as Tag[]) t.uses += 100;
        }),
      );
      await Tag.bulkCreate(
        [
          { slug: 'a', label: 'x' },
          { slug: 'b', label: 'y' },
        ],
        { updateOnDuplicate: ['label'] },
      );
      const rows = await Tag.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((t) => [t.slug, t.label, t.uses])).to.deep.equal([
        ['a', 'x', 101],
        ['b', 'y', 102],
      ]);
      const after = recorder.summary(['slug', 'uses']).find((s) => s.event === 'afterUpdate')!;
      expect(after.newRecords).to.deep.equal([
        { slug: 'a', uses: 101 },
        { slug: 'b', uses: 102 },
      ]);
    });

    it('pairs by primary key when the primary key is the conflict target', async () => {
      await Account.bulkCreate([{ id: 1, name: 'one', balance: 1 }], { bypassSignals: true });
      await Account.bulkCreate(
        [
          { id: 1, name: 'uno', balance: 1 },
          { id: 2, name: 'dos', balance: 2 },
        ],
        { updateOnDuplicate: ['name'] },
      );
      const afters = recorder.summary(['id', 'name']).filter((s) => s.event.startsWith('after'));
      expect(afters.map((s) => [s.event, s.oldRecords, s.newRecords])).to.deep.equal([
        ['afterCreate', [], [{ id: 2, name: 'dos' }]],
        ['afterUpdate', [{ id: 1, name: 'one' }], [{ id: 1, name: 'uno' }]],
      ]);
    });
  });

  describe('ignoreDuplicates', () => {
    it('reports only the rows inserted, with their true ids', async () => {
      const { count, result } = await db.log.count(() =>
        Tag.bulkCreate(
          [
            { slug: 'a', label: 'dup' },
            { slug: 'e', label: 'E' },
            { slug: 'e', label: 'E again' },
            { slug: 'f', label: 'F' },
          ],
          { ignoreDuplicates: true },
        ),
      );
      expect(count).to.equal(
        perDialect({ postgres: 2, others: 3, sqlite: 4 }),
        'one locked lookup, one INSERT … ON CONFLICT DO NOTHING (elsewhere: + the inserted rows read back by key)',
      );
      // Skipped rows still draw sequence values, so the ids are read back rather than guessed.
      const ids = Object.fromEntries((await Tag.findAll()).map((t) => [t.slug, t.id]));
      // What the caller gets back is Sequelize's own result (it maps returned rows to instances by position,
      // sequelize#13137); the signal carries the rows that were inserted.
      if (onDialect('postgres')) expect(result.map((t) => t.slug)).to.deep.equal(['e', 'f', 'e', 'f']);
      expect(ids.e).to.be.a('number');
      const afters = recorder.summary(['id', 'slug', 'label']).filter((s) => s.event.startsWith('after'));
      expect(afters).to.deep.equal([
        {
          event: 'afterCreate',
          model: 'Tag',
          operation: 'bulkCreate',
          via: 'model',
          soft: false,
          oldRecords: [],
          newRecords: [
            { id: ids.e, slug: 'e', label: 'E' },
            { id: ids.f, slug: 'f', label: 'F' },
          ],
          changedFields: ['id', 'label', 'slug', 'uses'],
        },
      ]);
      expect(recorder.events()).to.deep.equal(['validateCreate', 'beforeCreate', 'afterCreate']);
    });

    it('signals nothing when every row is a duplicate', async () => {
      const result = await Tag.bulkCreate([{ slug: 'a', label: 'x' }], { ignoreDuplicates: true });
      expect(result.map((t) => [t.id, t.label])).to.deep.equal([[null, 'x']]);
      expect(recorder.events()).to.deep.equal([]);
    });
  });
});

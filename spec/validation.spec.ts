import { expect } from 'chai';
import { literal, type Model, type ModelStatic } from 'sequelize';
import { bulkDestroy, bulkSignals, bulkUpdate } from '../lib';
import { perDialect, resetTables, useDatabase } from './support/database';
import { Account, Ledger, Tag, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

type Options = Record<string, unknown>;

/** Every write path, each taking extra options. */
const paths: Record<string, (o: Options) => Promise<unknown>> = {
  'Model.create': (o) => Account.create({ name: 'new' }, o),
  'instance.save (new)': (o) => Account.build({ name: 'built' }).save(o),
  'instance.save': async (o) => {
    const a = (await Account.findByPk(1))!;
    a.balance = 99;
    await a.save(o);
  },
  'instance.update': async (o) => {
    await (await Account.findByPk(1))!.update({ balance: 98 }, o);
  },
  'instance.increment': async (o) => {
    await (await Account.findByPk(1))!.increment('balance', o);
  },
  'instance.destroy': async (o) => {
    await (await Account.findByPk(1))!.destroy(o);
  },
  'instance.restore': async (o) => {
    await (await Ledger.findByPk(2, { paranoid: false }))!.restore(o);
  },
  'Model.bulkCreate': (o) => Account.bulkCreate([{ name: 'x' }, { name: 'y' }], o),
  'bulkCreate updateOnDuplicate': (o) =>
    Tag.bulkCreate(
      [
        { slug: 'a', label: 'A2' },
        { slug: 'new', label: 'N' },
      ],
      { updateOnDuplicate: ['label'], ...o },
    ),
  'bulkCreate ignoreDuplicates': (o) =>
    Tag.bulkCreate(
      [
        { slug: 'a', label: 'A2' },
        { slug: 'new', label: 'N' },
      ],
      { ignoreDuplicates: true, ...o },
    ),
  'Model.update': (o) => Account.update({ status: 'vip' }, { where: {}, ...o }),
  'Model.update literal': (o) => Account.update({ balance: literal('balance + 1') }, { where: {}, ...o }),
  'Model.increment': (o) => Account.increment('balance', { where: {}, ...o }),
  'Model.decrement': (o) => Account.decrement('balance', { where: {}, ...o }),
  'Model.destroy': (o) => Account.destroy({ where: { id: [1, 2] }, ...o }),
  'Model.truncate': (o) => Account.truncate(o),
  'Model.restore': (o) => Ledger.restore({ where: {}, ...o }),
  'Model.upsert (insert)': (o) => Account.upsert({ id: 50, name: 'up' }, o),
  'Model.upsert (update)': (o) => Account.upsert({ id: 1, name: 'up' }, o),
  bulkUpdate: async (o) => {
    const rows = await Account.findAll();
    rows.forEach((r) => {
      r.balance += 5;
    });
    await bulkUpdate(Account, rows, o);
  },
  bulkDestroy: (o) => bulkDestroy(Account, [3, 1], o),
};

describe('validation events', () => {
  const db = useDatabase('val', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  async function snapshot(): Promise<string> {
    const tables = await Promise.all([
      Account.findAll({ order: [['id', 'ASC']], raw: true }),
      Ledger.findAll({ order: [['id', 'ASC']], paranoid: false, raw: true }),
      Tag.findAll({ order: [['id', 'ASC']], raw: true }),
    ]);
    return JSON.stringify(tables);
  }

  beforeEach(async () => {
    await resetTables(Account);
    await resetTables(Ledger);
    await resetTables(Tag);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 1 },
        { name: 'b', balance: 2 },
        { name: 'c', balance: 3 },
      ],
      { bypassSignals: true },
    );
    await Ledger.bulkCreate(
      [
        { label: 'x', amount: 1 },
        { label: 'y', amount: 2 },
      ],
      { bypassSignals: true },
    );
    await Ledger.destroy({ where: { id: 2 }, bypassSignals: true });
    await Tag.bulkCreate([{ slug: 'a', label: 'A' }], { bypassSignals: true });
    recorder = new Recorder([Account, Ledger, Tag]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  describe('phase order validate → before → write → after, on every path', () => {
    for (const [path, run] of Object.entries(paths)) {
      it(path, async () => {
        await run({});
        const events = recorder.events();
        const phases = events.map((e) => (e.startsWith('validate') ? 0 : e.startsWith('before') ? 1 : 2));
        expect(events.length, 'signalled').to.be.greaterThan(0);
        expect(phases, events.join(', ')).to.deep.equal([...phases].sort());
        expect(phases[0], events.join(', ')).to.equal(0, 'starts with a validate event');
        expect(phases.at(-1), events.join(', ')).to.equal(2, 'ends with an after event');
      });
    }
  });

  describe('a validate receiver that throws stops the write, nothing written', () => {
    for (const [path, run] of Object.entries(paths)) {
      it(path, async () => {
        const veto = new Error(`no (${path})`);
        for (const event of ['validateCreate', 'validateUpdate', 'validateDelete'] as const) {
          for (const model of [Account, Ledger, Tag] as ModelStatic<Model>[])
            receivers.add(
              bulkSignals.on(model, event, () => {
                throw veto;
              }),
            );
        }
        const before = await snapshot();
        let error: unknown;
        try {
          await run({});
        } catch (e) {
          error = e;
        }
        expect(error).to.equal(veto);
        expect(await snapshot()).to.equal(before);
        expect(recorder.events().every((e) => e.startsWith('validate'))).to.equal(true);
      });
    }
  });

  describe('bypassValidation skips exactly the validate events', () => {
    for (const [path, run] of Object.entries(paths)) {
      it(path, async () => {
        await run({ bypassValidation: true });
        const events = recorder.events();
        expect(
          events.filter((e) => e.startsWith('validate')),
          events.join(', '),
        ).to.deep.equal([]);
        expect(events.some((e) => e.startsWith('before')) && events.some((e) => e.startsWith('after')), events.join(', ')).to.equal(true);
      });
    }
  });

  describe('instance.validate()', () => {
    it('fires validateCreate for a new instance and validateUpdate for a loaded one, with the old row', async () => {
      await Account.build({ name: 'fresh', balance: 4 }).validate();
      const loaded = (await Account.findByPk(2))!;
      loaded.balance = 20;
      await loaded.validate();
      expect(recorder.summary(['id', 'name', 'balance']).map((s) => [s.event, s.operation, s.oldRecords, s.newRecords])).to.deep.equal([
        ['validateCreate', 'validate', [], [{ id: null, name: 'fresh', balance: 4 }]],
        ['validateUpdate', 'validate', [{ id: 2, name: 'b', balance: 2 }], [{ id: 2, name: 'b', balance: 20 }]],
      ]);
      expect(recorder.transactions.every((t) => t !== null)).to.equal(true);
    });

    it("rejects with the receiver's error, and Sequelize's validators still run when receivers pass", async () => {
      const rule = new Error('balance must stay under 1000');
      receivers.add(
        bulkSignals.on(Account, 'validateUpdate', ({ newRecords }) => {
          if ((newRecords as Account[]).some((a) => a.balance >= 1000)) throw rule;
        }),
      );
      const a = (await Account.findByPk(1))!;
      a.balance = 5000;
      let error: unknown;
      try {
        await a.validate();
      } catch (e) {
        error = e;
      }
      expect(error).to.equal(rule);
      a.balance = 5;
      a.set('name', null as never); // violates allowNull: Sequelize's own validation
      error = undefined;
      try {
        await a.validate();
      } catch (e) {
        error = e;
      }
      expect(error).to.have.property('name', 'SequelizeValidationError');
    });

    it('is not signalled again by the validation Sequelize runs inside save', async () => {
      const a = (await Account.findByPk(1))!;
      a.balance = 7;
      const { count } = await db.log.count(() => a.save());
      expect(count).to.equal(perDialect({ postgres: 1, others: 2 }), 'the UPDATE (+ the row read by key without RETURNING)');
      expect(recorder.events()).to.deep.equal(['validateUpdate', 'beforeUpdate', 'afterUpdate']);
    });
  });
});

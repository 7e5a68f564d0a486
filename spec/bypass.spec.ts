import { expect } from 'chai';
import { bulkSignals } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Recorder } from './support/recorder';

describe('bypass', () => {
  const db = useDatabase('byp', defineModels);
  let recorder: Recorder;

  async function seed(): Promise<void> {
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 1 },
        { name: 'b', balance: 2 },
      ],
      { bypassSignals: true },
    );
  }

  beforeEach(async () => {
    await seed();
    recorder = new Recorder([Account]);
  });
  afterEach(() => recorder.off());

  const paths: Record<string, (options: object) => Promise<unknown>> = {
    'Model.create': (o: object) => Account.create({ name: 'x' }, o),
    'Model.bulkCreate': (o: object) => Account.bulkCreate([{ name: 'x' }], o),
    'Model.update': (o: object) => Account.update({ balance: 5 }, { where: {}, ...o }),
    'Model.increment': (o: object) => Account.increment('balance', { where: {}, ...o }),
    'Model.decrement': (o: object) => Account.decrement('balance', { where: {}, ...o }),
    'Model.destroy': (o: object) => Account.destroy({ where: { id: 1 }, ...o }),
    'instance.save': async (o: object) => {
      const a = (await Account.findByPk(1))!;
      a.balance = 9;
      await a.save(o);
    },
    'instance.update': async (o: object) => {
      await (await Account.findByPk(1))!.update({ balance: 9 }, o);
    },
    'instance.increment': async (o: object) => {
      await (await Account.findByPk(1))!.increment('balance', o);
    },
    'instance.destroy': async (o: object) => {
      await (await Account.findByPk(1))!.destroy(o);
    },
  };

  for (const [path, run] of Object.entries(paths)) {
    it(`${path} with bypassSignals: true writes with no signal and no extra statement`, async () => {
      const vanilla = await db.log.count(() => run({ bypassSignals: true }));
      expect(recorder.signals).to.deep.equal([]);
      expect(vanilla.statements.some((s) => /FOR UPDATE/.test(s))).to.equal(false);
      expect(vanilla.count).to.be.greaterThan(0, 'the write itself happened');
      await seed();
      await run({}); // and the same call without the option does signal
      expect(recorder.signals.length).to.be.greaterThan(0);
    });
  }

  it('bulkSignals.bypass silences writes inside its async scope only', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inside = bulkSignals.bypass(async () => {
      await gate;
      await Account.update({ status: 'quiet' }, { where: { id: 1 } });
      await Promise.all([Account.create({ name: 'quiet' }), Account.increment('balance', { where: { id: 2 } })]);
    });
    const outside = (async () => {
      await Account.update({ status: 'loud' }, { where: { id: 2 } });
      release();
    })();
    await Promise.all([inside, outside]);
    const afters = recorder.summary(['id', 'status']).filter((s) => s.event.startsWith('after'));
    expect(afters.map((s) => [s.event, s.newRecords])).to.deep.equal([['afterUpdate', [{ id: 2, status: 'loud' }]]]);
    expect((await Account.findByPk(1))!.status).to.equal('quiet', 'the bypassed write still happened');
  });

  it("Sequelize's hooks: false does not silence signals", async () => {
    await Account.update({ balance: 4 }, { where: { id: 1 }, hooks: false });
    await Account.create({ name: 'h' }, { hooks: false });
    expect(recorder.events()).to.deep.equal([
      'validateUpdate',
      'beforeUpdate',
      'afterUpdate',
      'validateCreate',
      'beforeCreate',
      'afterCreate',
    ]);
  });

  it('bypassValidation skips the validate events only', async () => {
    await Account.update({ balance: 3 }, { where: { id: 1 }, bypassValidation: true });
    await Account.create({ name: 'v' }, { bypassValidation: true });
    await Account.destroy({ where: { id: 2 }, bypassValidation: true });
    expect(recorder.events()).to.deep.equal(['beforeUpdate', 'afterUpdate', 'beforeCreate', 'afterCreate', 'beforeDelete', 'afterDelete']);
  });
});

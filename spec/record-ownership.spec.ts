import { expect } from 'chai';
import { DataTypes, Model, type CreationOptional, type Sequelize } from 'sequelize';
import { bulkSignals, bulkUpdate, type Signal } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { dateType, jsonType } from './support/models';
import { Receivers } from './support/recorder';

class Owned extends Model {
  declare id: CreationOptional<number>;
  declare name: string;
  declare seenAt: Date | null;
  declare meta: Record<string, unknown> | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

function define(sequelize: Sequelize, prefix: string): void {
  Owned.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      name: { type: DataTypes.STRING, allowNull: false },
      seenAt: dateType(),
      meta: jsonType(),
      createdAt: dateType(),
      updatedAt: dateType(),
    },
    { sequelize, tableName: `${prefix}_owned` },
  );
}

/** The object values (dates, JSON) of some instances. */
function objectsOf(records: readonly Model[]): object[] {
  return records.flatMap((r) =>
    Object.values((r as unknown as { dataValues: object }).dataValues).filter((v) => v !== null && typeof v === 'object'),
  );
}

/**
 * Every payload record owns its values: no date or JSON object is shared by two records, two phases, or a record
 * and the caller's instances or arguments — a receiver changing one in place (`record.meta.count++`,
 * `record.seenAt.setHours(0)`) changes nothing else.
 */
describe('payload records own their values', () => {
  useDatabase('own', define);
  const receivers = new Receivers();
  let payload: object[];
  let signals: Signal<Owned>[];

  before(async () => {
    // PostgreSQL learns in a table's first signalled UPDATE whether it is quiet (quiet-tables.ts), and builds new
    // rows over the old ones from then on: learn it now, so every path below runs as it runs from then on.
    await Owned.create({ name: 'warm-up' }, { bypassSignals: true });
    const off = bulkSignals.on(Owned, 'afterUpdate', () => undefined);
    await Owned.update({ name: 'warm-up' }, { where: {} });
    off();
  });

  beforeEach(async () => {
    await resetTables(Owned);
    await Owned.bulkCreate(
      [
        { name: 'a', seenAt: new Date(1000), meta: { n: 1 } },
        { name: 'b', seenAt: new Date(2000), meta: { n: 2 } },
      ],
      { bypassSignals: true },
    );
    payload = [];
    signals = [];
  });
  afterEach(() => receivers.clear());

  const listen = (phases: readonly ('before' | 'after')[]) => {
    for (const phase of phases)
      for (const family of ['Create', 'Update', 'Delete'] as const)
        receivers.add(
          bulkSignals.on(Owned, `${phase}${family}`, (s) => {
            signals.push(s);
            payload.push(...objectsOf(s.oldRecords), ...objectsOf(s.newRecords));
          }),
        );
  };

  const load = () => Owned.findAll({ order: [['id', 'ASC']] });
  const meta = { n: 9, nested: { k: [1] } };
  const seenAt = new Date(5000);

  /** Each path, returning the caller's objects: its arguments and the instances it holds or got back. */
  const paths: [string, () => Promise<object[]>][] = [
    [
      'Model.update',
      async () => {
        await Owned.update({ name: 'u', meta, seenAt }, { where: {} });
        return [meta, seenAt];
      },
    ],
    [
      'Model.update of one attribute',
      async () => {
        await Owned.update({ name: 'u' }, { where: {} });
        return [];
      },
    ],
    [
      'instance.save',
      async () => {
        const [a] = await load();
        a!.set({ name: 'u', meta: { n: 7 } });
        await a!.save();
        return objectsOf([a!]);
      },
    ],
    [
      'bulkUpdate',
      async () => {
        const rows = await load();
        rows.forEach((r, i) => r.set({ name: `u${i}`, meta: { n: i } }));
        await bulkUpdate(Owned, rows);
        return objectsOf(rows);
      },
    ],
    [
      'Model.create',
      async () => {
        const created = await Owned.create({ name: 'c', meta, seenAt });
        return [meta, seenAt, ...objectsOf([created])];
      },
    ],
    [
      'Model.bulkCreate',
      async () => {
        const created = await Owned.bulkCreate([{ name: 'c', meta, seenAt }]);
        return [meta, seenAt, ...objectsOf(created)];
      },
    ],
    [
      'bulkCreate with updateOnDuplicate',
      async () => {
        const rows = await Owned.bulkCreate(
          [
            { id: 1, name: 'd', meta, seenAt },
            { id: 3, name: 'e', meta: { n: 3 }, seenAt },
          ],
          { updateOnDuplicate: ['name', 'meta', 'seenAt'] },
        );
        return [meta, seenAt, ...objectsOf(rows)];
      },
    ],
    [
      'instance.increment',
      async () => {
        const [a] = await load();
        await a!.increment('id', { by: 0 });
        return objectsOf([a!]);
      },
    ],
    [
      'Model.upsert',
      async () => {
        const [row] = await Owned.upsert({ id: 1, name: 'up', meta, seenAt });
        return [meta, seenAt, ...objectsOf([row])];
      },
    ],
    [
      'Model.increment',
      async () => {
        await Owned.increment({ id: 0 }, { where: {} });
        return [];
      },
    ],
    [
      'Model.destroy',
      async () => {
        await Owned.destroy({ where: {} });
        return [];
      },
    ],
    [
      'instance.destroy',
      async () => {
        const [a] = await load();
        await a!.destroy();
        return objectsOf([a!]);
      },
    ],
  ];

  it('values of other classes, and JSON holding a function, are kept as they are rather than cloned', async () => {
    class Tag {
      constructor(readonly name: string) {}
      toJSON() {
        return { name: this.name };
      }
    }
    const metas: unknown[] = [];
    receivers.add(bulkSignals.on(Owned, 'beforeUpdate', ({ newRecords }) => void metas.push(newRecords[0]!.meta)));
    await Owned.update({ meta: new Tag('x') as never }, { where: { id: 1 } });
    expect(metas[0], 'a structured clone drops the prototype').to.be.instanceOf(Tag);
    // A structured clone throws on a function: the write failed where Sequelize alone writes `{ "n": 1 }`.
    await Owned.update({ meta: { n: 1, toJSON: () => ({ n: 1 }) } as never }, { where: { id: 1 } });
    expect((await Owned.findByPk(1))!.meta).to.deep.equal({ n: 1 });
  });

  for (const phases of [['after'], ['before', 'after']] as const) {
    for (const [name, run] of paths) {
      it(`${name}, ${phases.join('+')} receivers`, async () => {
        listen(phases);
        const callers = await run();
        expect(signals.length, 'signalled').to.be.greaterThan(0);
        expect(payload.length, 'the payload has dates and JSON values').to.be.greaterThan(0);
        const shared = payload.filter((o, i) => payload.indexOf(o) !== i);
        expect(shared, 'an object in two records or phases').to.deep.equal([]);
        const fromCaller = payload.filter((o) => callers.includes(o));
        expect(fromCaller, "an object of the caller's").to.deep.equal([]);
      });
    }
  }
});

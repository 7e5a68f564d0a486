import { expect } from 'chai';
import { DataTypes, Model, literal, type ModelStatic, type Sequelize } from 'sequelize';
import { bulkDestroy, bulkSignals, bulkUpdate, type Signal } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { dateType } from './support/models';
import { generatorOf } from '../lib/internals';
import { Receivers } from './support/recorder';

/** Reserved words, spaces and quotes in names, a BIGINT key, and every value type with a JS mapping of its own. */
class Odd extends Model {
  declare id: string;
  declare select: string | null;
  declare weird: string | null;
  declare amount: string | null;
  declare when: Date | null;
  declare day: string | null;
  declare tags: string[] | null;
  declare kind: 'x' | 'y' | null;
  declare doc: Record<string, unknown> | null;
  declare flag: boolean | null;
}

/** A UUID primary key, underscored, paranoid. */
class Thing extends Model {
  declare id: string;
  declare label: string;
  declare deletedAt: Date | null;
}

function define(sequelize: Sequelize, prefix: string): void {
  Odd.init(
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      select: { type: DataTypes.STRING, field: 'select' },
      weird: { type: DataTypes.STRING, field: 'we"ird col' },
      amount: { type: DataTypes.DECIMAL(10, 2) },
      when: { type: dateType(), field: 'when' },
      day: { type: DataTypes.DATEONLY, field: 'order' },
      // Arrays are PostgreSQL's only.
      ...(onDialect('postgres') ? { tags: { type: DataTypes.ARRAY(DataTypes.STRING) } } : {}),
      kind: { type: DataTypes.ENUM('x', 'y') },
      doc: { type: onDialect('postgres') ? DataTypes.JSONB : DataTypes.JSON },
      flag: { type: DataTypes.BOOLEAN, field: 'group' },
    },
    { sequelize, tableName: `${prefix} "user" table`, timestamps: false },
  );
  Thing.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
      label: { type: DataTypes.STRING, allowNull: false },
    },
    { sequelize, tableName: `${prefix}_things`, underscored: true, paranoid: true },
  );
}

type Values = Record<string, unknown>;

describe('odd schemas on every path', () => {
  useDatabase('odd', define);
  const receivers = new Receivers();
  let delivered: { event: string; old: Values[]; new: Values[] }[];

  const values = (records: readonly Model[]) => records.map((r) => ({ ...r.dataValues }));
  function listen(model: ModelStatic<Model>): void {
    for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
      receivers.add(
        bulkSignals.on(model, event, (s: Signal<Model>) => {
          delivered.push({ event, old: values(s.oldRecords), new: values(s.newRecords) });
        }),
      );
    }
  }

  /** What Sequelize's own read gives for these rows, to compare types and values with. */
  async function sequelizeRead(model: ModelStatic<Model>, ids: unknown[]): Promise<Values[]> {
    const rows = await Promise.all(ids.map((id) => model.findByPk(id as string, { paranoid: false })));
    return rows.map((r) => ({ ...r!.dataValues }));
  }

  const full = {
    select: 'sel',
    weird: 'w',
    amount: '12.30',
    when: new Date('2025-05-06T07:08:09.010Z'),
    day: '2025-05-06',
    ...(onDialect('postgres') ? { tags: ['a', 'b"c'] } : {}),
    kind: 'x' as const,
    doc: { k: [1, 'two'] },
    flag: true,
  };

  beforeEach(async () => {
    delivered = [];
    await resetTables(Odd);
    await resetTables(Thing);
    listen(Odd);
    listen(Thing);
  });
  afterEach(() => receivers.clear());

  it('create, bulkCreate, save, update, increment, destroy, upsert and the bulk helpers carry the types Sequelize reads', async () => {
    const one = await Odd.create({ ...full });
    const [two, three] = await Odd.bulkCreate([
      { ...full, select: 's2' },
      { select: null, amount: '0.50' },
    ]);
    expect(delivered.map((d) => d.new)).to.deep.equal([await sequelizeRead(Odd, [one.id]), await sequelizeRead(Odd, [two!.id, three!.id])]);
    expect(typeof one.id).to.equal(typeof (await Odd.findByPk(one.id))!.id, 'BIGINT keys keep the type Sequelize reads them as');
    const q = (name: string) => generatorOf(Odd.sequelize!).quoteIdentifier(name);
    const nextDay = perDialect({
      postgres: `${q('order')} + 1`,
      others: `DATE_ADD(${q('order')}, INTERVAL 1 DAY)`,
      sqlite: `date(${q('order')}, '+1 day')`,
    });
    const arrays = (v: Record<string, unknown>) =>
      onDialect('postgres') ? v : Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'tags'));

    const steps: [string, () => Promise<unknown>, () => unknown[]][] = [
      ['instance.update', () => one.update(arrays({ weird: 'w2', tags: ['z'], doc: { k: 'v' } })), () => [one.id]],
      [
        'Model.update',
        () => Odd.update({ amount: '99.99', when: new Date(0), kind: 'y', flag: false }, { where: { select: ['sel', 's2'] } }),
        () => [one.id, two!.id],
      ],
      [
        'Model.update literal',
        () => Odd.update({ amount: literal(`${q('amount')} * 2`) as never, day: literal(nextDay) as never }, { where: {} }),
        () => [one.id, two!.id, three!.id],
      ],
      ['Model.increment', () => Odd.increment({ amount: 1 }, { where: { id: [one.id, three!.id] } }), () => [one.id, three!.id]],
      ['Model.upsert', () => Odd.upsert({ id: one.id, select: 'upserted', amount: '1.00' }), () => [one.id]],
      [
        'bulkUpdate',
        async () => {
          two!.set(arrays({ doc: null, tags: [], select: 'bu' }));
          three!.set({ when: new Date(5), select: 'bu3' });
          await bulkUpdate(Odd, [three!, two!]);
        },
        () => [three!.id, two!.id],
      ],
    ];
    for (const [name, run, ids] of steps) {
      const before = await sequelizeRead(Odd, ids());
      delivered = [];
      await run();
      const after = await sequelizeRead(Odd, ids());
      const update = delivered.find((d) => d.event === 'afterUpdate');
      expect(update, name).to.not.equal(undefined);
      // An instance path's old row is the instance's own previous values; where Sequelize does not refresh an
      // instance from RETURNING, those are what the caller set (DECIMAL '12.30' where SQLite and MariaDB read 12.3).
      if (onDialect('postgres') || name !== 'instance.update') expect(update!.old, `${name}: old rows`).to.deep.equal(before);
      expect(update!.new, `${name}: new rows`).to.deep.equal(after);
    }

    const gone = await sequelizeRead(Odd, [three!.id, one.id]);
    const last = await sequelizeRead(Odd, [two!.id]);
    delivered = [];
    await bulkDestroy(Odd, [three!.id, one.id]);
    await two!.destroy();
    expect(delivered.map((d) => [d.event, d.old])).to.deep.equal([
      ['afterDelete', gone],
      ['afterDelete', last],
    ]);
  });

  it('UUID keys, underscored columns and paranoid restore', async () => {
    const [a, b] = await Thing.bulkCreate([{ label: 'a' }, { label: 'b' }]);
    await Thing.destroy({ where: { id: a!.id } });
    const deleted = await sequelizeRead(Thing, [a!.id]);
    delivered = [];
    await Thing.restore({ where: { id: a!.id } });
    expect(delivered).to.deep.equal([{ event: 'afterUpdate', old: deleted, new: await sequelizeRead(Thing, [a!.id]) }]);
    delivered = [];
    const before = await sequelizeRead(Thing, [b!.id, a!.id]);
    await Thing.update({ label: 'z' }, { where: {} });
    const ordered = [...before].sort((x, y) => String(x.id).localeCompare(String(y.id)));
    expect(delivered[0]!.old).to.deep.equal(ordered);
    expect(delivered[0]!.new).to.deep.equal(
      await sequelizeRead(
        Thing,
        ordered.map((r) => r.id),
      ),
    );
  });
});

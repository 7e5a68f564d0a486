import { expect } from 'chai';
import { DataTypes, Model, type CreationOptional, type Sequelize } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { onDialect, resetTables, useDatabase } from './support/database';
import { Receivers } from './support/recorder';

class Enrolment extends Model {
  declare id: CreationOptional<number>;
  declare classId: number;
  declare studentName: string;
}

function define(sequelize: Sequelize, prefix: string): void {
  Enrolment.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      classId: { type: DataTypes.INTEGER, allowNull: false },
      studentName: { type: DataTypes.STRING, allowNull: false },
    },
    { sequelize, tableName: `${prefix}_enrolments`, timestamps: false },
  );
}

/**
 * `quoteIdentifiers: false` (PostgreSQL): tables and columns are created unquoted, so PostgreSQL folds their names
 * to lower case and `RETURNING *` names `classId` as `classid`. Payloads built from Sequelize's own returned rows
 * must still carry every attribute (they came out empty, and after the records started copying their values,
 * `bulkCreate` threw — found by Sequelize's own suite).
 */
(onDialect('postgres') ? describe : describe.skip)('quoteIdentifiers: false (PostgreSQL)', () => {
  useDatabase('uqi', define, { quoteIdentifiers: false });
  const receivers = new Receivers();
  let seen: Signal<Enrolment>[];

  beforeEach(async () => {
    await resetTables(Enrolment);
    seen = [];
    for (const event of ['afterCreate', 'afterUpdate'] as const) receivers.add(bulkSignals.on(Enrolment, event, (s) => void seen.push(s)));
  });
  afterEach(() => receivers.clear());

  const plain = (s: Signal<Enrolment>) => s.newRecords.map((r) => r.get({ plain: true }));

  it('create, bulkCreate and Model.update with returning: payloads carry every attribute; results are Sequelize’s', async () => {
    const created = await Enrolment.create({ classId: 1, studentName: 'ada' });
    const bulk = await Enrolment.bulkCreate(
      [
        { classId: 2, studentName: 'bo' },
        { classId: 3, studentName: 'cy' },
      ],
      { returning: true },
    );
    const [count, updated] = await Enrolment.update({ classId: 9 }, { where: { studentName: 'bo' }, returning: true });
    expect([created.id, bulk.map((b) => b.id), count, updated.map((u) => u.id)]).to.deep.equal([1, [2, 3], 1, [2]]);
    expect(seen.map(plain)).to.deep.equal([
      [{ id: 1, classId: 1, studentName: 'ada' }],
      [
        { id: 2, classId: 2, studentName: 'bo' },
        { id: 3, classId: 3, studentName: 'cy' },
      ],
      [{ id: 2, classId: 9, studentName: 'bo' }],
    ]);
  });
});

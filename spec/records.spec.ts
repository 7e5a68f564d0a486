import { expect } from 'chai';
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { resetTables, useDatabase } from './support/database';
import { Receivers } from './support/recorder';

/** A model whose constructor gives every instance a field of its own (payload records must get it too). */
class Tracked extends Model {
  declare id: number;
  declare n: number;
  readonly seenAt: string;
  constructor(...args: ConstructorParameters<typeof Model>) {
    super(...args);
    this.seenAt = 'constructed';
  }
}

class Plain extends Model {
  declare id: number;
  declare n: number;
}

function define(sequelize: Sequelize, prefix: string): void {
  const attributes = { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, n: DataTypes.INTEGER };
  Tracked.init(attributes, { sequelize, tableName: `${prefix}_tracked`, timestamps: false });
  Plain.init(attributes, { sequelize, tableName: `${prefix}_plain`, timestamps: false });
}

/**
 * Payload records are made without `Model.build` where that changes nothing (a class that sets no instance field
 * of its own): they must be instances Sequelize can work with like any it read.
 */
describe('payload records', () => {
  useDatabase('rec', define);
  const receivers = new Receivers();
  afterEach(() => receivers.clear());

  beforeEach(async () => {
    await resetTables(Tracked, Plain);
    await Tracked.bulkCreate([{ n: 1 }], { bypassSignals: true });
    await Plain.bulkCreate([{ n: 1 }], { bypassSignals: true });
  });

  it('are built through the constructor when the model class sets fields of its own', async () => {
    const seen: Signal<Tracked>[] = [];
    receivers.add(bulkSignals.on(Tracked, 'afterUpdate', (s) => void seen.push(s)));
    await Tracked.update({ n: 2 }, { where: {} });
    expect([...seen[0]!.oldRecords, ...seen[0]!.newRecords].map((r) => r.seenAt)).to.deep.equal(['constructed', 'constructed']);
  });

  it('behave as instances Sequelize read: get, changed, toJSON, save, reload', async () => {
    let record: Plain | undefined;
    receivers.add(
      bulkSignals.on(Plain, 'afterUpdate', ({ newRecords }) => {
        record = newRecords[0];
      }),
    );
    await Plain.update({ n: 2 }, { where: {} });
    const r = record!;
    expect([r instanceof Plain, r.isNewRecord, r.get('n'), r.changed(), r.toJSON()]).to.deep.equal([
      true,
      false,
      2,
      false,
      { id: 1, n: 2 },
    ]);
    r.n = 5;
    expect(r.changed()).to.deep.equal(['n']);
    await r.save({ bypassSignals: true });
    await Plain.update({ n: 7 }, { where: {}, bypassSignals: true });
    await r.reload();
    expect([r.n, r.changed()]).to.deep.equal([7, false]);
  });
});

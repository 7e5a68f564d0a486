import { expect } from 'chai';
import { Column, DataType, Model, Table } from 'sequelize-typescript';
import { literal } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { connectTyped } from './support/database';
import { Receivers } from './support/recorder';

@Table({ tableName: 'ts_wallets', underscored: true })
class Wallet extends Model {
  @Column({ type: DataType.STRING, allowNull: false })
  declare owner: string;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare cents: number;
}

describe('sequelize-typescript models', () => {
  const receivers = new Receivers();
  let sequelize: ReturnType<typeof connectTyped>['sequelize'];

  before(async () => {
    sequelize = connectTyped().sequelize;
    sequelize.addModels([Wallet]);
    await sequelize.sync({ force: true });
  });
  after(() => sequelize.close());
  afterEach(() => receivers.clear());

  it('signal like plain models, with typed payloads', async () => {
    const log: string[] = [];
    receivers.add(
      bulkSignals.on(Wallet, 'afterCreate', ({ newRecords }: Signal<Wallet>) => {
        log.push(`created ${newRecords.map((w) => w.owner).join(',')}`);
      }),
    );
    receivers.add(
      bulkSignals.on(Wallet, 'afterUpdate', ({ oldRecords, newRecords }) => {
        log.push(`updated ${oldRecords.map((w, i) => `${w.owner}:${w.cents}->${newRecords[i]!.cents}`).join(',')}`);
      }),
    );
    await Wallet.bulkCreate([
      { owner: 'x', cents: 1 },
      { owner: 'y', cents: 2 },
    ]);
    await Wallet.update({ cents: literal('cents * 10') }, { where: {} });
    const w = (await Wallet.findOne({ where: { owner: 'x' } }))!;
    await w.update({ cents: 11 });
    expect(log).to.deep.equal(['created x,y', 'updated x:1->10,y:2->20', 'updated x:10->11']);
  });
});

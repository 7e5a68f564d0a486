import { expect } from 'chai';
import { DataTypes, literal, Model } from 'sequelize';
import { bulkSignals } from '../lib';
import { connect } from './support/database';

describe('smoke', () => {
  const { sequelize, log } = connect();
  class Acc extends Model { declare id: number; declare balance: number; declare name: string }
  Acc.init({ id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true }, name: DataTypes.STRING, balance: DataTypes.INTEGER, ownerEmail: DataTypes.STRING }, { sequelize, underscored: true, tableName: 'smoke_acc' });
  before(() => sequelize.sync({ force: true }));
  after(() => sequelize.close());
  it('works', async () => {
    const seen: unknown[] = [];
    const off1 = bulkSignals.on(Acc, 'beforeUpdate', (s) => { s.newRecords.forEach((r, i) => { (r as Acc).name = `n${i}`; }); });
    const off2 = bulkSignals.on(Acc, 'afterUpdate', (s) => { seen.push(s.oldRecords.map((r) => r.get()), s.newRecords.map((r) => r.get()), s.changedFields); });
    await Acc.bulkCreate([{ name: 'a', balance: 1 }, { name: 'b', balance: 2 }]);
    const r = await log.count(() => Acc.update({ balance: literal('balance + 10') }, { where: {} }));
    console.log(r.statements, r.result);
    console.log(JSON.stringify(seen, null, 1));
    off1(); off2();
    expect(seen.length).to.equal(3);
  });
});

import { expect } from 'chai';
import { Column, DataType, Model, Table, Sequelize as TypedSequelize } from 'sequelize-typescript';
import { literal } from 'sequelize';
import { InvalidReceiverError, OnSignal, Priority, bulkSignals, installBulkSignals, isEqual, type Signal } from '../lib';
import { connectTyped } from './support/database';
import { Receivers } from './support/recorder';

@Table({ tableName: 'ts_wallets', underscored: true })
class Wallet extends Model {
  @Column({ type: DataType.STRING, allowNull: false })
  declare owner: string;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare cents: number;
}

/** What the decorated receivers saw: `this`, the event, the operation and the rows. */
const decorated: string[] = [];

@Table({ tableName: 'ts_ledgers', timestamps: false })
class Ledger extends Model {
  @Column({ type: DataType.STRING, allowNull: false })
  declare label: string;

  @Column({ type: DataType.INTEGER, allowNull: false, defaultValue: 0 })
  declare cents: number;

  @OnSignal('afterUpdate')
  static audit(this: typeof Ledger, { event, operation, oldRecords, newRecords }: Signal<Ledger, 'afterUpdate'>): void {
    decorated.push(`${this.name}.${event} ${operation} ${oldRecords.map((r, i) => `${r.cents}->${newRecords[i]!.cents}`).join(',')}`);
  }

  // Runs first (HIGH), and only for the rows it is about; its edits are written.
  @OnSignal('beforeCreate', { priority: Priority.HIGH, when: isEqual('cents', 0) })
  static defaultCents(this: typeof Ledger, { newRecords }: Signal<Ledger, 'beforeCreate'>): void {
    decorated.push(`${this.name}.defaultCents ${newRecords.map((r) => r.label).join(',')}`);
    for (const r of newRecords) r.cents = 100;
  }

  @OnSignal('beforeCreate')
  static seen(this: typeof Ledger, { newRecords }: Signal<Ledger, 'beforeCreate'>): void {
    decorated.push(`${this.name}.seen ${newRecords.map((r) => `${r.label}:${r.cents}`).join(',')}`);
  }
}

/** Added to its Sequelize instance before that instance is installed. */
@Table({ tableName: 'ts_notes', timestamps: false })
class Note extends Model {
  @Column({ type: DataType.STRING })
  declare text: string;

  @OnSignal('afterDelete', { onCommit: true })
  static gone(this: typeof Note, { oldRecords }: Signal<Note, 'afterDelete'>): void {
    decorated.push(`${this.name}.gone ${oldRecords.map((r) => r.text).join(',')} (after commit)`);
  }
}

describe('sequelize-typescript models', () => {
  const receivers = new Receivers();
  let sequelize: ReturnType<typeof connectTyped>['sequelize'];

  before(async () => {
    sequelize = connectTyped().sequelize;
    sequelize.addModels([Wallet, Ledger]);
    await sequelize.sync({ force: true });
  });
  after(() => sequelize.close());
  afterEach(() => receivers.clear());

  it('@OnSignal registers static methods as receivers when the model is added: this is the model, options apply', async () => {
    decorated.length = 0;
    await Ledger.bulkCreate([
      { label: 'a', cents: 0 },
      { label: 'b', cents: 7 },
    ]);
    await Ledger.update({ cents: literal('cents + 1') }, { where: {} });
    expect(decorated).to.deep.equal(['Ledger.defaultCents a', 'Ledger.seen a:100,b:7', 'Ledger.afterUpdate update 100->101,7->8']);
    expect((await Ledger.findAll({ order: [['id', 'ASC']] })).map((l) => l.cents)).to.deep.equal([101, 8]);
    // They are ordinary receivers: has() sees them, off(model) removes them.
    expect(bulkSignals.has(Ledger, 'afterUpdate')).to.equal(true);
  });

  it('@OnSignal on a model added before installBulkSignals registers at the install', async () => {
    decorated.length = 0;
    const late = new TypedSequelize(process.env.DATABASE_URL!, { dialect: 'postgres', logging: false });
    try {
      late.addModels([Note]);
      await late.sync({ force: true });
      await Note.bulkCreate([{ text: 'x' }, { text: 'y' }]);
      await Note.destroy({ where: { text: 'x' } });
      expect(decorated).to.deep.equal([], 'not installed yet: Sequelize alone');
      installBulkSignals(late, { warnOnMultipleReceivers: false });
      await late.transaction(async (transaction) => {
        await Note.destroy({ where: { text: 'y' }, transaction });
        expect(decorated).to.deep.equal([], 'onCommit: not before the COMMIT');
      });
      expect(decorated).to.deep.equal(['Note.gone y (after commit)']);
    } finally {
      await late.close();
    }
  });

  it('@OnSignal refuses a wrong event or a misplaced decorator at class definition, a condition on a missing attribute when added', () => {
    expect(() => OnSignal('afterUpdte' as never)).to.throw(InvalidReceiverError, /^@OnSignal\("afterUpdte"\): unknown event/);
    expect(() => OnSignal('beforeUpdate', { onCommit: true as never })).to.throw(
      InvalidReceiverError,
      /onCommit delivery is for after events only/,
    );
    expect(() => {
      class Instance extends Model {
        // @ts-expect-error -- for static methods only: this does not compile, and throws from plain JavaScript
        @OnSignal('afterUpdate')
        notStatic(): void {}
      }
      void Instance;
    }).to.throw(InvalidReceiverError, /goes on a static method of a model class/);
    @Table({ tableName: 'ts_bad_conditions', timestamps: false })
    class BadCondition extends Model {
      @Column({ type: DataType.INTEGER })
      declare n: number;

      @OnSignal('afterUpdate', { when: isEqual('nope', 1) })
      static never(): void {}
    }
    expect(() => sequelize.addModels([BadCondition])).to.throw(
      InvalidReceiverError,
      /the condition reads nope, which BadCondition does not have/,
    );
  });

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

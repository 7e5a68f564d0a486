import { expect } from 'chai';
import { DataTypes, Model, Sequelize } from 'sequelize';
import { BulkSignalsError, InstallError, InvalidReceiverError, NotInstalledError, Priority, bulkSignals, installBulkSignals } from '../lib';
import { Column, DataType, Model as TypedModel, Table } from 'sequelize-typescript';
import { changed } from '../lib';
import { connect, type TestDatabase } from './support/database';
import { collectWarnings } from './support/helpers';
import { Receivers } from './support/recorder';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('installBulkSignals and the registry', () => {
  let db: TestDatabase;
  const receivers = new Receivers();
  class Early extends Model {
    declare id: number;
    declare n: number;
  }
  class Late extends Model {
    declare id: number;
    declare n: number;
  }
  const attributes = { id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, n: DataTypes.INTEGER };

  before(async () => {
    db = connect({}, false);
    Early.init(attributes, { sequelize: db.sequelize, tableName: 'reg_early', timestamps: false });
    installBulkSignals(db.sequelize, { warnOnMultipleReceivers: true });
    installBulkSignals(db.sequelize); // a second call with the same (effective) options is a no-op
    Late.init(attributes, { sequelize: db.sequelize, tableName: 'reg_late', timestamps: false });
    await db.sequelize.sync({ force: true });
  });
  after(() => db.sequelize.close());
  afterEach(() => receivers.clear());

  it('reaches models defined before and after the call, and a second install does not double signals', async () => {
    const seen: string[] = [];
    receivers.add(
      bulkSignals.on(Early, 'afterCreate', (s) => {
        seen.push(`${s.model.name}:${s.newRecords.length}`);
      }),
    );
    receivers.add(
      bulkSignals.on(Late, 'afterCreate', (s) => {
        seen.push(`${s.model.name}:${s.newRecords.length}`);
      }),
    );
    await Early.create({ n: 1 });
    await Late.bulkCreate([{ n: 1 }, { n: 2 }]);
    expect(seen).to.deep.equal(['Early:1', 'Late:2']);
  });

  it("signals writes through scoped models to the model's receivers", async () => {
    Late.addScope('big', { where: { n: 2 } });
    const seen: number[][] = [];
    receivers.add(
      bulkSignals.on(Late, 'afterUpdate', (s) => {
        seen.push(s.newRecords.map((r) => r.n));
      }),
    );
    await Late.scope('big').update({ n: 20 }, { where: {} });
    expect(seen).to.deep.equal([[20]]);
  });

  it("follows attributes added after writes began (an association's foreign key)", async () => {
    const seen: string[][] = [];
    receivers.add(
      bulkSignals.on(Late, 'afterUpdate', (s) => {
        seen.push(Object.keys(s.newRecords[0]!.dataValues).sort());
      }),
    );
    await Late.update({ n: 1 }, { where: {} });
    Late.belongsTo(Early, { foreignKey: 'earlyId', constraints: false });
    await Late.sync({ alter: true });
    await Late.update({ earlyId: 1 }, { where: {} });
    expect(seen).to.deep.equal([
      ['id', 'n'],
      ['earlyId', 'id', 'n'],
    ]);
  });

  it('runs receivers by priority, ties in registration order, and off() unsubscribes', async () => {
    const order: string[] = [];
    const add = (name: string, priority?: number) =>
      bulkSignals.on(
        Early,
        'beforeUpdate',
        () => {
          order.push(name);
        },
        priority === undefined ? { name } : { priority, name },
      );
    const offNormal = add('normal-1');
    receivers.add(offNormal);
    receivers.add(add('lowest', Priority.LOWEST));
    receivers.add(add('normal-2', Priority.NORMAL));
    receivers.add(add('highest', Priority.HIGHEST));
    receivers.add(add('high', Priority.HIGH));
    receivers.add(add('custom-60', 60));
    await Early.update({ n: 5 }, { where: {} });
    expect(order).to.deep.equal(['highest', 'high', 'normal-1', 'normal-2', 'custom-60', 'lowest']);
    offNormal();
    offNormal(); // idempotent
    order.length = 0;
    await Early.update({ n: 6 }, { where: {} });
    expect(order).to.deep.equal(['highest', 'high', 'normal-2', 'custom-60', 'lowest']);
    expect(Priority).to.deep.equal({ HIGHEST: 0, HIGH: 25, NORMAL: 50, LOW: 75, LOWEST: 100 });
  });

  it('warns once when a model and event get a second receiver', async () => {
    const warnings = await collectWarnings(() => {
      receivers.add(bulkSignals.on(Early, 'afterDelete', () => undefined));
      receivers.add(bulkSignals.on(Early, 'afterDelete', () => undefined));
      receivers.add(bulkSignals.on(Early, 'afterDelete', () => undefined));
    });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include({ name: 'BulkSignalsWarning', code: 'BULK_SIGNALS_MULTIPLE_RECEIVERS' });
    expect(warnings[0]!.message).to.contain('Early').and.contain('afterDelete');
  });

  it('does not warn for receivers with a when condition or a name: those are deliberate', async () => {
    const warnings = await collectWarnings(() => {
      receivers.add(bulkSignals.on(Early, 'afterCreate', () => undefined));
      receivers.add(bulkSignals.on(Early, 'afterCreate', () => undefined, { when: changed('n') }));
      receivers.add(bulkSignals.on(Early, 'afterCreate', () => undefined, { name: 'search-index' }));
    });
    expect(warnings).to.deep.equal([]);
  });

  it('off(model) removes every receiver of a model, off() and clear() every receiver', async () => {
    const seen: string[] = [];
    bulkSignals.on(
      Early,
      'afterCreate',
      () => {
        seen.push('early');
      },
      { name: 'a' },
    );
    bulkSignals.on(
      Early,
      'afterUpdate',
      () => {
        seen.push('early-update');
      },
      { name: 'b' },
    );
    bulkSignals.on(
      Late,
      'afterCreate',
      () => {
        seen.push('late');
      },
      { name: 'c' },
    );
    bulkSignals.off(Early);
    expect([
      bulkSignals.has(Early, 'afterCreate'),
      bulkSignals.has(Early, 'afterUpdate'),
      bulkSignals.has(Late, 'afterCreate'),
    ]).to.deep.equal([false, false, true]);
    await Early.create({ n: 1 });
    await Late.create({ n: 1 });
    expect(seen).to.deep.equal(['late']);
    bulkSignals.on(
      Early,
      'afterCreate',
      () => {
        seen.push('early');
      },
      { name: 'd' },
    );
    bulkSignals.clear();
    expect([bulkSignals.has(Early, 'afterCreate'), bulkSignals.has(Late, 'afterCreate')]).to.deep.equal([false, false]);
  });

  it('a second install with other options throws, naming them', () => {
    const error = thrown(() => installBulkSignals(db.sequelize, { maxDepth: 3 })) as Error;
    expect(error).to.be.instanceOf(InstallError);
    expect(error.message).to.match(/installed already, with other options \(maxDepth\)/);
  });

  it('does not warn when the instance was installed with warnOnMultipleReceivers: false', async () => {
    const quiet = connect();
    class Quiet extends Model {}
    Quiet.init(attributes, { sequelize: quiet.sequelize, tableName: 'reg_quiet' });
    try {
      const warnings = await collectWarnings(() => {
        receivers.add(bulkSignals.on(Quiet, 'afterDelete', () => undefined));
        receivers.add(bulkSignals.on(Quiet, 'afterDelete', () => undefined));
      });
      expect(warnings).to.deep.equal([]);
    } finally {
      await quiet.sequelize.close();
    }
  });

  describe('bad input gets a typed error naming what was expected', () => {
    const cases: [string, () => unknown, typeof BulkSignalsError, RegExp][] = [
      [
        'an unknown event',
        () => bulkSignals.on(Early, 'afterUpdte' as 'afterUpdate', () => undefined),
        InvalidReceiverError,
        /Early.*afterUpdte.*unknown event.*afterUpdate/,
      ],
      [
        'a target that is not a model',
        () => bulkSignals.on({} as typeof Early, 'afterUpdate', () => undefined),
        InvalidReceiverError,
        /model class.*object/,
      ],
      [
        'a receiver that is not a function',
        () => bulkSignals.on(Early, 'afterUpdate', 'log' as never),
        InvalidReceiverError,
        /Early.*afterUpdate.*function.*string/,
      ],
      [
        'a non-finite priority',
        () => bulkSignals.on(Early, 'afterUpdate', () => undefined, { priority: Number.NaN }),
        InvalidReceiverError,
        /Early.*afterUpdate.*finite.*NaN/,
      ],
      ['bypass without a function', () => bulkSignals.bypass(undefined as never), InvalidReceiverError, /bypass expected a function/],
      [
        'null options',
        () => bulkSignals.on(Early, 'afterUpdate', () => undefined, null as never),
        InvalidReceiverError,
        /Early.*afterUpdate.*options must be an object, got null/,
      ],
      [
        'a name that is not a string',
        () => bulkSignals.on(Early, 'afterUpdate', () => undefined, { name: 3 as never }),
        InvalidReceiverError,
        /name must be a string/,
      ],
      ['install on something else', () => installBulkSignals({} as Sequelize), InstallError, /expected a Sequelize instance/],
    ];
    for (const [what, fn, type, message] of cases) {
      it(what, () => {
        const error = thrown(fn);
        expect(error).to.be.instanceOf(type).and.instanceOf(BulkSignalsError);
        expect((error as Error).message).to.match(message);
      });
    }

    it('a model whose Sequelize instance never ran installBulkSignals (throws, so it cannot fail silently)', async () => {
      const plain = connect({}, false);
      class Orphan extends Model {}
      Orphan.init(attributes, { sequelize: plain.sequelize, tableName: 'reg_orphan' });
      try {
        const error = thrown(() => bulkSignals.on(Orphan, 'afterCreate', () => undefined)) as NotInstalledError;
        expect(error).to.be.instanceOf(NotInstalledError);
        expect(error).to.include({ modelName: 'Orphan', event: 'afterCreate' });
        expect(error.message).to.match(/never ran installBulkSignals/);
      } finally {
        await plain.sequelize.close();
      }
    });

    it('a sequelize-typescript model not added to a Sequelize instance yet (NotInstalledError, as for an uninstalled one)', () => {
      @Table({ tableName: 'reg_loose' })
      class Loose extends TypedModel {
        @Column({ type: DataType.INTEGER })
        declare n: number;
      }
      const error = thrown(() => bulkSignals.on(Loose, 'afterCreate', () => undefined)) as NotInstalledError;
      expect(error).to.be.instanceOf(NotInstalledError);
      expect(error).to.include({ modelName: 'Loose', event: 'afterCreate' });
      expect(error.message).to.match(/not initialised on a Sequelize instance yet; add it .*addModels/);
    });

    it('a dialect the library does not support', async () => {
      // No MSSQL driver is installed here, so stand an MSSQL instance in by its dialect name.
      const other = new Sequelize(process.env.DATABASE_URL!, { logging: false });
      Object.assign(other, { getDialect: () => 'mssql' });
      const error = thrown(() => installBulkSignals(other));
      expect(error).to.be.instanceOf(InstallError);
      expect((error as Error).message).to.equal(
        "installBulkSignals supports postgres, mariadb, mysql, sqlite; this Sequelize instance uses 'mssql'",
      );
      await other.close();
    });
  });
});

import { expect } from 'chai';
import { DataTypes } from 'sequelize';
import { UnsupportedOperationError, bulkSignals, type Signal } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Account, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';

const FIELDS = ['id', 'name', 'balance', 'status'];
const SET_BEFORE = ['balance', 'name', 'status'];
const SET_AFTER = ['balance', 'createdAt', 'id', 'name', 'status', 'updatedAt'];
/** bulkCreate's before phase sees Sequelize's rows as it is about to insert them: timestamps set, no id yet. */
const SET_BULK_BEFORE = ['balance', 'createdAt', 'name', 'status', 'updatedAt'];

describe('create events', () => {
  const db = useDatabase('crt', defineModels);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    recorder = new Recorder([Account]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  it("Model.create delivers one record, before it has an id and after with the database's values", async () => {
    const created = await Account.create({ name: 'x', balance: 5, ownerEmail: null, note: null, meta: null });
    expect(recorder.summary(FIELDS)).to.deep.equal([
      {
        event: 'validateCreate',
        model: 'Account',
        operation: 'create',
        via: 'instance',
        soft: false,
        newRecords: [{ id: null, name: 'x', balance: 5, status: 'open' }],
        oldRecords: [],
        changedFields: SET_BEFORE,
      },
      {
        event: 'beforeCreate',
        model: 'Account',
        operation: 'create',
        via: 'instance',
        soft: false,
        newRecords: [{ id: null, name: 'x', balance: 5, status: 'open' }],
        oldRecords: [],
        changedFields: SET_BEFORE,
      },
      {
        event: 'afterCreate',
        model: 'Account',
        operation: 'create',
        via: 'instance',
        soft: false,
        newRecords: [{ id: 1, name: 'x', balance: 5, status: 'open' }],
        oldRecords: [],
        changedFields: SET_AFTER,
      },
    ]);
    const [delivered] = recorder.signals[2]!.newRecords;
    expect(delivered).to.not.equal(created, "payload records are copies: an after receiver cannot reach the caller's instance");
    expect(delivered.get({ plain: true })).to.deep.equal(created.get({ plain: true }));
    expect(new Set(recorder.transactions).size).to.equal(1);
  });

  it('save() of a new instance reports operation "save"', async () => {
    const account = Account.build({ name: 'y' });
    await account.save();
    expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.operation, s.newRecords])).to.deep.equal([
      ['validateCreate', 'save', [{ id: null, name: 'y' }]],
      ['beforeCreate', 'save', [{ id: null, name: 'y' }]],
      ['afterCreate', 'save', [{ id: 1, name: 'y' }]],
    ]);
  });

  it('findOrCreate signals a create only when it creates, inside its own transaction', async () => {
    const [first, created] = await Account.findOrCreate({ where: { name: 'once' }, defaults: { name: 'once', balance: 3 } });
    const [second, createdAgain] = await Account.findOrCreate({ where: { name: 'once' } });
    expect([created, createdAgain, second.id]).to.deep.equal([true, false, first.id]);
    expect(recorder.summary(['id', 'name', 'balance']).map((s) => [s.event, s.operation, s.newRecords])).to.deep.equal([
      ['validateCreate', 'create', [{ id: null, name: 'once', balance: 3 }]],
      ['beforeCreate', 'create', [{ id: null, name: 'once', balance: 3 }]],
      ['afterCreate', 'create', [{ id: 1, name: 'once', balance: 3 }]],
    ]);
  });

  it('findCreateFind signals a create only when it creates', async () => {
    const [created, wasCreated] = await Account.findCreateFind({ where: { name: 'fcf' }, defaults: { name: 'fcf', balance: 4 } });
    const [found, wasCreatedAgain] = await Account.findCreateFind({ where: { name: 'fcf' }, defaults: { name: 'fcf', balance: 9 } });
    expect([wasCreated, wasCreatedAgain, found.id]).to.deep.equal([true, false, created.id]);
    expect(
      recorder
        .summary(['id', 'name', 'balance'])
        .filter((s) => s.event === 'afterCreate')
        .map((s) => s.newRecords),
    ).to.deep.equal([[{ id: 1, name: 'fcf', balance: 4 }]]);
  });

  it('writes what before receivers set', async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeCreate', ({ newRecords }) => {
        (newRecords[0] as Account).note = 'from receiver';
      }),
    );
    const created = await Account.create({ name: 'z' });
    await created.reload();
    expect(created.note).to.equal('from receiver');
  });

  describe('Model.bulkCreate', () => {
    it("delivers all records in the caller's order, with their ids, in one dispatch and one statement", async () => {
      const { count, result } = await db.log.count(() =>
        Account.bulkCreate([
          { name: 'b', balance: 2 },
          { name: 'a', balance: 1 },
          { name: 'c', balance: 3, status: 'vip' },
        ]),
      );
      // MariaDB ≥ 10.5: INSERT … RETURNING. Elsewhere the inserted rows are read back: by the LAST_INSERT_ID()
      // range (MySQL), or above the largest rowid read before the INSERT (SQLite).
      expect(count).to.equal(perDialect({ postgres: 1, mariadb: 1, others: 2, sqlite: 3 }));
      const before = [
        { id: null, name: 'b', balance: 2, status: 'open' },
        { id: null, name: 'a', balance: 1, status: 'open' },
        { id: null, name: 'c', balance: 3, status: 'vip' },
      ];
      const after = before.map((r, i) => ({ ...r, id: i + 1 }));
      expect(recorder.summary(FIELDS)).to.deep.equal([
        // Before receivers see the rows as Sequelize is about to insert them: its timestamps are set by then.
        {
          event: 'validateCreate',
          model: 'Account',
          operation: 'bulkCreate',
          via: 'model',
          soft: false,
          newRecords: before,
          oldRecords: [],
          changedFields: SET_BULK_BEFORE,
        },
        {
          event: 'beforeCreate',
          model: 'Account',
          operation: 'bulkCreate',
          via: 'model',
          soft: false,
          newRecords: before,
          oldRecords: [],
          changedFields: SET_BULK_BEFORE,
        },
        {
          event: 'afterCreate',
          model: 'Account',
          operation: 'bulkCreate',
          via: 'model',
          soft: false,
          newRecords: after,
          oldRecords: [],
          changedFields: SET_AFTER,
        },
      ]);
      const [, , afterSignal] = recorder.signals as Signal<Account>[];
      // Sequelize refreshes the instances it returns from RETURNING on PostgreSQL only (elsewhere: ids at most).
      if (onDialect('postgres'))
        expect(afterSignal!.newRecords.map((r) => r.get({ plain: true }))).to.deep.equal(
          result.map((r) => r.get({ plain: true })),
          'the rows the caller gets back',
        );
      expect(afterSignal!.newRecords.some((r, i) => r === result[i])).to.equal(false, 'as copies');
      expect(new Set(recorder.transactions).size).to.equal(1);
    });

    it('inserts per-row values that before receivers set, and runs setters once', async () => {
      let setterCalls = 0;
      const original = Object.getOwnPropertyDescriptor(Account.rawAttributes.name!, 'set');
      Account.rawAttributes.name!.set = function set(this: Account, value: unknown) {
        setterCalls++;
        this.setDataValue('name', String(value).toUpperCase());
      };
      (Account as unknown as { refreshAttributes(): void }).refreshAttributes();
      try {
        receivers.add(
          bulkSignals.on(Account, 'beforeCreate', ({ newRecords }) => {
            newRecords.forEach((r, i) => {
              r.note = `row ${i}`;
            });
          }),
        );
        await Account.bulkCreate([{ name: 'p' }, { name: 'q' }]);
        const rows = await Account.findAll({ order: [['id', 'ASC']] });
        expect(rows.map((r) => [r.name, r.note])).to.deep.equal([
          ['P', 'row 0'],
          ['Q', 'row 1'],
        ]);
        expect(setterCalls).to.equal(2);
      } finally {
        if (original) Object.defineProperty(Account.rawAttributes.name!, 'set', original);
        else delete Account.rawAttributes.name!.set;
        (Account as unknown as { refreshAttributes(): void }).refreshAttributes();
      }
    });

    it('inserts receiver edits even when the caller names the fields', async () => {
      receivers.add(
        bulkSignals.on(Account, 'beforeCreate', ({ newRecords }) => {
          for (const r of newRecords as Account[]) r.note = `note for ${r.name}`;
        }),
      );
      await Account.bulkCreate([{ name: 'f', balance: 7 }], { fields: ['name'] });
      const [row] = await Account.findAll();
      expect([row!.name, row!.balance, row!.note]).to.deep.equal(['f', 0, 'note for f']);
    });

    it('signals once when the caller asks Sequelize for individualHooks', async () => {
      const perRow: string[] = [];
      Account.addHook('beforeCreate', 'spec-individual', (instance: Account) => {
        perRow.push(instance.name);
      });
      try {
        await Account.bulkCreate([{ name: 'i1' }, { name: 'i2' }], { individualHooks: true });
      } finally {
        Account.removeHook('beforeCreate', 'spec-individual');
      }
      expect(perRow.sort()).to.deep.equal(['i1', 'i2']);
      expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.operation, s.newRecords])).to.deep.equal([
        [
          'validateCreate',
          'bulkCreate',
          [
            { id: null, name: 'i1' },
            { id: null, name: 'i2' },
          ],
        ],
        [
          'beforeCreate',
          'bulkCreate',
          [
            { id: null, name: 'i1' },
            { id: null, name: 'i2' },
          ],
        ],
        [
          'afterCreate',
          'bulkCreate',
          [
            { id: 1, name: 'i1' },
            { id: 2, name: 'i2' },
          ],
        ],
      ]);
    });

    it('with individualHooks, inserts what before receivers set; before receivers alone get one dispatch', async () => {
      recorder.off();
      recorder = new Recorder([Account], ['beforeCreate']);
      receivers.add(
        bulkSignals.on(Account, 'beforeCreate', ({ newRecords }) => {
          for (const r of newRecords) if (r.name === 'i2') r.note = 'set by a receiver';
        }),
      );
      const created = await Account.bulkCreate([{ name: 'i1' }, { name: 'i2' }], { individualHooks: true });
      expect(created.map((r) => [r.id, r.note ?? null])).to.deep.equal([
        [1, null],
        [2, 'set by a receiver'],
      ]);
      const rows = await Account.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.name, r.note])).to.deep.equal([
        ['i1', null],
        ['i2', 'set by a receiver'],
      ]);
      expect(recorder.summary(['name']).map((s) => [s.event, s.newRecords])).to.deep.equal([
        ['beforeCreate', [{ name: 'i1' }, { name: 'i2' }]],
      ]);
    });

    it('a before receiver that throws vetoes the insert with its own error', async () => {
      const veto = new Error('no negative balances');
      receivers.add(
        bulkSignals.on(Account, 'validateCreate', ({ newRecords }) => {
          if ((newRecords as Account[]).some((r) => r.balance < 0)) throw veto;
        }),
      );
      let error: unknown;
      try {
        await Account.bulkCreate([
          { name: 'ok', balance: 1 },
          { name: 'bad', balance: -1 },
        ]);
      } catch (e) {
        error = e;
      }
      expect(error).to.equal(veto);
      expect(await Account.count()).to.equal(0);
      expect(recorder.events()).to.deep.equal(['validateCreate']);
    });
  });

  describe('a model without a primary key', () => {
    /**
     * Rows that cannot be told apart by a key: PostgreSQL finds them by ctid, SQLite by rowid, MariaDB ≥ 10.5 has
     * them returned by the INSERT (the mariadb dialect), MySQL cannot find them at all.
     */
    const keyless = () => {
      const sequelize = Account.sequelize!;
      if (sequelize.isDefined('KeylessCreate')) return sequelize.model('KeylessCreate');
      const model = sequelize.define(
        'KeylessCreate',
        { tag: DataTypes.STRING, n: { type: DataTypes.INTEGER, defaultValue: 7 } },
        { tableName: 'crt_keyless', timestamps: false },
      );
      model.removeAttribute('id');
      return model;
    };

    it('create and bulkCreate deliver the rows as inserted, database defaults included (refused on MySQL, nothing written)', async () => {
      const Keyless = keyless();
      await Keyless.sync({ force: true });
      const seen: unknown[][] = [];
      receivers.add(
        bulkSignals.on(Keyless, 'afterCreate', ({ newRecords }) => {
          seen.push(newRecords.map((r) => [r.get('tag'), r.get('n')]));
        }),
      );
      const writes = () => Promise.all([Keyless.create({ tag: 'a' }), Keyless.bulkCreate([{ tag: 'b', n: 1 }, { tag: 'c' }])]);
      if (onDialect('mysql')) {
        const error = await writes().catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnsupportedOperationError);
        expect((error as Error).message).to.match(/KeylessCreate has no primary key/);
        expect(await Keyless.count()).to.equal(0, 'nothing written');
        return;
      }
      await Keyless.create({ tag: 'a' });
      await Keyless.bulkCreate([{ tag: 'b', n: 1 }, { tag: 'c' }]);
      expect(seen).to.deep.equal([
        [['a', 7]],
        [
          ['b', 1],
          ['c', 7],
        ],
      ]);
    });
  });

  it('bulkCreate with binary primary keys delivers every row (MariaDB/MySQL read them back as text: matched by their bytes)', async () => {
    const sequelize = Account.sequelize!;
    const Blob = sequelize.isDefined('CrtBinary')
      ? sequelize.model('CrtBinary')
      : sequelize.define(
          'CrtBinary',
          { id: { type: DataTypes.STRING(16, true), primaryKey: true }, n: DataTypes.INTEGER },
          { tableName: 'crt_binary', timestamps: false },
        );
    await Blob.sync({ force: true });
    const seen: number[] = [];
    receivers.add(
      bulkSignals.on(Blob, 'afterCreate', ({ newRecords }) => {
        seen.push(...newRecords.map((r) => r.get('n') as number));
      }),
    );
    await Blob.bulkCreate([
      { id: Buffer.alloc(16, 1), n: 1 },
      { id: Buffer.alloc(16, 0x7e), n: 2 },
    ]);
    expect(seen).to.deep.equal([1, 2]);
  });
});

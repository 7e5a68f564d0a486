import { expect } from 'chai';
import { DataTypes, Model, type CreationOptional, type ModelStatic, type Sequelize } from 'sequelize';
import { InvalidInputError, bulkDestroy, bulkSignals, bulkUpdate } from '../lib';
import { onDialect, perDialect, resetTables, useDatabase } from './support/database';
import { Account, Ledger, Membership, dateType, defineModels } from './support/models';
import { Receivers, Recorder } from './support/recorder';
import { rejection } from './support/helpers';

/** One column of every type bulkUpdate must cast correctly. */
class Gadget extends Model {
  declare id: string;
  declare big: string | null;
  declare price: string | null;
  declare seenAt: Date | null;
  declare day: string | null;
  declare flag: boolean | null;
  declare data: Record<string, unknown> | null;
  declare doc: unknown;
  declare tags: string[] | null;
  declare kind: 'a' | 'b' | null;
  declare score: number | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** A model without a primary key (never synced: bulkUpdate and bulkDestroy refuse it before any statement). */
function keyless(): ModelStatic<Model> {
  const sequelize = Account.sequelize!;
  if (sequelize.isDefined('KeylessUpdate')) return sequelize.model('KeylessUpdate');
  const model = sequelize.define('KeylessUpdate', { n: DataTypes.INTEGER }, { tableName: 'keyless_update', timestamps: false });
  model.removeAttribute('id');
  return model;
}

function define(sequelize: Sequelize, prefix: string): void {
  defineModels(sequelize, prefix);
  Gadget.init(
    {
      id: { type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 },
      big: DataTypes.BIGINT,
      price: DataTypes.DECIMAL(12, 2),
      seenAt: { type: dateType(), field: 'seen_at' },
      day: DataTypes.DATEONLY,
      flag: DataTypes.BOOLEAN,
      data: onDialect('postgres') ? DataTypes.JSONB : DataTypes.JSON,
      doc: DataTypes.JSON,
      // Arrays are PostgreSQL's only.
      ...(onDialect('postgres') ? { tags: DataTypes.ARRAY(DataTypes.STRING) } : {}),
      kind: DataTypes.ENUM('a', 'b'),
      score: DataTypes.DOUBLE,
    },
    { sequelize, tableName: `${prefix}_gadgets` },
  );
}

describe('bulkUpdate', () => {
  const db = useDatabase('bup', define);
  const receivers = new Receivers();
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate(
      [
        { name: 'a', balance: 1 },
        { name: 'b', balance: 2 },
        { name: 'c', balance: 3 },
      ],
      { bypassSignals: true },
    );
    recorder = new Recorder([Account, Membership, Gadget, Ledger]);
  });
  afterEach(() => {
    recorder.off();
    receivers.clear();
  });

  const load = () => Account.findAll({ order: [['id', 'ASC']] });

  it('writes a different value per row in one statement and leaves instances settled', async () => {
    recorder.off();
    const [a, b, c] = await load();
    a!.balance = 10;
    b!.balance = 20;
    b!.name = 'bee';
    c!.status = 'vip';
    const { count, result, statements } = await db.log.count(() => bulkUpdate(Account, [c!, a!, b!]));
    // MariaDB/MySQL read the rows back by key (no RETURNING), so the instances settle on what the database holds.
    expect(count, statements.join('\n')).to.equal(perDialect({ postgres: 1, sqlite: 1, others: 2 }));
    expect(result).to.equal(3);
    expect((await load()).map((r) => [r.name, r.balance, r.status])).to.deep.equal([
      ['a', 10, 'open'],
      ['bee', 20, 'open'],
      ['c', 3, 'vip'],
    ]);
    for (const r of [a!, b!, c!]) expect(r.changed()).to.equal(false);
    expect(a!.updatedAt.getTime()).to.equal((await Account.findByPk(1))!.updatedAt.getTime());
  });

  it("delivers update events in the caller's order with locked old rows, and writes receiver edits in the same statement", async () => {
    receivers.add(
      bulkSignals.on(Account, 'beforeUpdate', ({ newRecords }) => {
        for (const r of newRecords as Account[]) r.note = `checked ${r.name}`;
      }),
    );
    const [a, b, c] = await load();
    c!.balance = 30;
    a!.balance = 11;
    const { count } = await db.log.count(() => bulkUpdate(Account, [c!, b!, a!]));
    expect(count).to.equal(
      perDialect({ postgres: 2, sqlite: 2, others: 3 }),
      'one locked read, one UPDATE of the per-row values (+ the rows read by key)',
    );
    const summary = recorder.summary(['id', 'balance', 'note']);
    expect(summary.map((s) => [s.event, s.operation, s.via, s.oldRecords, s.newRecords])).to.deep.equal([
      [
        'validateUpdate',
        'bulkUpdate',
        'model',
        [
          { id: 3, balance: 3, note: null },
          { id: 1, balance: 1, note: null },
        ],
        [
          { id: 3, balance: 30, note: null },
          { id: 1, balance: 11, note: null },
        ],
      ],
      [
        'beforeUpdate',
        'bulkUpdate',
        'model',
        [
          { id: 3, balance: 3, note: null },
          { id: 1, balance: 1, note: null },
        ],
        [
          { id: 3, balance: 30, note: null },
          { id: 1, balance: 11, note: null },
        ],
      ],
      [
        'afterUpdate',
        'bulkUpdate',
        'model',
        [
          { id: 3, balance: 3, note: null },
          { id: 1, balance: 1, note: null },
        ],
        [
          { id: 3, balance: 30, note: 'checked c' },
          { id: 1, balance: 11, note: 'checked a' },
        ],
      ],
    ]);
    expect(summary[2]!.changedFields).to.deep.equal(['balance', 'note', 'updatedAt']);
    expect(new Set(recorder.transactions).size).to.equal(1);
    expect((await load()).map((r) => r.note)).to.deep.equal(['checked a', null, 'checked c']);
  });

  it("writes only each row's changed attributes: concurrent changes to other columns survive", async () => {
    const [a, b] = await load();
    a!.balance = 100;
    b!.name = 'bee';
    // Another writer changes the columns these instances did not touch.
    await Account.update({ name: 'a-other', balance: 222 }, { where: { id: [1, 2] }, bypassSignals: true });
    await bulkUpdate(Account, [a!, b!]);
    expect((await load()).slice(0, 2).map((r) => [r.name, r.balance])).to.deep.equal([
      ['a-other', 100],
      ['bee', 222],
    ]);
  });

  it('with fields, writes those attributes on every row', async () => {
    const rows = await load();
    rows.forEach((r, i) => {
      r.balance = 50 + i;
      r.name = `ignored ${i}`;
    });
    await bulkUpdate(Account, rows, { fields: ['balance'] });
    expect((await load()).map((r) => [r.name, r.balance])).to.deep.equal([
      ['a', 50],
      ['b', 51],
      ['c', 52],
    ]);
  });

  it('stamps updatedAt unless silent', async () => {
    const [a] = await load();
    const before = a!.updatedAt.getTime();
    a!.balance = 7;
    await bulkUpdate(Account, [a!], { silent: true });
    expect((await Account.findByPk(1))!.updatedAt.getTime()).to.equal(before);
  });

  it('nothing changed: no statement, no signal, 0', async () => {
    const rows = await load();
    const { count, result } = await db.log.count(() => bulkUpdate(Account, rows));
    expect([count, result]).to.deep.equal([0, 0]);
    expect(recorder.signals).to.deep.equal([]);
  });

  /** Writes `values` over other rows' values with bulkUpdate; what is stored must be what Sequelize's INSERT stores. */
  async function castsLikeSequelize(values: Record<string, unknown>[], withTags: boolean): Promise<string[]> {
    if (!onDialect('postgres') || !withTags) for (const v of values) delete (v as { tags?: unknown }).tags;
    const blank = Object.fromEntries(Object.keys(values[0]!).map((k) => [k, null]));
    // Start each row from another row's values, so every value (NULLs too) is a change.
    const gadgets = await Gadget.bulkCreate([blank, values[0]!, blank], { bypassSignals: true });
    gadgets.forEach((g, i) => g.set(values[i]!));
    const { result, statements } = await db.log.count(() => bulkUpdate(Gadget, [...gadgets].reverse()));
    expect(result).to.equal(3);
    const fresh = await Promise.all(gadgets.map((g) => Gadget.findByPk(g.id)));
    const pickValues = (g: Gadget) => Object.fromEntries(Object.keys(values[0]!).map((k) => [k, g.get(k)]));
    // What Sequelize's own INSERT stores for the same values, read back the same way: each dialect has its own
    // readings (DECIMAL as a number on SQLite, BIGINT as a number on MariaDB…); bulkUpdate must store the same.
    const controls = await Gadget.bulkCreate(values, { bypassSignals: true });
    const stored = await Promise.all(controls.map(async (c) => pickValues((await Gadget.findByPk(c.id))!)));
    if (onDialect('postgres')) expect(stored).to.deep.equal(values);
    expect(fresh.map((g) => pickValues(g!))).to.deep.equal(stored);
    if (onDialect('postgres')) expect(gadgets.map(pickValues)).to.deep.equal(values, 'instances hold what the database holds');
    return statements;
  }

  const everyType = () => [
    {
      big: '9007199254740993',
      price: '12.50',
      seenAt: new Date('2024-01-02T03:04:05.678Z'),
      day: '2024-02-29',
      flag: true,
      data: { a: [1, { b: 'x' }] },
      doc: ['j', 1],
      tags: ['x', "it's"],
      kind: 'b' as const,
      score: 1.5,
    },
    { big: null, price: null, seenAt: null, day: null, flag: null, data: null, doc: null, tags: null, kind: null, score: null },
    {
      big: '-1',
      price: '0.01',
      seenAt: new Date(0),
      day: '1999-12-31',
      flag: false,
      data: {},
      doc: { n: null },
      tags: [],
      kind: 'a' as const,
      score: -0.25,
    },
  ];

  it('casts every type Sequelize supports, NULLs included', async () => {
    const statements = await castsLikeSequelize(everyType(), true);
    // An ARRAY column's values cannot be elements of one array parameter: PostgreSQL writes a VALUES list.
    if (onDialect('postgres')) expect(statements.join('\n')).to.match(/FROM \(VALUES /);
  });

  (onDialect('postgres') ? it : it.skip)(
    'PostgreSQL: without an ARRAY column, the values travel as one array per column (unnest)',
    async () => {
      const values = everyType();
      // Text that array literals quote and escape.
      (values[0] as Record<string, unknown>).doc = { s: 'a,b {c} "d" \\e\'f NULL', u: 'ü 🙂' };
      const statements = await castsLikeSequelize(values, false);
      expect(statements.join('\n')).to.match(/FROM unnest\(CAST\(\$1 AS /);
      expect(statements.join('\n')).not.to.match(/VALUES/);
    },
  );

  it('a value too long for its column fails the write as an UPDATE of it would, nothing written', async () => {
    recorder.off();
    const [a, b] = await load();
    a!.balance = 99;
    b!.name = 'x'.repeat(256);
    // SQLite does not enforce VARCHAR lengths: the value is stored whole, as Sequelize's own UPDATE stores it.
    if (onDialect('sqlite')) {
      await bulkUpdate(Account, [a!, b!]);
      expect((await Account.findByPk(b!.id))!.name).to.have.length(256);
      return;
    }
    const error = await rejection(bulkUpdate(Account, [a!, b!]));
    expect(String((error as Error).message)).to.match(/too long/i);
    expect((await load()).map((r) => [r.name, r.balance])).to.deep.equal([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
  });

  it('pairs composite primary keys', async () => {
    await resetTables(Membership);
    const members = await Membership.bulkCreate(
      [
        { groupId: 1, userId: 1, role: 'a' },
        { groupId: 1, userId: 2, role: 'b' },
      ],
      { bypassSignals: true },
    );
    members[1]!.role = 'B';
    members[0]!.role = 'A';
    await bulkUpdate(Membership, members);
    expect(recorder.summary(['groupId', 'userId', 'role']).find((s) => s.event === 'afterUpdate')!.newRecords).to.deep.equal([
      { groupId: 1, userId: 1, role: 'A' },
      { groupId: 1, userId: 2, role: 'B' },
    ]);
  });

  it('refuses bad input with a typed error before writing anything', async () => {
    const [a, b] = await load();
    a!.balance = 999;
    const twin = Account.build({ id: 1, name: 'twin' }, { isNewRecord: false });
    const ledger = (await Ledger.create({ label: 'x', amount: 1 }, { bypassSignals: true })) as never;
    // Thunks: each call starts when it is awaited, so no rejection waits unhandled.
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => bulkUpdate(Account, [a!, Account.build({ name: 'new' })]), /item 1 is not saved yet/],
      [() => bulkUpdate(Account, [a!, ledger]), /item 1 is not a Account instance \(got a Ledger\)/],
      [() => bulkUpdate(Account, [a!, twin]), /items 0 and 1 have the same primary key/],
      [() => bulkUpdate(Account, [a!], { fields: ['nope' as never] }), /'nope' is not an attribute of Account/],
      [() => bulkUpdate(Account, [a!], { fields: ['id'] }), /'id' is the primary key/],
      [() => bulkUpdate(Account, [a!], { batchSize: 0 }), /batchSize must be a positive integer, got 0/],
      [() => bulkUpdate({} as never, [a!]), /expected a model class/],
      [() => bulkUpdate(Account, a as never), /expected an array of Account instances, got object/],
      [() => bulkUpdate(Account, [a!, { id: 2, balance: 5 } as never]), /item 1 is not a Account instance \(got object\)/],
      [() => bulkUpdate(Account, [Account.build({ name: 'keyless' }, { isNewRecord: false })]), /item 0 has no primary key value/],
      [() => bulkUpdate(Account, [rekeyed()]), /item 0 changes its primary key; bulkUpdate finds rows by it/],
      [() => bulkUpdate(keyless(), []), /KeylessUpdate has no primary key/],
    ];
    for (const [call, message] of cases) {
      const error = await rejection(call());
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message)
        .to.match(message)
        .and.match(/nothing was written$/);
    }
    expect((await Account.findByPk(1))!.balance).to.equal(1);
    expect(await bulkUpdate(Account, [])).to.equal(0);
    void b;

    function rekeyed(): Account {
      const moved = Account.build({ id: 3, name: 'c' }, { isNewRecord: false });
      moved.id = 30;
      return moved;
    }
  });

  it(`20 000 rows × 6 columns: batches of 1000, ${perDialect({ postgres: 'one statement', sqlite: 'one statement', others: 'an UPDATE and a read by key' })} each`, async function () {
    this.timeout(180000);
    recorder.off();
    await resetTables(Account);
    await Account.bulkCreate(
      Array.from({ length: 20000 }, (_, i) => ({ name: `n${i}`, balance: i })),
      { bypassSignals: true },
    );
    const rows = await load();
    rows.forEach((r, i) => {
      r.name = `m${i}`;
      r.balance = i * 2;
      r.status = i % 2 ? 'odd' : 'even';
      r.ownerEmail = `u${i}@x.test`;
      r.note = i % 3 ? null : 'third';
    });
    const { count, result } = await db.log.count(() => bulkUpdate(Account, rows));
    expect(result).to.equal(20000);
    expect(count).to.equal(perDialect({ postgres: 20, sqlite: 20, others: 40 }));
    const check = await Account.findAll({ where: { id: [1, 2, 20000] }, order: [['id', 'ASC']] });
    expect(check.map((r) => [r.name, r.balance, r.status, r.ownerEmail, r.note])).to.deep.equal([
      ['m0', 0, 'even', 'u0@x.test', 'third'],
      ['m1', 2, 'odd', 'u1@x.test', null],
      ['m19999', 39998, 'odd', 'u19999@x.test', null],
    ]);
  });
});

describe('bulkDestroy', () => {
  const db = useDatabase('bde', defineModels);
  let recorder: Recorder;

  beforeEach(async () => {
    await resetTables(Account);
    await Account.bulkCreate([{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }], { bypassSignals: true });
    recorder = new Recorder([Account, Ledger, Membership]);
  });
  afterEach(() => recorder.off());

  it("deletes instances or keys in two statements, signalling in the caller's order", async () => {
    const d = (await Account.findByPk(4))!;
    const { count, result } = await db.log.count(() => bulkDestroy(Account, [3, d, 1, 3]));
    expect([count, result]).to.deep.equal([2, 3]);
    expect(recorder.summary(['id', 'name']).map((s) => [s.event, s.operation, s.oldRecords])).to.deep.equal(
      ['validateDelete', 'beforeDelete', 'afterDelete'].map((e) => [
        e,
        'bulkDestroy',
        [
          { id: 3, name: 'c' },
          { id: 4, name: 'd' },
          { id: 1, name: 'a' },
        ],
      ]),
    );
    expect((await Account.findAll()).map((a) => a.id)).to.deep.equal([2]);
  });

  it('soft-deletes paranoid rows unless forced, and takes composite keys as objects', async () => {
    await resetTables(Ledger);
    await Ledger.bulkCreate(
      [
        { label: 'x', amount: 1 },
        { label: 'y', amount: 2 },
      ],
      { bypassSignals: true },
    );
    recorder.clear();
    expect(await bulkDestroy(Ledger, [2])).to.equal(1);
    expect(await bulkDestroy(Ledger, [1, 2], { force: true })).to.equal(2);
    expect(
      recorder
        .summary(['id'])
        .filter((s) => s.event === 'afterDelete')
        .map((s) => [s.soft, s.oldRecords]),
    ).to.deep.equal([
      [true, [{ id: 2 }]],
      [false, [{ id: 1 }, { id: 2 }]],
    ]);
    await resetTables(Membership);
    await Membership.bulkCreate(
      [
        { groupId: 1, userId: 1, role: 'a' },
        { groupId: 2, userId: 1, role: 'b' },
      ],
      { bypassSignals: true },
    );
    expect(await bulkDestroy(Membership, [{ groupId: 2, userId: 1 }])).to.equal(1);
    expect(await Membership.count()).to.equal(1);
  });

  it('refuses bad input before writing', async () => {
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => bulkDestroy(Account, [1, null as never]), /item 1 has no value for the primary key \(id\)/],
      [() => bulkDestroy(Account, [Account.build({ name: 'x' })]), /item 0 is not saved yet/],
      [() => bulkDestroy(Membership, [1]), /item 0 is a single value, but Membership's primary key has 2 columns/],
      [
        () => bulkDestroy(Account, [Membership.build({ groupId: 1, userId: 1, role: 'r' }, { isNewRecord: false }) as never]),
        /item 0 is a Membership, not a Account/,
      ],
      [() => bulkDestroy({} as never, [1]), /^bulkDestroy\(\?\): expected a model class as the first argument, got object/],
      [() => bulkDestroy(Account, 1 as never), /^bulkDestroy\(Account\): expected an array of instances or primary keys, got number/],
      [() => bulkDestroy(keyless(), [1]), /KeylessUpdate has no primary key/],
    ];
    for (const [call, message] of cases) {
      const error = await rejection(call());
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as Error).message).to.match(message);
    }
    expect(await Account.count()).to.equal(4);
    // Nothing to delete: no statement; the same key twice is one row.
    const { result: none, count } = await db.log.count(() => bulkDestroy(Account, []));
    expect([none, count]).to.deep.equal([0, 0]);
    expect(await bulkDestroy(Account, [1, 1, '1'])).to.equal(1);
  });
});

import { expect } from 'chai';
import { DataTypes, Model, Op, type ModelStatic } from 'sequelize';
import { Column, DataType, Model as TypedModel, Table } from 'sequelize-typescript';
import { InheritanceError, UnsupportedOperationError, bulkDestroy, bulkSignals, bulkUpdate, changed, inherit, type Signal } from '../lib';
import { connect, connectTyped, onDialect, resetTables, useDatabase } from './support/database';
import { Pizzeria, Place, Restaurant, defineInheritance } from './support/inheritance-models';
import { Receivers } from './support/recorder';

type Any = any;

describe('multi-table inheritance across the chain', () => {
  const db = useDatabase('inf', defineInheritance);
  const receivers = new Receivers();
  const seen: string[] = [];

  beforeEach(async () => {
    await resetTables(Pizzeria, Restaurant, Place);
    seen.length = 0;
  });
  afterEach(() => receivers.clear());

  const log = (label: string) => (s: Signal<Model>) => {
    seen.push(
      `${label} ${s.event} ${s.concreteModel.name} ${(s.newRecords.length ? s.newRecords : s.oldRecords).map((r) => r.get('id') ?? r.get('name')).join(',')}`,
    );
  };

  it('three levels: a Pizzeria write reaches Restaurant and Place receivers in that order, each with its own instances', async () => {
    for (const m of [Place, Restaurant, Pizzeria] as ModelStatic<Model>[]) {
      receivers.add(bulkSignals.on(m, 'afterCreate', log(m.name)));
      receivers.add(bulkSignals.on(m, 'afterUpdate', log(m.name)));
    }
    const p = await Pizzeria.create({ name: 'p', crust: 'thin', seats: 4 });
    await Pizzeria.update({ rating: 5, crust: 'thick', seats: 8 }, { where: { name: 'p', servesPizza: false } });
    expect(seen).to.deep.equal([
      `Pizzeria afterCreate Pizzeria ${p.id}`,
      `Restaurant afterCreate Pizzeria ${p.id}`,
      `Place afterCreate Pizzeria ${p.id}`,
      `Pizzeria afterUpdate Pizzeria ${p.id}`,
      `Restaurant afterUpdate Pizzeria ${p.id}`,
      `Place afterUpdate Pizzeria ${p.id}`,
    ]);
    const stored = (await Pizzeria.findByPk(p.id))!;
    expect([stored.rating, stored.crust, stored.seats]).to.deep.equal([5, 'thick', 8]);
  });

  it('a Model.schema() copy of a child is refused before anything is sent, for reads and writes', async () => {
    const existing = await Restaurant.create({ name: 'home', seats: 2 });
    const copy = Restaurant.schema('tenant') as typeof Restaurant;
    const calls: [string, () => Promise<unknown>][] = [
      ['create', () => copy.create({ name: 'x', seats: 1 })],
      ['bulkCreate', () => copy.bulkCreate([{ name: 'x' }])],
      ['findAll', () => copy.findAll()],
      ['count', () => copy.count()],
      ['update', () => copy.update({ seats: 9 }, { where: {} })],
      ['increment', () => copy.increment('seats', { where: {} })],
      ['destroy', () => copy.destroy({ where: {} })],
      ['upsert', () => copy.upsert({ id: existing.id, name: 'y', seats: 3 })],
    ];
    for (const [label, run] of calls) {
      const { result: error, count } = await db.log.count(() =>
        run().then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect([label, (error as Error | undefined)?.name, count], label).to.deep.equal([label, 'UnsupportedOperationError', 0]);
      expect((error as UnsupportedOperationError).modelName).to.equal('Restaurant');
      expect((error as Error).message).to.match(/^Restaurant\.schema\('tenant'\): a Model\.schema\(\) copy of a model that inherits/);
    }
    // The model's own tables are as they were; a scoped copy (same schema) still reads through the join.
    const rows = await Restaurant.scope({ where: { seats: 2 } }).findAll();
    expect(rows.map((r) => [r.id, r.name, r.seats])).to.deep.equal([[existing.id, 'home', 2]]);
    expect([await Place.count(), await Restaurant.count()]).to.deep.equal([1, 1]);
  });

  it("a write through a parent's schema() copy signals the parent's receivers only: children live in the model's schema", async () => {
    // Another schema: PostgreSQL's; a database on MariaDB (the mysql dialect and SQLite prefix the table name).
    if (onDialect('postgres')) await db.sequelize.query('DROP SCHEMA IF EXISTS inf_s CASCADE; CREATE SCHEMA inf_s');
    if (onDialect('mariadb')) {
      await db.sequelize.query('DROP DATABASE IF EXISTS inf_s');
      await db.sequelize.query('CREATE DATABASE inf_s');
    }
    const Tenant = Place.schema('inf_s') as typeof Place;
    await Tenant.sync({ force: true });
    const home = await Restaurant.create({ name: 'home', seats: 1 });
    const away = await Tenant.create({ name: 'away' });
    expect(away.id).to.equal(home.id); // the same key in both schemas: only the tenant's row is written below
    receivers.add(bulkSignals.on(Restaurant, 'afterUpdate', log('Restaurant')));
    receivers.add(bulkSignals.on(Place, 'afterUpdate', log('Place')));
    await Tenant.update({ rating: 3 }, { where: {} });
    const found = (await Tenant.findByPk(away.id))!;
    found.rating = 4;
    await found.save();
    await bulkUpdate(Tenant, [Object.assign(found, { rating: 5 })]);
    expect(seen).to.deep.equal([
      `Place afterUpdate Place ${away.id}`,
      `Place afterUpdate Place ${away.id}`,
      `Place afterUpdate Place ${away.id}`,
    ]);
    expect((await Restaurant.findByPk(home.id))!.rating).to.equal(0);
    await Tenant.drop();
  });

  it("an ancestor's validate receiver vetoes a child's write: nothing written, in any table", async () => {
    receivers.add(
      bulkSignals.on(Place, 'validateCreate', ({ newRecords }) => {
        if ((newRecords as Place[]).some((r) => r.name === 'bad')) throw new Error('no bad places');
      }),
    );
    const error = await Pizzeria.bulkCreate([{ name: 'ok' }, { name: 'bad' }]).catch((e: unknown) => e);
    expect((error as Error).message).to.equal('no bad places');
    expect([await Place.count(), await Restaurant.count(), await Pizzeria.count()]).to.deep.equal([0, 0, 0]);
    await Pizzeria.bulkCreate([{ name: 'bad' }], { bypassValidation: true });
    expect(await Pizzeria.count()).to.equal(1);
  });

  it("conditions (when) on an ancestor's receiver see the ancestor's attributes of the child's rows", async () => {
    await Restaurant.bulkCreate([{ name: 'a' }, { name: 'b' }], { bypassSignals: true });
    receivers.add(bulkSignals.on(Place, 'afterUpdate', log('Place'), { when: changed('rating') }));
    await Restaurant.update({ seats: 3 }, { where: {} });
    await Restaurant.update({ rating: 1 }, { where: { name: 'b' } });
    expect(seen).to.deep.equal(['Place afterUpdate Restaurant 2']);
  });

  it('onCommit receivers of the child and of the ancestor run after COMMIT, in the write’s order', async () => {
    receivers.add(bulkSignals.on(Restaurant, 'afterCreate', log('Restaurant'), { onCommit: true }));
    receivers.add(bulkSignals.on(Place, 'afterCreate', log('Place'), { onCommit: true }));
    await db.sequelize.transaction(async (transaction) => {
      await Restaurant.create({ name: 'r' }, { transaction });
      expect(seen).to.deep.equal([]);
    });
    expect(seen).to.deep.equal(['Restaurant afterCreate Restaurant 1', 'Place afterCreate Restaurant 1']);
  });

  it('bulkSignals.bypass silences a child write and its ancestors; receivers for every model fire once, for the child', async () => {
    receivers.add(bulkSignals.on(Place, 'afterCreate', log('Place')));
    receivers.add(bulkSignals.on(db.sequelize, 'afterCreate', log('every')));
    await bulkSignals.bypass(() => Restaurant.create({ name: 'quiet' }));
    expect(seen).to.deep.equal([]);
    await Restaurant.create({ name: 'loud' });
    expect(seen).to.deep.equal(['every afterCreate Restaurant 2', 'Place afterCreate Restaurant 2']);
  });

  it('bulkDestroy(Restaurant, …) removes the rows from both tables, in the caller’s order', async () => {
    const rows = await Restaurant.bulkCreate([{ name: 'a' }, { name: 'b' }, { name: 'c' }], { bypassSignals: true });
    receivers.add(bulkSignals.on(Restaurant, 'afterDelete', log('Restaurant')));
    expect(await bulkDestroy(Restaurant, [rows[2]!, rows[0]!])).to.equal(2);
    expect(seen).to.deep.equal(['Restaurant afterDelete Restaurant 3,1']);
    expect((await Place.findAll()).map((p) => p.name)).to.deep.equal(['b']);
  });

  it('findOrCreate of a child finds it through the join, or creates it in every table', async () => {
    const [first, created] = await Restaurant.findOrCreate({ where: { name: 'f' }, defaults: { name: 'f', seats: 3 } });
    const [again, createdAgain] = await Restaurant.findOrCreate({ where: { name: 'f' }, defaults: { name: 'f', seats: 9 } });
    expect([created, createdAgain, again.id === first.id, again.seats]).to.deep.equal([true, false, true, 3]);
    expect([await Place.count(), await Restaurant.count()]).to.deep.equal([1, 1]);
  });

  it('a where may combine attributes of every level, and Op.or across tables', async () => {
    await Pizzeria.bulkCreate(
      [
        { name: 'a', crust: 'thin', seats: 1 },
        { name: 'b', crust: 'thick', seats: 2 },
        { name: 'c', crust: 'thin', seats: 3 },
      ],
      { bypassSignals: true },
    );
    const found = await Pizzeria.findAll({
      where: { [Op.or]: [{ name: 'b' }, { crust: 'thin', seats: { [Op.gt]: 1 } }] },
      order: [['id', 'ASC']],
    });
    expect(found.map((p) => p.name)).to.deep.equal(['b', 'c']);
    expect(await Pizzeria.destroy({ where: { [Op.or]: [{ name: 'a' }, { crust: 'thick' }] } })).to.equal(2);
    expect((await Place.findAll()).map((p) => p.name)).to.deep.equal(['c']);
  });
});

describe('multi-table inheritance and associations', () => {
  const handle = {} as { sequelize: ReturnType<typeof connect>['sequelize'] };
  let Owner: Any;
  let Shop: Any;
  let Cafe: Any;
  let City: Any;

  before(async () => {
    Object.assign(handle, connect());
    const s = handle.sequelize;
    City = s.define('City', { name: DataTypes.STRING }, { tableName: 'ina_cities', timestamps: false });
    Owner = s.define('Owner', { name: DataTypes.STRING }, { tableName: 'ina_owners', timestamps: false });
    Shop = s.define('Shop', { name: DataTypes.STRING }, { tableName: 'ina_shops', timestamps: false });
    Cafe = s.define('Cafe', { tables: DataTypes.INTEGER }, { tableName: 'ina_cafes', timestamps: false });
    inherit(Cafe, Shop);
    // Associations after inherit(): the child's own foreign key lives in its table; the parent's reaches the child.
    Owner.hasMany(Cafe, { foreignKey: 'ownerId', as: 'cafes' });
    Cafe.belongsTo(Owner, { foreignKey: 'ownerId' });
    Shop.belongsTo(City, { foreignKey: 'cityId' });
    await s.sync({ force: true });
  });
  after(() => handle.sequelize.close());

  it("a child's own association and an association its parent gained after inherit() both work", async () => {
    const city = await City.create({ name: 'Rome' });
    const owner = await Owner.create({ name: 'Ann' });
    const cafe = await Cafe.create({ name: 'Bar', tables: 4, ownerId: owner.id, cityId: city.id });
    expect(Object.keys(Cafe.getAttributes())).to.include.members(['cityId', 'ownerId', 'name', 'tables']);
    const qi = handle.sequelize.getQueryInterface();
    expect(Object.keys(await qi.describeTable('ina_cafes')).sort()).to.deep.equal(['id', 'ownerId', 'tables']);
    expect(Object.keys(await qi.describeTable('ina_shops')).sort()).to.deep.equal(['cityId', 'id', 'name']);
    const loaded = await Owner.findByPk(owner.id, { include: [{ model: Cafe, as: 'cafes' }] });
    expect(loaded.cafes.map((c: Any) => [c.name, c.tables, c.cityId])).to.deep.equal([['Bar', 4, city.id]]);
    const withOwner = await Cafe.findOne({ where: { cityId: city.id }, include: [Owner] });
    expect([withOwner.name, withOwner.Owner.name]).to.deep.equal(['Bar', 'Ann']);
    await owner.createCafe({ name: 'Second', tables: 2 });
    expect(await owner.countCafes()).to.equal(2);
    expect(cafe.id).to.be.a('number');
  });
});

describe('inherit() refuses what cannot be one chain', () => {
  const handle = {} as { sequelize: ReturnType<typeof connect>['sequelize'] };
  before(() => Object.assign(handle, connect()));
  after(() => handle.sequelize.close());

  const define = (name: string, attributes: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
    handle.sequelize.define(name, attributes as never, { tableName: `inx_${name.toLowerCase()}`, ...options });

  it('names the models and says what is expected; nothing is changed', () => {
    const A = define('A', { a: DataTypes.STRING });
    const B = define('B', { b: DataTypes.STRING });
    const C = define('C', { a: DataTypes.STRING });
    const K = define('K', { code: { type: DataTypes.STRING, primaryKey: true } });
    const attributesOfC = Object.keys(C.getAttributes());
    const other = connect().sequelize;
    try {
      const Elsewhere = other.define('Elsewhere', {});
      const cases: [() => void, RegExp][] = [
        [
          () => inherit({} as never, A),
          /^inherit\(\): expected two initialised model classes \(inherit\(Child, Parent\)\), got object and class A/,
        ],
        [() => inherit(A, A), /A cannot inherit from itself/],
        [() => inherit(Elsewhere, A), /Elsewhere and A belong to different Sequelize instances/],
        [() => inherit(C, A), /a is an attribute of both C and A; nothing was changed$/],
        [() => inherit(K, A), /K's primary key \(code\) must be A's \(id\)/],
        [
          () => inherit(define('Locked', {}, { version: true }), A),
          /Locked uses optimistic locking \(version\), which models in an inheritance chain do not support/,
        ],
        [() => inherit(define('L2', {}), define('LockedParent', {}, { version: 'rev' })), /LockedParent uses optimistic locking/],
      ];
      for (const [run, message] of cases) expect(run).to.throw(InheritanceError, message);
      expect(Object.keys(C.getAttributes())).to.deep.equal(attributesOfC);
      inherit(B, A);
      expect(() => inherit(B, C)).to.throw(InheritanceError, /B already inherits from A \(one parent per model\)/);
      expect(() => inherit(A, B)).to.throw(InheritanceError, /B already descends from A \(a cycle\)/);
      const error = (() => {
        try {
          inherit(A, A);
        } catch (e) {
          return e as InheritanceError;
        }
      })()!;
      expect([error.name, error.modelName]).to.deep.equal(['InheritanceError', 'A']);
    } finally {
      void other.close();
    }
  });
});

@Table({ tableName: 'int_animals' })
class Animal extends TypedModel {
  @Column({ type: DataType.STRING, allowNull: false })
  declare name: string;
}

@Table({ tableName: 'int_dogs' })
class Dog extends TypedModel {
  @Column({ type: DataType.STRING })
  declare breed: string;

  declare name: string;
}

describe('multi-table inheritance of sequelize-typescript classes', () => {
  let sequelize: ReturnType<typeof connectTyped>['sequelize'];
  before(async () => {
    sequelize = connectTyped().sequelize;
    sequelize.addModels([Animal, Dog]);
    inherit(Dog, Animal);
    await sequelize.sync({ force: true });
  });
  after(() => sequelize.close());

  it('a decorated child carries its parent’s attributes, written and read across both tables', async () => {
    const seen: string[] = [];
    const off = bulkSignals.on(Animal, 'afterCreate', ({ newRecords, concreteModel }) => {
      seen.push(`${concreteModel.name} ${newRecords.map((a) => a.name).join(',')}`);
    });
    try {
      const dog = await Dog.create({ name: 'Rex', breed: 'collie' });
      expect(dog.name).to.equal('Rex');
      const read = (await Dog.findOne({ where: { name: 'Rex' } }))!;
      expect([read.name, read.breed]).to.deep.equal(['Rex', 'collie']);
      expect(seen).to.deep.equal(['Dog Rex']);
      expect(Object.keys(await sequelize.getQueryInterface().describeTable('int_dogs')).sort()).to.deep.equal(['breed', 'id']);
    } finally {
      off();
    }
  });
});

import { expect } from 'chai';
import { DataTypes, Model, Sequelize, Utils, literal } from 'sequelize';
import {
  QUERY_INTERFACE_WRITES,
  cloneOptions,
  dialectOf,
  generatorOf,
  instanceInternals,
  internals,
  isExpression,
  mapWhereFields,
  modelBaseOf,
  sequelizeOptions,
  serverMajor,
} from '../lib/internals';
import { onDialect, perDialect, useDatabase } from './support/database';

class Probe extends Model {
  declare id: number;
  declare label: string;
}

/**
 * Every private Sequelize shape the library relies on (lib/internals.ts), asserted on the installed Sequelize:
 * an upgrade that moves one fails here, by name, instead of somewhere deep in a write path.
 */
describe('the Sequelize internals the library relies on', () => {
  const db = useDatabase('int', (sequelize, prefix) => {
    Probe.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        label: { type: DataTypes.STRING, field: 'the_label', unique: true },
        shadow: { type: DataTypes.VIRTUAL },
      },
      { sequelize, tableName: `${prefix}_probes`, paranoid: true, indexes: [{ unique: true, fields: ['id', 'the_label'] }] },
    );
  });

  it('model classes: attributes, keys, timestamps, unique keys, indexes, associations', () => {
    const m = internals(Probe);
    expect(m.rawAttributes.label!.field).to.equal('the_label');
    expect(m.primaryKeyAttributes).to.deep.equal(['id']);
    // Where an INSERT returns no rows, the generated ids are found through the auto-increment attribute.
    expect(m.autoIncrementAttribute).to.equal('id');
    expect(m._virtualAttributes).to.be.instanceOf(Set);
    expect([...m._virtualAttributes]).to.deep.equal(['shadow']);
    expect(m._timestampAttributes).to.deep.equal({ createdAt: 'createdAt', updatedAt: 'updatedAt', deletedAt: 'deletedAt' });
    expect(Object.values(m.uniqueKeys).map((k) => k.fields)).to.deep.equal([['the_label']]);
    expect(m._indexes.filter((i) => i.unique).map((i) => i.fields)).to.deep.include(['id', 'the_label']);
    expect(m.associations).to.be.an('object');
    // A Model.schema() copy is a subclass carrying its own schema (refused for inherited models).
    const copy = internals(Probe.schema('tenant', { schemaDelimiter: '_' }));
    expect([copy._schema, copy._schemaDelimiter, m._schema]).to.deep.equal(['tenant', '_', internals(Probe).options.schema]);
  });

  it('instances: dataValues, _previousDataValues, _changed', async () => {
    const probe = await Probe.create({ label: 'p' }, { bypassSignals: true });
    const inner = instanceInternals(probe);
    expect(inner.dataValues.label).to.equal('p');
    probe.label = 'q';
    expect(inner._previousDataValues.label).to.equal('p');
    expect(inner._changed).to.be.instanceOf(Set);
    expect([...inner._changed]).to.deep.equal(['label']);
  });

  it('the query interface has every write method the seams wrap, taking options where the seams read them', () => {
    const qi = db.sequelize.getQueryInterface() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const base = Object.getPrototypeOf(qi) as Record<string, { length: number }>;
    const arity: Record<string, number> = {
      insert: 4,
      bulkInsert: 4,
      upsert: 5,
      update: 5,
      bulkUpdate: 5,
      delete: 4,
      bulkDelete: 4,
      increment: 6,
      decrement: 6,
    };
    for (const name of QUERY_INTERFACE_WRITES) {
      expect(qi[name], name).to.be.a('function');
      expect(base[name]!.length, `${name}'s parameters`).to.equal(arity[name]);
    }
  });

  it('the query generator renders where, quoting, escaping and enum names', () => {
    const qg = generatorOf(db.sequelize);
    const q = perDialect({ postgres: '"', others: '`' });
    expect(qg.quoteIdentifier('a b')).to.equal(`${q}a b${q}`);
    // A schema: PostgreSQL's, a database on MariaDB, a table name prefix on MySQL and SQLite.
    expect(qg.quoteTable({ tableName: 't', schema: 's', delimiter: '.' })).to.equal(
      perDialect({ postgres: '"s"."t"', mariadb: '`s`.`t`', others: '`s.t`' }),
    );
    expect(qg.escape("it's")).to.equal(perDialect({ postgres: "'it''s'", others: "'it\\'s'", sqlite: "'it''s'" }));
    expect(qg.whereQuery({ id: 1 })).to.equal(`WHERE ${q}id${q} = 1`);
    expect(qg.getWhereConditions({ id: 1 }, null, Probe, {})).to.equal(`${q}id${q} = 1`);
    if (onDialect('postgres')) expect(qg.pgEnumName!({ tableName: 't', schema: 's', delimiter: '.' }, 'c')).to.equal('"s"."enum_t_c"');
    expect(qg._dialect.supports).to.have.property('returnValues');
  });

  it("the dialect's Query class, the Model base, CLS, options and the server version", () => {
    const Query = dialectOf(db.sequelize).Query;
    expect(Query.prototype.run).to.be.a('function');
    expect(modelBaseOf(db.sequelize)).to.equal(Model);
    expect((Sequelize as unknown as { _cls?: unknown })._cls).to.equal(undefined);
    expect(sequelizeOptions(db.sequelize)).to.have.property('omitNull');
    // SQLite's version is never recorded (the library needs none there).
    expect(serverMajor(db.sequelize)).to.be.at.least(perDialect({ postgres: 9, others: 10, sqlite: 0 }));
  });

  it('Utils: options clone keeps class instances whose clone() returns themselves, expressions; field mapping', () => {
    // WriteCall and StatementTap ride in options this way; a plain object would be copied.
    class Shared {
      clone(): this {
        return this;
      }
    }
    const shared = new Shared();
    const tag = Symbol('tag');
    const cloned = cloneOptions({ a: { b: 1 }, [tag]: shared, l: literal('1') }) as Record<string | symbol, unknown>;
    expect(cloned[tag]).to.equal(shared);
    expect(isExpression(cloned.l)).to.equal(true);
    expect(isExpression('x')).to.equal(false);
    expect(mapWhereFields(Probe, { label: 'x' })).to.deep.equal({ the_label: 'x' });
    expect(Utils.SequelizeMethod).to.be.a('function');
  });
});

import { expect } from 'chai';
import { Client } from 'pg';
import { DataTypes, Op, literal, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import {
  type AuditEntry,
  InstallError,
  InvalidInputError,
  NotInstalledError,
  auditTrail,
  bulkDestroy,
  bulkSignals,
  bulkUpdate,
  type AuditEntryAttributes,
} from '../lib';
import { connect, onDialect, resetTables, useDatabase } from './support/database';
import { rejection } from './support/helpers';
import { Account, Ledger, Membership, Tag, defineModels } from './support/models';
import { Receivers } from './support/recorder';

type Entry = Pick<AuditEntryAttributes, 'modelName' | 'key' | 'action' | 'operation' | 'changedFields'>;

let Audit: typeof AuditEntry;

function define(sequelize: Sequelize, prefix: string): void {
  defineModels(sequelize, prefix);
  Audit = auditTrail(sequelize, { tableName: `${prefix}_audit_entries`, exclude: { Account: ['ownerEmail'] } });
}

/** The key of the tag with this slug, as the table has it once the write ran (see resolveKeys). */
class TagKey {
  constructor(readonly slug: string) {}
}
const tagKey = (slug: string) => new TagKey(slug) as unknown as Record<string, unknown>;

/** Expected entries with each TagKey replaced by that tag's key in the table. */
async function resolveKeys<T>(expected: T): Promise<T> {
  const resolve = async (value: unknown): Promise<unknown> => {
    if (value instanceof TagKey) return { id: (await Tag.findOne({ where: { slug: value.slug } }))!.id };
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)])));
    }
    return value;
  };
  return (await resolve(expected)) as T;
}

describe('auditTrail', () => {
  const db = useDatabase('aud', define);
  const receivers = new Receivers();
  let last = 0;

  /** The entries written since the previous call, oldest first. */
  async function newEntries(): Promise<AuditEntry[]> {
    const rows = await Audit.findAll({ where: { id: { [Op.gt]: last } }, order: [['id', 'ASC']] });
    if (rows.length) last = Number(rows[rows.length - 1]!.id);
    return rows;
  }
  const summary = (rows: AuditEntry[]): Entry[] =>
    rows.map((e) => ({
      modelName: e.modelName,
      key: e.key,
      action: e.action,
      operation: e.operation,
      changedFields: [...e.changedFields].sort(),
    }));
  /** Runs a write, returns its entries and how many INSERTs into the audit table it sent. */
  async function audited(fn: () => Promise<unknown>): Promise<{ entries: Entry[]; rows: AuditEntry[]; inserts: number }> {
    await newEntries();
    const { statements } = await db.log.count(fn);
    const rows = await newEntries();
    return { entries: summary(rows), rows, inserts: statements.filter((s) => /^INSERT INTO ["`]aud_audit_entries["`]/.test(s)).length };
  }

  beforeEach(async () => {
    await resetTables(Account, Ledger, Membership, Tag);
    await resetTables(Audit);
    last = 0;
    await bulkSignals.bypass(async () => {
      await Account.bulkCreate([
        { name: 'a', balance: 10 },
        { name: 'b', balance: 20 },
      ]);
      await Ledger.bulkCreate([
        { label: 'l1', amount: 1 },
        { label: 'l2', amount: 2 },
      ]);
      await Membership.bulkCreate([{ groupId: 1, userId: 1, role: 'r' }]);
      await Tag.bulkCreate([{ slug: 'orm', label: 'ORM' }]);
    });
  });
  afterEach(() => receivers.clear());

  const u = (key: Record<string, unknown>, operation: string, changedFields: string[], modelName = 'Account'): Entry => ({
    modelName,
    key,
    action: 'update',
    operation: operation as Entry['operation'],
    changedFields,
  });

  it('records creates on every create path: the row as inserted, one INSERT per signal', async () => {
    const created = await audited(() =>
      Account.bulkCreate([
        { name: 'c', balance: 1 },
        { name: 'd', balance: 2 },
      ]),
    );
    expect(created.inserts).to.equal(1);
    expect(created.entries.map((e) => [e.key, e.action, e.operation])).to.deep.equal([
      [{ id: 3 }, 'create', 'bulkCreate'],
      [{ id: 4 }, 'create', 'bulkCreate'],
    ]);
    const row = created.rows[0]!;
    expect(row.before).to.equal(null);
    expect(row.after).to.deep.include({ id: 3, name: 'c', balance: 1, status: 'open', note: null, meta: null });
    expect(row.after).to.not.have.property('ownerEmail', undefined, 'excluded for Account');
    expect(row.changedFields.sort()).to.deep.equal(['balance', 'createdAt', 'id', 'name', 'status', 'updatedAt']);
    expect(new Date(row.after!.createdAt as string).getTime()).to.equal((await Account.findByPk(3))!.createdAt.getTime());

    const paths: [string, () => Promise<unknown>, [unknown, string][]][] = [
      ['Model.create', () => Account.create({ name: 'e' }), [[{ id: 5 }, 'create']]],
      ['save of a new instance', () => Account.build({ name: 'f' }).save(), [[{ id: 6 }, 'save']]],
      ['findOrCreate that creates', () => Account.findOrCreate({ where: { name: 'g' } }), [[{ id: 7 }, 'create']]],
      ['upsert that inserts', () => Account.upsert({ id: 50, name: 'h' }), [[{ id: 50 }, 'upsert']]],
      [
        'bulkCreate ignoreDuplicates: only the inserted row',
        () => Tag.bulkCreate([{ slug: 'orm' }, { slug: 'sql' }], { ignoreDuplicates: true }),
        [[tagKey('sql'), 'bulkCreate']],
      ],
      [
        'bulkCreate individualHooks',
        () => Membership.bulkCreate([{ groupId: 2, userId: 1, role: 'x' }], { individualHooks: true }),
        [[{ groupId: 2, userId: 1 }, 'bulkCreate']],
      ],
    ];
    for (const [name, write, expected] of paths) {
      const { entries, inserts } = await audited(write);
      expect([inserts, entries.map((e) => [e.key, e.operation])], name).to.deep.equal([1, await resolveKeys(expected)]);
      expect(
        entries.every((e) => e.action === 'create'),
        name,
      ).to.equal(true);
    }
  });

  it('records updates on every update path with the old and new row; no entry when nothing stored changed', async () => {
    const update = await audited(() => Account.update({ balance: literal('balance * 2') }, { where: {} }));
    expect(update.inserts).to.equal(1);
    expect(update.entries).to.deep.equal([
      u({ id: 1 }, 'update', ['balance', 'updatedAt']),
      u({ id: 2 }, 'update', ['balance', 'updatedAt']),
    ]);
    expect([update.rows[0]!.before!.balance, update.rows[0]!.after!.balance]).to.deep.equal([10, 20]);

    const a = (await Account.findByPk(1))!;
    const paths: [string, () => Promise<unknown>, Entry[]][] = [
      ['instance.update', () => a.update({ name: 'a2' }), [u({ id: 1 }, 'update', ['name', 'updatedAt'])]],
      ['instance.save', () => Object.assign(a, { status: 'vip' }).save(), [u({ id: 1 }, 'save', ['status', 'updatedAt'])]],
      ['instance.save with nothing changed', () => a.save(), []],
      ['an excluded attribute only', () => Account.update({ ownerEmail: 'x@y.z' }, { where: { id: 2 }, silent: true }), []],
      ['Model.update to the values it has (no timestamps)', () => Tag.update({ label: 'ORM' }, { where: {} }), []],
      [
        'Model.increment',
        () => Account.increment('balance', { by: 3, where: { id: 2 } }),
        [u({ id: 2 }, 'increment', ['balance', 'updatedAt'])],
      ],
      [
        'Model.decrement',
        () => Account.decrement({ balance: 1 }, { where: { id: 2 } }),
        [u({ id: 2 }, 'decrement', ['balance', 'updatedAt'])],
      ],
      ['instance.increment', () => a.increment('balance'), [u({ id: 1 }, 'increment', ['balance', 'updatedAt'])]],
      ['upsert that updates', () => Account.upsert({ id: 2, name: 'b2' }), [u({ id: 2 }, 'upsert', ['name', 'updatedAt'])]],
      [
        'Model.update, composite key',
        () => Membership.update({ role: 's' }, { where: {} }),
        [u({ groupId: 1, userId: 1 }, 'update', ['role'], 'Membership')],
      ],
      [
        'bulkCreate updateOnDuplicate: one entry per signal',
        () =>
          Tag.bulkCreate(
            [
              { slug: 'orm', label: 'Object-relational' },
              { slug: 'new', label: 'N' },
            ],
            { updateOnDuplicate: ['label'] },
          ),
        [
          // Whether the conflicting row used up an id differs by database (PostgreSQL's ON CONFLICT takes a value
          // before it finds the conflict): the entry's key is the row's id in the table.
          {
            modelName: 'Tag',
            key: tagKey('new'),
            action: 'create',
            operation: 'bulkCreate',
            changedFields: ['id', 'label', 'slug', 'uses'],
          },
          u({ id: 1 }, 'bulkCreate', ['label'], 'Tag'),
        ],
      ],
      [
        'bulkUpdate',
        async () => {
          const rows = await Account.findAll({ order: [['id', 'ASC']] });
          rows.forEach((r, i) => (r.balance = 100 + i));
          return bulkUpdate(Account, rows);
        },
        [u({ id: 1 }, 'bulkUpdate', ['balance', 'updatedAt']), u({ id: 2 }, 'bulkUpdate', ['balance', 'updatedAt'])],
      ],
    ];
    for (const [name, write, expected] of paths) {
      const { entries, inserts } = await audited(write);
      const sorted = (es: Entry[]) => [...es].sort((x, y) => (x.action < y.action ? -1 : x.action > y.action ? 1 : 0));
      // Sequelize's mysql dialect renders increment's updatedAt in whole seconds: a decrement in the same second
      // as the increment before it leaves updatedAt as it was.
      const secondsOnly = (es: Entry[]) =>
        onDialect('mysql') && name === 'Model.decrement'
          ? es.map((e) => ({ ...e, changedFields: e.changedFields.filter((f) => f !== 'updatedAt') }))
          : es;
      expect(secondsOnly(sorted(entries)), name).to.deep.equal(secondsOnly(sorted(await resolveKeys(expected))));
      expect(inserts, name).to.equal(new Set(expected.map((e) => e.action)).size);
    }
  });

  it('records deletes with the old row; a soft delete keeps the row as it stays (deletedAt), a restore is an update', async () => {
    const hard = await audited(() => Account.destroy({ where: { id: 1 } }));
    expect(hard.entries).to.deep.equal([
      { modelName: 'Account', key: { id: 1 }, action: 'delete', operation: 'destroy', changedFields: [] },
    ]);
    expect([hard.rows[0]!.before!.name, hard.rows[0]!.after]).to.deep.equal(['a', null]);

    const soft = await audited(() => Ledger.destroy({ where: { id: 1 } }));
    expect(soft.entries).to.deep.equal([
      { modelName: 'Ledger', key: { id: 1 }, action: 'delete', operation: 'destroy', changedFields: ['deletedAt'] },
    ]);
    const deletedAt = (await Ledger.findByPk(1, { paranoid: false }))!.deletedAt!;
    expect(soft.rows[0]!.after).to.deep.equal({ id: 1, label: 'l1', amount: 1, deletedAt: deletedAt.toISOString() });

    const paths: [string, () => Promise<unknown>, [string, unknown, string, string[]][]][] = [
      ['Ledger.restore', () => Ledger.restore({ where: { id: 1 } }), [['update', { id: 1 }, 'restore', ['deletedAt']]]],
      ['instance.destroy (soft)', async () => (await Ledger.findByPk(2))!.destroy(), [['delete', { id: 2 }, 'destroy', ['deletedAt']]]],
      [
        'instance.restore',
        async () => (await Ledger.findByPk(2, { paranoid: false }))!.restore(),
        [['update', { id: 2 }, 'restore', ['deletedAt']]],
      ],
      ['destroy force', () => Ledger.destroy({ where: { id: 2 }, force: true }), [['delete', { id: 2 }, 'destroy', []]]],
      [
        'bulkDestroy',
        () => bulkDestroy(Membership, [{ groupId: 1, userId: 1 }]),
        [['delete', { groupId: 1, userId: 1 }, 'bulkDestroy', []]],
      ],
      ['truncate', () => Tag.truncate(), [['delete', { id: 1 }, 'truncate', []]]],
      ['instance.destroy (hard)', async () => (await Account.findByPk(2))!.destroy(), [['delete', { id: 2 }, 'destroy', []]]],
    ];
    for (const [name, write, expected] of paths) {
      const { entries, inserts } = await audited(write);
      expect([inserts, entries.map((e) => [e.action, e.key, e.operation, e.changedFields])], name).to.deep.equal([1, expected]);
    }
  });

  it('writes in the write’s transaction: a rollback — by a receiver or by the caller — leaves no entry', async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', () => {
        throw new Error('veto');
      }),
    );
    expect(await rejection(Account.update({ balance: 0 }, { where: {} }))).to.have.property('message', 'veto');
    receivers.clear();
    await rejection(
      db.sequelize.transaction(async (transaction) => {
        await Account.bulkCreate([{ name: 'x' }], { transaction });
        await Ledger.destroy({ where: {}, transaction });
        throw new Error('caller rolls back');
      }),
    );
    expect(await Audit.count()).to.equal(0);
    expect((await Account.findAll({ order: [['id', 'ASC']] })).map((r) => r.balance)).to.deep.equal([10, 20]);
  });

  it('records first among after receivers, so a row written again by a later receiver keeps its entries in order', async () => {
    receivers.add(
      bulkSignals.on(Account, 'afterUpdate', async ({ newRecords, transaction }) => {
        const again = newRecords.filter((r) => r.status === 'frozen').map((r) => r.id);
        if (again.length) await Account.update({ status: 'reviewed' }, { where: { id: again }, transaction });
      }),
    );
    await Account.update({ status: 'frozen' }, { where: { id: 1 } });
    const history = await Audit.history(Account, 1);
    expect(history.map((e) => [e.before!.status, e.after!.status])).to.deep.equal([
      ['open', 'frozen'],
      ['frozen', 'reviewed'],
    ]);
  });

  it('history(Model, key): a row’s entries oldest first, by value, string, key object or instance', async () => {
    await Account.update({ balance: 11 }, { where: { id: 1 } });
    await Account.update({ balance: 12 }, { where: {} });
    await Membership.update({ role: 'q' }, { where: {} });
    const a = (await Account.findByPk(1))!;
    for (const [what, key] of [
      ['1', 1],
      ["'1'", '1'],
      ['{ id: 1 }', { id: 1 }],
      ['an instance', a],
    ] as const) {
      expect(
        (await Audit.history(Account, key)).map((e) => e.after!.balance),
        what,
      ).to.deep.equal([11, 12]);
    }
    expect((await Audit.history(Account.scope('defaultScope'), 2)).map((e) => e.after!.balance)).to.deep.equal([12]);
    expect((await Audit.history(Membership, { groupId: 1, userId: '1' })).map((e) => e.after!.role)).to.deep.equal(['q']);
    expect(await rejection(Audit.history(Membership, 1))).to.be.instanceOf(InvalidInputError);
    expect(await rejection(Audit.history(Account, { name: 'a' })))
      .to.be.instanceOf(InvalidInputError)
      .with.property('message')
      .match(/the key has no value for id/);
  });

  it('stores the signal context by default', async () => {
    await bulkSignals.withContext({ userId: 7 }, () => Account.update({ balance: 1 }, { where: { id: 1 } }));
    expect((await Audit.history(Account, 1)).map((e) => e.context)).to.deep.equal([{ userId: 7 }]);
  });

  it('is not audited itself, and the audit model is a normal model: sync creates it, with an index on (model_name, key)', async () => {
    await Account.update({ balance: 5 }, { where: { id: 1 } });
    await Audit.destroy({ where: {} });
    expect(await Audit.count()).to.equal(0);
    const indexes = (await db.sequelize.getQueryInterface().showIndex('aud_audit_entries')) as {
      name: string;
      primary: boolean;
      fields: { attribute: string }[];
    }[];
    expect(indexes.filter((i) => !i.primary).map((i) => [i.name, i.fields.map((f) => f.attribute)])).to.deep.equal([
      ['aud_audit_entries_model_name_key', ['model_name', 'key']],
    ]);
  });

  describe('options', () => {
    let other: ReturnType<typeof connect>;
    let Item: ModelStatic<Model>;
    let Secret: ModelStatic<Model>;
    before(() => {
      other = connect();
      Item = other.sequelize.define(
        'Item',
        { n: DataTypes.INTEGER, hidden: DataTypes.STRING, token: DataTypes.STRING },
        { tableName: 'audo_items', timestamps: false },
      );
      Secret = other.sequelize.define(
        'Secret',
        { n: DataTypes.INTEGER, token: DataTypes.STRING },
        { tableName: 'audo_secrets', timestamps: false },
      );
    });
    after(() => other.sequelize.close());

    it('models, exclude (global "*" and per model, never the primary key), context, tableName, modelName; notify after COMMIT only (PostgreSQL)', async () => {
      const pg = onDialect('postgres');
      const Trail = auditTrail(other.sequelize, {
        models: [Item],
        exclude: { '*': ['token', 'id'], Item: ['hidden'] },
        context: (signal) => ({ via: signal.via, user: 'u1' }),
        tableName: 'audo_trail',
        modelName: 'Trail',
        ...(pg ? { notify: 'audo_changes' } : {}),
      });
      await other.sequelize.sync({ force: true });
      const listener = pg ? new Client({ connectionString: process.env.DATABASE_URL }) : undefined;
      const heard: unknown[] = [];
      await listener?.connect();
      try {
        listener?.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
        await listener?.query('LISTEN audo_changes');
        await Item.bulkCreate([
          { n: 1, hidden: 'h', token: 't' },
          { n: 2, hidden: 'h', token: 't' },
        ]);
        await Secret.create({ n: 1, token: 't' }); // not in models
        await rejection(
          other.sequelize.transaction(async (transaction) => {
            await Item.update({ n: 9 }, { where: {}, transaction });
            throw new Error('rolled back: no notification');
          }),
        );
        await Item.update({ hidden: 'changed', token: 'changed' }, { where: {} }); // excluded attributes only
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        await listener?.end();
      }
      const rows = await Trail.findAll({ order: [['id', 'ASC']] });
      expect(Trail.name).to.equal('Trail');
      expect(Trail.getTableName()).to.equal('audo_trail');
      expect(rows.map((e) => [e.modelName, e.key, e.after, e.changedFields, e.context])).to.deep.equal([
        ['Item', { id: 1 }, { id: 1, n: 1 }, ['id', 'n'], { via: 'model', user: 'u1' }],
        ['Item', { id: 2 }, { id: 2, n: 2 }, ['id', 'n'], { via: 'model', user: 'u1' }],
      ]);
      if (pg)
        expect(heard).to.deep.equal([{ modelName: 'Item', action: 'create', operation: 'bulkCreate', fromId: '1', toId: '2', count: 2 }]);
    });

    it('refuses a second trail, an instance that is not installed, and bad options', async () => {
      expect(() => auditTrail(other.sequelize)).to.throw(
        InstallError,
        'auditTrail: this Sequelize instance has an audit trail already (Trail)',
      );
      const bare = connect({}, false);
      try {
        expect(() => auditTrail(bare.sequelize)).to.throw(NotInstalledError, 'never ran installBulkSignals');
      } finally {
        await bare.sequelize.close();
      }
      const fresh = connect();
      try {
        fresh.sequelize.define('AuditEntry', {}, { tableName: 'audo_taken' });
        expect(() => auditTrail(fresh.sequelize)).to.throw(InstallError, 'defines a model named AuditEntry already');
        for (const [options, message] of [
          [{ exclude: 'token' }, 'exclude must be a list of attribute names'],
          [{ exclude: { Item: 'token' } }, 'exclude must be a list of attribute names'],
          [{ models: [Item] }, 'models must be model classes of this Sequelize instance'],
          [{ tableName: '' }, 'tableName must be a non-empty string'],
          [{ context: 'user' }, 'context must be a function'],
          ...(onDialect('postgres') ? [] : ([[{ notify: 'c' }, "notify needs PostgreSQL's pg_notify"]] as const)),
        ] as const) {
          expect(() => auditTrail(fresh.sequelize, { ...options, modelName: 'Fresh' } as never)).to.throw(InstallError, message);
        }
      } finally {
        await fresh.sequelize.close();
      }
    });
  });
});

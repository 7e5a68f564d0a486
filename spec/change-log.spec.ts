import { expect } from 'chai';
import { DataTypes, Op, literal, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { useDatabase } from './support/database';
import { Account, Ledger, Tag, defineModels } from './support/models';
import { Receivers } from './support/recorder';
import { random } from './support/helpers';

type Values = Record<string, unknown>;

function normal(value: unknown): unknown {
  if (value instanceof Date) return `date:${value.getTime()}`;
  if (value && typeof value === 'object') return JSON.stringify(value);
  return value ?? null;
}

function plain(record: Model, skip: readonly string[] = []): Values {
  return Object.fromEntries(
    Object.entries(record.dataValues)
      .filter(([k]) => !skip.includes(k))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, normal(v)]),
  );
}

function define(sequelize: Sequelize, prefix: string): void {
  defineModels(sequelize, prefix);
  Ledger.init({ ...Ledger.getAttributes(), accountId: { type: DataTypes.INTEGER, allowNull: true } } as never, {
    sequelize,
    tableName: `${prefix}_ledgers`,
    paranoid: true,
    timestamps: true,
    createdAt: false,
    updatedAt: false,
    modelName: 'Ledger',
  });
  Account.hasMany(Ledger, { foreignKey: 'accountId', constraints: false });
}

/**
 * The change-log property: a receiver that only ever sees after-signals keeps an in-memory replica of every
 * table; after a seeded random mix of writes over every path the replica equals the tables, and every old row
 * a signal carried equalled the replica's row at that moment.
 */
describe('change-log property', () => {
  useDatabase('log', define);
  const receivers = new Receivers();

  afterEach(() => receivers.clear());

  it('an after-signal replica equals the tables after 1200 random writes over every write path', async function () {
    this.timeout(300000);
    const seed = Number(process.env.CHANGE_LOG_SEED ?? 20261126);
    const rnd = random(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

    const models: ModelStatic<Model>[] = [Account, Ledger, Tag];
    const replica = new Map<string, Map<string, Values>>(models.map((m) => [m.name, new Map()]));
    const softDeleted = new Map<string, Set<string>>(models.map((m) => [m.name, new Set()]));
    const mismatches: string[] = [];
    const seen: Record<string, number> = {};
    const keyOf = (m: ModelStatic<Model>, r: Model) => m.primaryKeyAttributes.map((k) => String(r.get(k))).join('/');

    for (const model of models) {
      for (const event of ['afterCreate', 'afterUpdate', 'afterDelete'] as const) {
        receivers.add(
          bulkSignals.on(model, event, (signal: Signal<Model>) => {
            const name = model.name;
            seen[`${name}.${signal.operation}.${event}`] = (seen[`${name}.${signal.operation}.${event}`] ?? 0) + 1;
            const table = replica.get(name)!;
            const soft = softDeleted.get(name)!;
            signal.oldRecords.forEach((old, i) => {
              const key = keyOf(model, old);
              const known = table.get(key);
              const skip = soft.has(key) ? ['deletedAt'] : [];
              const oldValues = plain(old, skip);
              const knownValues = known && Object.fromEntries(Object.entries(known).filter(([k]) => !skip.includes(k)));
              if (JSON.stringify(knownValues) !== JSON.stringify(oldValues)) {
                mismatches.push(
                  `${name}.${signal.operation}.${event} #${key}: replica ${JSON.stringify(knownValues)} != old ${JSON.stringify(oldValues)}`,
                );
              }
              if (event === 'afterDelete') {
                if (signal.soft) soft.add(key);
                else {
                  table.delete(key);
                  soft.delete(key);
                }
              } else {
                const next = signal.newRecords[i]!;
                table.set(keyOf(model, next), plain(next));
                soft.delete(key);
              }
            });
            if (event === 'afterCreate') {
              for (const r of signal.newRecords) table.set(keyOf(model, r), plain(r));
            }
          }),
        );
      }
    }

    const ids = async (model: ModelStatic<Model>) =>
      (await model.findAll({ attributes: ['id'], paranoid: false })).map((r) => r.get('id') as number);
    const someIds = async (model: ModelStatic<Model>) => {
      const all = await ids(model);
      return all.filter(() => rnd() < 0.3).slice(0, 6);
    };

    const operations: [string, () => Promise<unknown>][] = [
      ['Account.create', () => Account.create({ name: `a${int(0, 99)}`, balance: int(0, 100), meta: { n: int(0, 9) } })],
      [
        'Account.bulkCreate',
        () => Account.bulkCreate(Array.from({ length: int(1, 5) }, () => ({ name: `b${int(0, 99)}`, balance: int(0, 100) }))),
      ],
      [
        'instance.save',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          if (a) {
            a.balance = int(-50, 50);
            a.status = pick(['open', 'vip']);
            await a.save();
          }
        },
      ],
      [
        'instance.update',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          if (a) await a.update({ name: `u${int(0, 99)}`, meta: { n: int(0, 9) } });
        },
      ],
      [
        'Account.update',
        () =>
          Account.update(
            { status: pick(['open', 'frozen', 'vip']) },
            { where: { balance: { [Op.between]: [int(-50, 40), int(40, 120)] } } },
          ),
      ],
      [
        'Account.update literal',
        async () => Account.update({ balance: literal(`balance * 2 - ${int(0, 9)}`) }, { where: { id: await someIds(Account) } }),
      ],
      ['Account.increment', async () => Account.increment({ balance: int(1, 5) }, { where: { id: await someIds(Account) } })],
      ['Account.decrement', async () => Account.decrement('balance', { by: int(1, 5), where: { id: await someIds(Account) } })],
      [
        'instance.increment',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          if (a) await a.increment('balance', { by: int(1, 3) });
        },
      ],
      ['Account.destroy', async () => Account.destroy({ where: { id: (await someIds(Account)).slice(0, 2) } })],
      [
        'instance.destroy',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          if (a) await a.destroy();
        },
      ],
      [
        'Account.upsert',
        async () => {
          const existing = await ids(Account);
          const id = existing.length && rnd() < 0.5 ? pick(existing) : 100000 + int(0, 500);
          return Account.upsert({ id, name: `up${int(0, 9)}`, balance: int(0, 9) });
        },
      ],
      [
        'Ledger.create',
        async () => Ledger.create({ label: `l${int(0, 9)}`, amount: int(1, 9), accountId: pick([null, ...(await ids(Account))]) } as never),
      ],
      ['Ledger.destroy soft', async () => Ledger.destroy({ where: { id: await someIds(Ledger) } })],
      ['Ledger.destroy force', async () => Ledger.destroy({ where: { id: (await someIds(Ledger)).slice(0, 1) }, force: true })],
      ['Ledger.restore', async () => Ledger.restore({ where: { id: await someIds(Ledger) } })],
      [
        'ledger.restore',
        async () => {
          const l = await Ledger.findOne({ where: { deletedAt: { [Op.ne]: null } }, paranoid: false });
          if (l) await l.restore();
        },
      ],
      ['Ledger.update', async () => Ledger.update({ amount: literal('amount + 1') }, { where: { id: await someIds(Ledger) } })],
      [
        'account.addLedger',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          const l = await Ledger.findOne({ order: literal('random()') });
          if (a && l) await (a as unknown as { addLedger(l: Model): Promise<void> }).addLedger(l);
        },
      ],
      [
        'account.setLedgers',
        async () => {
          const a = await Account.findOne({ order: literal('random()') });
          if (a) await (a as unknown as { setLedgers(ids: number[]): Promise<void> }).setLedgers((await someIds(Ledger)).slice(0, 3));
        },
      ],
      [
        'Tag.bulkCreate updateOnDuplicate',
        () =>
          Tag.bulkCreate(
            Array.from({ length: int(1, 4) }, () => ({ slug: `t${int(0, 15)}`, label: `L${int(0, 9)}` })).filter(
              (t, i, all) => all.findIndex((o) => o.slug === t.slug) === i,
            ),
            { updateOnDuplicate: ['label'] },
          ),
      ],
      [
        'Tag.bulkCreate ignoreDuplicates',
        () =>
          Tag.bulkCreate(
            Array.from({ length: int(1, 4) }, () => ({ slug: `t${int(0, 15)}`, label: 'ign' })),
            { ignoreDuplicates: true },
          ),
      ],
      ['Tag.upsert', () => Tag.upsert({ slug: `t${int(0, 15)}`, label: `up${int(0, 9)}` })],
      ['Tag.increment', () => Tag.increment('uses', { where: { slug: { [Op.in]: [`t${int(0, 15)}`, `t${int(0, 15)}`] } } })],
    ];

    const ran: Record<string, number> = {};
    for (let i = 0; i < 1200; i++) {
      const [name, op] = pick(operations);
      ran[name] = (ran[name] ?? 0) + 1;
      await op();
    }

    expect(mismatches.slice(0, 5), `seed ${seed}`).to.deep.equal([]);
    for (const model of models) {
      const rows = await model.findAll({ paranoid: false });
      const soft = softDeleted.get(model.name)!;
      const actual = Object.fromEntries(
        rows.map((r) => {
          const key = keyOf(model, r);
          return [key, plain(r, soft.has(key) ? ['deletedAt'] : [])];
        }),
      );
      const expected = Object.fromEntries(
        [...replica.get(model.name)!].map(([key, values]) => [
          key,
          soft.has(key) ? Object.fromEntries(Object.entries(values).filter(([k]) => k !== 'deletedAt')) : values,
        ]),
      );
      expect(actual, `${model.name}, seed ${seed}`).to.deep.equal(expected);
      for (const key of soft) expect(rows.find((r) => keyOf(model, r) === key)!.get('deletedAt')).to.not.equal(null);
    }
    // Every path really ran and signalled.
    expect(Object.keys(ran)).to.have.length(operations.length);
    for (const path of [
      'Account.create.afterCreate',
      'Account.bulkCreate.afterCreate',
      'Account.save.afterUpdate',
      'Account.update.afterUpdate',
      'Account.increment.afterUpdate',
      'Account.decrement.afterUpdate',
      'Account.destroy.afterDelete',
      'Account.upsert.afterCreate',
      'Account.upsert.afterUpdate',
      'Ledger.destroy.afterDelete',
      'Ledger.restore.afterUpdate',
      'Ledger.update.afterUpdate',
      'Tag.bulkCreate.afterCreate',
      'Tag.bulkCreate.afterUpdate',
      'Tag.upsert.afterUpdate',
      'Tag.increment.afterUpdate',
    ]) {
      expect(seen[path], path).to.be.greaterThan(0);
    }
  });
});

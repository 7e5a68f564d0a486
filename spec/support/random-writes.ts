import { DataTypes, Op, literal, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { Account, Ledger, Tag, defineModels, ledgerOptions } from './models';
import { perDialect } from './database';

/** SQL's random number function (an ORDER BY that picks any row). */
const RANDOM = perDialect({ postgres: 'random()', others: 'RAND()', sqlite: 'random()' });

/**
 * The models of the random-write property specs (change-log, audit replay): the spec models, with Ledger
 * soft-deleting and belonging to an Account.
 */
export function defineRandomWriteModels(sequelize: Sequelize, prefix: string): void {
  defineModels(sequelize, prefix);
  Ledger.init(
    { ...Ledger.getAttributes(), accountId: { type: DataTypes.INTEGER, allowNull: true } } as never,
    ledgerOptions(sequelize, prefix),
  );
  Account.hasMany(Ledger, { foreignKey: 'accountId', constraints: false });
}

/** The models the random writes touch. */
export const randomWriteModels = (): ModelStatic<Model>[] => [Account, Ledger, Tag];

/**
 * Every write path, as named random operations: each picks its rows and values from `rnd` (a seeded PRNG in
 * [0, 1)), so a seed replays the same mix.
 */
export function randomWrites(rnd: () => number): [string, () => Promise<unknown>][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const ids = async (model: ModelStatic<Model>) =>
    (await model.findAll({ attributes: ['id'], paranoid: false })).map((r) => r.get('id') as number);
  const someIds = async (model: ModelStatic<Model>) => {
    const all = await ids(model);
    return all.filter(() => rnd() < 0.3).slice(0, 6);
  };

  return [
    ['Account.create', () => Account.create({ name: `a${int(0, 99)}`, balance: int(0, 100), meta: { n: int(0, 9) } })],
    [
      'Account.bulkCreate',
      () => Account.bulkCreate(Array.from({ length: int(1, 5) }, () => ({ name: `b${int(0, 99)}`, balance: int(0, 100) }))),
    ],
    [
      'instance.save',
      async () => {
        const a = await Account.findOne({ order: literal(RANDOM) });
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
        const a = await Account.findOne({ order: literal(RANDOM) });
        if (a) await a.update({ name: `u${int(0, 99)}`, meta: { n: int(0, 9) } });
      },
    ],
    [
      'Account.update',
      () =>
        Account.update({ status: pick(['open', 'frozen', 'vip']) }, { where: { balance: { [Op.between]: [int(-50, 40), int(40, 120)] } } }),
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
        const a = await Account.findOne({ order: literal(RANDOM) });
        if (a) await a.increment('balance', { by: int(1, 3) });
      },
    ],
    ['Account.destroy', async () => Account.destroy({ where: { id: (await someIds(Account)).slice(0, 2) } })],
    [
      'instance.destroy',
      async () => {
        const a = await Account.findOne({ order: literal(RANDOM) });
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
        const a = await Account.findOne({ order: literal(RANDOM) });
        const l = await Ledger.findOne({ order: literal(RANDOM) });
        if (a && l) await (a as unknown as { addLedger(l: Model): Promise<void> }).addLedger(l);
      },
    ],
    [
      'account.setLedgers',
      async () => {
        const a = await Account.findOne({ order: literal(RANDOM) });
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
}

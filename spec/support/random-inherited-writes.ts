import { Op, literal, type Model, type ModelStatic } from 'sequelize';
import { bulkUpdate } from '../../lib';
import { Pizzeria, Place, Restaurant } from './inheritance-models';
import { perDialect } from './database';

const RANDOM = perDialect({ postgres: 'random()', others: 'RAND()', sqlite: 'random()' });

/** The models of the inheritance chain the random writes touch, root first. */
export const randomInheritedModels = (): ModelStatic<Model>[] => [Place, Restaurant, Pizzeria];

/**
 * Every write path of a three-level chain (Place → Restaurant → Pizzeria), as named random operations picking
 * rows and values from `rnd`: writes on each level, parent writes that reach children's rows, upserts and
 * conflict options, bulkUpdate. New explicit keys are taken well above every key in use, so no generated key
 * can meet one.
 */
export function randomInheritedWrites(rnd: () => number): [string, () => Promise<unknown>][] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const ids = async (model: ModelStatic<Model>) => (await model.findAll({ attributes: ['id'] })).map((r) => r.get('id') as number);
  const someIds = async (model: ModelStatic<Model>) => (await ids(model)).filter(() => rnd() < 0.3).slice(0, 5);
  const newId = async () => Math.max(0, ...(await ids(Place))) + 2000 + int(0, 50);
  const any = <M extends Model>(model: ModelStatic<M>) => model.findOne({ order: literal(RANDOM) });
  const restaurant = () => ({
    name: `r${int(0, 99)}`,
    address: pick([null, 'x', 'y']),
    rating: int(0, 5),
    seats: int(1, 50),
    servesPizza: rnd() < 0.5,
  });

  return [
    ['Place.create', () => Place.create({ name: `p${int(0, 99)}`, address: pick(['x', 'y', null]) })],
    ['Restaurant.create', () => Restaurant.create(restaurant())],
    ['Pizzeria.create', () => Pizzeria.create({ ...restaurant(), crust: pick(['thin', 'thick', null]) })],
    ['Restaurant.bulkCreate', () => Restaurant.bulkCreate(Array.from({ length: int(1, 4) }, restaurant))],
    ['Pizzeria.bulkCreate', () => Pizzeria.bulkCreate(Array.from({ length: int(1, 3) }, () => ({ ...restaurant(), crust: 'thin' })))],
    ['Place.update', () => Place.update({ rating: int(0, 5) }, { where: { rating: { [Op.between]: [int(0, 2), int(2, 5)] } } })],
    ['Restaurant.update', () => Restaurant.update({ seats: int(1, 50), name: `ru${int(0, 9)}` }, { where: { rating: int(0, 5) } })],
    [
      'Pizzeria.update',
      () => Pizzeria.update({ crust: pick(['thin', 'thick']), rating: int(0, 5) }, { where: { seats: { [Op.gt]: int(0, 40) } } }),
    ],
    [
      'Restaurant.increment',
      async () => Restaurant.increment({ seats: int(1, 3), rating: 1 }, { where: { id: await someIds(Restaurant) } }),
    ],
    ['Place.increment', async () => Place.increment('rating', { by: int(1, 2), where: { id: await someIds(Place) } })],
    [
      'restaurant.save',
      async () => {
        const r = await any(Restaurant);
        if (!r) return;
        r.seats = int(1, 50);
        r.address = pick(['x', 'y', 'z']);
        await r.save();
      },
    ],
    [
      'place.update',
      async () => {
        const p = await any(Place);
        if (p) await p.update({ name: `pu${int(0, 9)}` });
      },
    ],
    [
      'pizzeria.increment',
      async () => {
        const p = await any(Pizzeria);
        if (p) await p.increment('seats', { by: int(1, 3) });
      },
    ],
    ['Restaurant.destroy', async () => Restaurant.destroy({ where: { id: (await someIds(Restaurant)).slice(0, 2) } })],
    ['Place.destroy', async () => Place.destroy({ where: { id: (await someIds(Place)).slice(0, 2) } })],
    [
      'pizzeria.destroy',
      async () => {
        const p = await any(Pizzeria);
        if (p) await p.destroy();
      },
    ],
    [
      'Restaurant.upsert',
      async () => {
        const existing = await ids(Restaurant);
        const id = existing.length && rnd() < 0.6 ? pick(existing) : await newId();
        return Restaurant.upsert({ id, name: `up${int(0, 9)}`, seats: int(1, 9) });
      },
    ],
    [
      'Restaurant.bulkCreate updateOnDuplicate',
      async () => {
        const existing = await ids(Restaurant);
        const fresh = await newId();
        const rows = [
          ...(existing.length ? [{ id: pick(existing), name: `od${int(0, 9)}`, seats: int(1, 9) }] : []),
          { id: fresh, name: `od${int(0, 9)}`, seats: int(1, 9) },
        ];
        return Restaurant.bulkCreate(rows, { updateOnDuplicate: ['name', 'seats'] });
      },
    ],
    [
      'Restaurant.bulkCreate ignoreDuplicates',
      async () => {
        const existing = await ids(Restaurant);
        const rows = [...(existing.length ? [{ id: pick(existing), name: 'ign' }] : []), { id: await newId(), name: 'ign' }];
        return Restaurant.bulkCreate(rows, { ignoreDuplicates: true });
      },
    ],
    [
      'bulkUpdate(Restaurant)',
      async () => {
        const rows = await Restaurant.findAll({ order: literal(RANDOM), limit: 4 });
        for (const r of rows) r.seats = int(1, 50);
        return bulkUpdate(Restaurant, rows);
      },
    ],
    [
      'bulkUpdate(Place)',
      async () => {
        const rows = await Place.findAll({ order: literal(RANDOM), limit: 4 });
        for (const p of rows) p.rating = int(0, 5);
        return bulkUpdate(Place, rows);
      },
    ],
  ];
}

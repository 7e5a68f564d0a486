import { expect } from 'chai';
import type { Model, ModelStatic } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { useDatabase } from './support/database';
import { Receivers } from './support/recorder';
import { random } from './support/helpers';
import { defineRandomWriteModels, randomWriteModels, randomWrites } from './support/random-writes';
import { defineInheritance } from './support/inheritance-models';
import { randomInheritedModels, randomInheritedWrites } from './support/random-inherited-writes';

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

/** After-signal replicas of `models`' tables, fed only by their receivers, with the old rows checked against them. */
function replicate(models: ModelStatic<Model>[], receivers: Receivers) {
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

  /** Each model's rows equal its replica (soft-deleted rows: but for `deletedAt`, which must be set). */
  const check = async (seed: number) => {
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
  };
  return { seen, check };
}

/**
 * Runs `count` seeded random writes (CHANGE_LOG_SEED, else `defaultSeed`) against replicas of `models`, checks
 * them, and that every operation ran and every path in `paths` (`Model.operation.event`) signalled.
 */
async function replay(
  receivers: Receivers,
  models: ModelStatic<Model>[],
  writes: (rnd: () => number) => [string, () => Promise<unknown>][],
  count: number,
  defaultSeed: number,
  paths: string[],
): Promise<void> {
  const seed = Number(process.env.CHANGE_LOG_SEED ?? defaultSeed);
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const { seen, check } = replicate(models, receivers);
  const operations = writes(rnd);
  const ran: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const [name, op] = pick(operations);
    ran[name] = (ran[name] ?? 0) + 1;
    await op();
  }
  await check(seed);
  expect(Object.keys(ran)).to.have.length(operations.length);
  for (const path of paths) expect(seen[path], path).to.be.greaterThan(0);
}

/**
 * The change-log property: a receiver that only ever sees after-signals keeps an in-memory replica of every
 * table; after a seeded random mix of writes over every path the replica equals the tables, and every old row
 * a signal carried equalled the replica's row at that moment.
 */
describe('change-log property', () => {
  useDatabase('log', defineRandomWriteModels);
  const receivers = new Receivers();

  afterEach(() => receivers.clear());

  it('an after-signal replica equals the tables after 1200 random writes over every write path', async function () {
    this.timeout(300000);
    await replay(receivers, randomWriteModels(), randomWrites, 1200, 20261126, [
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
    ]);
  });
});

/**
 * The same property over a three-level inheritance chain (Place → Restaurant → Pizzeria): each model's replica
 * is fed only by its own receivers — which fire for writes on its descendants (a Restaurant is a Place) and for
 * writes on its ancestors that reach its rows (Place.update of a restaurant) — and equals the model's rows.
 */
describe('change-log property over an inheritance chain', () => {
  useDatabase('logi', defineInheritance);
  const receivers = new Receivers();

  afterEach(() => receivers.clear());

  it('an after-signal replica of every model of the chain equals its rows after 400 random writes on every level', async function () {
    this.timeout(300000);
    await replay(receivers, randomInheritedModels(), randomInheritedWrites, 400, 20261207, [
      'Place.create.afterCreate',
      'Restaurant.bulkCreate.afterCreate',
      'Pizzeria.create.afterCreate',
      'Restaurant.update.afterUpdate',
      'Pizzeria.increment.afterUpdate',
      'Restaurant.destroy.afterDelete',
      'Pizzeria.destroy.afterDelete',
      'Restaurant.upsert.afterUpdate',
      'Restaurant.bulkUpdate.afterUpdate',
      'Pizzeria.bulkUpdate.afterUpdate',
    ]);
  });
});

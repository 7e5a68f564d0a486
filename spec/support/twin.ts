import { Model, type Sequelize } from 'sequelize';
import { connect, type TestDatabase } from './database';

/**
 * Two Sequelize instances on the same database: one with the library installed (and receivers, as a spec
 * adds them), one that never loaded it. A fidelity spec runs the same call on both, from the same table
 * state, and compares what each returned or threw, what it left in the tables, and the statements it sent.
 */
export interface Twins<M> {
  readonly installed: TestDatabase & { models: M };
  readonly vanilla: TestDatabase & { models: M };
}

export function useTwins<M>(define: (sequelize: Sequelize) => M, prepare?: (sequelize: Sequelize) => Promise<void>): Twins<M> {
  const twins = { installed: {}, vanilla: {} } as { installed: TestDatabase & { models: M }; vanilla: TestDatabase & { models: M } };
  before(async () => {
    Object.assign(twins.installed, connect());
    Object.assign(twins.vanilla, connect({}, false));
    if (prepare) await prepare(twins.installed.sequelize);
    twins.installed.models = define(twins.installed.sequelize);
    twins.vanilla.models = define(twins.vanilla.sequelize);
    await twins.installed.sequelize.sync({ force: true });
  });
  after(async () => {
    await twins.installed.sequelize?.close();
    await twins.vanilla.sequelize?.close();
  });
  return twins;
}

/** A value reduced to plain data: instances to their model name and values, errors to their class and message. */
export function plain(value: unknown): unknown {
  if (value instanceof Model) return { model: (value.constructor as typeof Model).name, ...value.get({ plain: true }) };
  if (value instanceof Error) return { error: value.name, message: value.message };
  if (Array.isArray(value)) return value.map(plain);
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

/** What a call returned or threw, as plain data. */
export async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { returned: plain(await run()) };
  } catch (error) {
    return { threw: plain(error) };
  }
}

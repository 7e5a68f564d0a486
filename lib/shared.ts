/**
 * One value per process for `key`, kept on `globalThis` under `Symbol.for`: when an application loads both the
 * CommonJS and the ESM build, they share registries, scopes, queues and error classes instead of each having
 * its own.
 */
export function shared<T>(key: string, create: () => T): T {
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  const symbol = Symbol.for(`sequelize-bulk-signals/${key}`);
  return (holder[symbol] ??= create());
}

import { AsyncLocalStorage } from 'node:async_hooks';

/** What the current async scope says about signals. */
export interface SignalScope {
  readonly bypass: boolean;
}

const KEY = Symbol.for('sequelize-bulk-signals/scope@1');
type Holder = { [KEY]?: AsyncLocalStorage<SignalScope> };

// One storage per process, even when the CJS and ESM builds are both loaded.
const storage: AsyncLocalStorage<SignalScope> =
  ((globalThis as Holder)[KEY] ??= new AsyncLocalStorage<SignalScope>());

export function currentScope(): SignalScope | undefined {
  return storage.getStore();
}

export function runInScope<T>(scope: SignalScope, fn: () => T): T {
  return storage.run(scope, fn);
}

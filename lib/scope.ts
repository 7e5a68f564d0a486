import { AsyncLocalStorage } from 'node:async_hooks';
import { shared } from './shared';
import type { ContextValue } from './events';

/** What the current async scope says about signals. */
export interface SignalScope {
  readonly bypass: boolean;
  /** The receivers being run around this point, outermost first, as `Model.event` (the recursion guard). */
  readonly chain: readonly string[];
  /** The value of the innermost `bulkSignals.withContext` around this point. */
  readonly context: ContextValue;
  /** While a receiver runs inside a write: that write's transaction (which holds the written rows locked). */
  readonly receiving: unknown;
  /** While Sequelize runs a signalled bulkCreate: that call (its included models' inserts belong to it). */
  readonly writing: unknown;
}

const ROOT: SignalScope = Object.freeze({
  bypass: false,
  chain: Object.freeze([]),
  context: undefined,
  receiving: undefined,
  writing: undefined,
});

// One storage per process, even when the CJS and ESM builds are both loaded.
const storage = shared('scope@2', () => new AsyncLocalStorage<SignalScope>());

export function currentScope(): SignalScope {
  return storage.getStore() ?? ROOT;
}

/** Runs `fn` in the current scope with some fields replaced. */
export function runInScope<T>(changes: Partial<SignalScope>, fn: () => T): T {
  return storage.run({ ...currentScope(), ...changes }, fn);
}

import type { Sequelize } from 'sequelize';

/** Options of `installBulkSignals`. */
export interface InstallOptions {
  /**
   * Warn (`process.emitWarning`, code `BULK_SIGNALS_MULTIPLE_RECEIVERS`) when a second receiver is registered
   * for the same model and event. Default `true`.
   */
  warnOnMultipleReceivers?: boolean;
  /**
   * How deep receivers may nest: a receiver that writes a model whose receivers write again, and so on.
   * Past this depth the write throws `RecursionLimitError` naming the chain. Default 8.
   */
  maxDepth?: number;
}

export interface InstallState {
  readonly options: Required<InstallOptions>;
}

const STATE = Symbol.for('sequelize-bulk-signals/installed@1');
type Carrier = { [STATE]?: InstallState };

export function installStateOf(sequelize: Sequelize | undefined): InstallState | undefined {
  return sequelize ? (sequelize as unknown as Carrier)[STATE] : undefined;
}

export function markInstalled(sequelize: Sequelize, options: InstallOptions): InstallState {
  const state: InstallState = {
    options: {
      warnOnMultipleReceivers: options.warnOnMultipleReceivers ?? true,
      maxDepth: options.maxDepth ?? 8,
    },
  };
  Object.defineProperty(sequelize, STATE, { value: state, enumerable: false, configurable: true });
  return state;
}

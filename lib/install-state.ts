import type { Sequelize } from 'sequelize';

/** Options of `installBulkSignals`. */
export interface InstallOptions {
  /**
   * Warn (`process.emitWarning`, code `BULK_SIGNALS_MULTIPLE_RECEIVERS`) when a second receiver is registered
   * for the same model and event. Default `true`.
   */
  warnOnMultipleReceivers?: boolean;
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
    options: { warnOnMultipleReceivers: options.warnOnMultipleReceivers ?? true },
  };
  Object.defineProperty(sequelize, STATE, { value: state, enumerable: false, configurable: true });
  return state;
}

import type { Model, Sequelize } from 'sequelize';
import type { Signal } from './events';

/**
 * Options of `installBulkSignals`.
 *
 * @example
 * installBulkSignals(sequelize, {
 *   maxDepth: 4,
 *   onCommitError: (error, signal) => logger.error({ error, model: signal.model.name, event: signal.event }),
 * });
 */
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
  /**
   * Where-based updates and deletes with receivers read, dispatch and write at most this many rows at a time
   * (keyset over the primary key, all in the one transaction), so memory stays bounded however many rows
   * match. Per call: the `chunkSize` option. Default: no chunking.
   */
  chunkSize?: number;
  /**
   * Where errors thrown by `onCommit` receivers go (they run after COMMIT, so nothing can roll back and the
   * caller has its result already). Default: a process warning with code `BULK_SIGNALS_ON_COMMIT_ERROR`
   * carrying the error as `cause`.
   */
  onCommitError?: (error: unknown, signal: Signal<Model>) => void;
}

export interface InstallState {
  readonly options: Required<Omit<InstallOptions, 'chunkSize'>> & Pick<InstallOptions, 'chunkSize'>;
}

const STATE = Symbol.for('sequelize-bulk-signals/installed@1');
type Carrier = { [STATE]?: InstallState };

export function installStateOf(sequelize: Sequelize | undefined): InstallState | undefined {
  return sequelize ? (sequelize as unknown as Carrier)[STATE] : undefined;
}

/** The options with their defaults. */
export function effectiveOptions(options: InstallOptions): InstallState['options'] {
  return {
    warnOnMultipleReceivers: options.warnOnMultipleReceivers ?? true,
    maxDepth: options.maxDepth ?? 8,
    onCommitError: options.onCommitError ?? warnOnCommitError,
    chunkSize: options.chunkSize,
  };
}

/** The options whose effective values differ between two installs. */
export function differingOptions(a: InstallState['options'], b: InstallState['options']): string[] {
  return (Object.keys(a) as (keyof InstallState['options'])[]).filter((k) => a[k] !== b[k]);
}

export function markInstalled(sequelize: Sequelize, options: InstallOptions): InstallState {
  const state: InstallState = { options: effectiveOptions(options) };
  Object.defineProperty(sequelize, STATE, { value: state, enumerable: false, configurable: true });
  return state;
}

function warnOnCommitError(error: unknown, signal: Signal<Model>): void {
  const warning = new Error(
    `An onCommit receiver for ${signal.model.name} '${signal.event}' threw after COMMIT: ${error instanceof Error ? error.message : String(error)}. ` +
      'The write is committed; handle such errors with installBulkSignals(sequelize, { onCommitError }).',
    { cause: error },
  );
  warning.name = 'BulkSignalsWarning';
  (warning as Error & { code: string }).code = 'BULK_SIGNALS_ON_COMMIT_ERROR';
  process.emitWarning(warning);
}

/** A Sequelize instance (of any loaded copy of Sequelize, sequelize-typescript's included). */
export function isSequelize(target: unknown): target is Sequelize {
  const s = target as Partial<Sequelize> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.define === 'function' &&
    typeof s.getQueryInterface === 'function' &&
    typeof s.getDialect === 'function' &&
    typeof s.transaction === 'function' &&
    typeof s.models === 'object'
  );
}

import { shared } from './shared';

/**
 * Every error this library throws extends {@link BulkSignalsError}, so one `instanceof` check catches them.
 * Errors raised by receivers are never wrapped: the caller gets the receiver's own error object.
 *
 * @example
 * try { bulkSignals.on(Account, 'afterUpdte' as any, fn) } catch (e) { if (e instanceof BulkSignalsError) ... }
 */
const errors = shared('errors@1', () => {
  class BulkSignalsError extends Error {
    override readonly name: string = 'BulkSignalsError';
    /** The model the error is about, when there is one. */
    readonly modelName: string | undefined;
    /** The event the error is about, when there is one. */
    readonly event: string | undefined;

    constructor(message: string, details: { modelName?: string; event?: string; cause?: unknown } = {}) {
      super(message, details.cause === undefined ? undefined : { cause: details.cause });
      this.modelName = details.modelName;
      this.event = details.event;
    }
  }

  /** A receiver registration was malformed: unknown event, a target that is not a model, a non-function, a bad priority. */
  class InvalidReceiverError extends BulkSignalsError {
    override readonly name = 'InvalidReceiverError';
  }

  /** `installBulkSignals` was given something it cannot install into (not a Sequelize instance, unsupported dialect). */
  class InstallError extends BulkSignalsError {
    override readonly name = 'InstallError';
  }

  /** A receiver was registered on a model whose Sequelize instance never ran `installBulkSignals`. */
  class NotInstalledError extends BulkSignalsError {
    override readonly name = 'NotInstalledError';
  }

  /** A write was asked for in a form the library cannot signal correctly (yet); nothing was written. */
  class UnsupportedOperationError extends BulkSignalsError {
    override readonly name = 'UnsupportedOperationError';
  }

  /** Receivers nested deeper than `maxDepth` (a receiver writing a model whose receivers write again…). */
  class RecursionLimitError extends BulkSignalsError {
    override readonly name = 'RecursionLimitError';
    /** The receivers that were running, outermost first, as `Model.event`. */
    readonly chain: readonly string[];

    constructor(message: string, details: { modelName: string; event: string; chain: readonly string[] }) {
      super(message, details);
      this.chain = details.chain;
    }
  }

  /** A concurrent writer changed what a write would do between the library's locked read and the write. */
  class ConcurrentWriteError extends BulkSignalsError {
    override readonly name = 'ConcurrentWriteError';
  }

  /** `bulkUpdate` / `bulkDestroy` got input they cannot write correctly; nothing was written. */
  class InvalidInputError extends BulkSignalsError {
    override readonly name = 'InvalidInputError';
  }

  return {
    BulkSignalsError,
    InvalidReceiverError,
    InstallError,
    NotInstalledError,
    UnsupportedOperationError,
    RecursionLimitError,
    ConcurrentWriteError,
    InvalidInputError,
  };
});

// The classes are shared by the CommonJS and ESM builds (see `shared`), so `instanceof` holds across them.
export const BulkSignalsError = errors.BulkSignalsError;
export type BulkSignalsError = InstanceType<typeof BulkSignalsError>;
export const InvalidReceiverError = errors.InvalidReceiverError;
export type InvalidReceiverError = InstanceType<typeof InvalidReceiverError>;
export const InstallError = errors.InstallError;
export type InstallError = InstanceType<typeof InstallError>;
export const NotInstalledError = errors.NotInstalledError;
export type NotInstalledError = InstanceType<typeof NotInstalledError>;
export const UnsupportedOperationError = errors.UnsupportedOperationError;
export type UnsupportedOperationError = InstanceType<typeof UnsupportedOperationError>;
export const RecursionLimitError = errors.RecursionLimitError;
export type RecursionLimitError = InstanceType<typeof RecursionLimitError>;
export const ConcurrentWriteError = errors.ConcurrentWriteError;
export type ConcurrentWriteError = InstanceType<typeof ConcurrentWriteError>;
export const InvalidInputError = errors.InvalidInputError;
export type InvalidInputError = InstanceType<typeof InvalidInputError>;

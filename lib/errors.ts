import { shared } from './shared';

// One set of error classes per process (documented at their exports below).
const errors = shared('errors@2', () => {
  class BulkSignalsError extends Error {
    /** The class's name, as `error.name` (`'InvalidReceiverError'`, …): survives serialisation, unlike `instanceof`. */
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
    /** Always `'InvalidReceiverError'`. */
    override readonly name = 'InvalidReceiverError';
  }

  /** `installBulkSignals` was given something it cannot install into (not a Sequelize instance, unsupported dialect). */
  class InstallError extends BulkSignalsError {
    /** Always `'InstallError'`. */
    override readonly name = 'InstallError';
  }

  /** A receiver was registered on a model whose Sequelize instance never ran `installBulkSignals`. */
  class NotInstalledError extends BulkSignalsError {
    /** Always `'NotInstalledError'`. */
    override readonly name = 'NotInstalledError';
  }

  /** A write (or, through a schema copy of an inherited model, a read) in a form the library cannot handle correctly (yet); nothing was sent. */
  class UnsupportedOperationError extends BulkSignalsError {
    /** Always `'UnsupportedOperationError'`. */
    override readonly name = 'UnsupportedOperationError';
  }

  /** Receivers nested deeper than `maxDepth` (a receiver writing a model whose receivers write again…). */
  class RecursionLimitError extends BulkSignalsError {
    /** Always `'RecursionLimitError'`. */
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
    /** Always `'ConcurrentWriteError'`. */
    override readonly name = 'ConcurrentWriteError';
  }

  /** `bulkUpdate` / `bulkDestroy` got input they cannot write correctly; nothing was written. */
  class InvalidInputError extends BulkSignalsError {
    /** Always `'InvalidInputError'`. */
    override readonly name = 'InvalidInputError';
  }

  /** `inherit(Child, Parent)` was given models it cannot join into one chain; nothing was changed. */
  class InheritanceError extends BulkSignalsError {
    /** Always `'InheritanceError'`. */
    override readonly name = 'InheritanceError';
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
    InheritanceError,
  };
});

// The classes are shared by the CommonJS and ESM builds (see `shared`), so `instanceof` holds across them.

/**
 * Base class of every error the library throws: one `instanceof` check catches them all. It carries the
 * model and event the error is about. Errors thrown by receivers are never wrapped: the caller gets the
 * receiver's own error object.
 *
 * @example
 * try {
 *   bulkSignals.on(Account, 'afterUpdte' as never, audit);
 * } catch (error) {
 *   if (error instanceof BulkSignalsError) console.error(error.modelName, error.event, error.message);
 * }
 * @class
 */
export const BulkSignalsError = errors.BulkSignalsError;
/** An instance of {@link BulkSignalsError}. */
export type BulkSignalsError = InstanceType<typeof BulkSignalsError>;

/**
 * A receiver registration was malformed: an unknown event, a target that is not a model class, a receiver
 * that is not a function, a bad priority or option.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', 'audit' as never); // throws InvalidReceiverError
 * @class
 */
export const InvalidReceiverError = errors.InvalidReceiverError;
/** An instance of {@link InvalidReceiverError}. */
export type InvalidReceiverError = InstanceType<typeof InvalidReceiverError>;

/**
 * `installBulkSignals` was given something it cannot install into: not a Sequelize instance, a dialect the
 * library does not support, or a second install with different options.
 *
 * @example
 * installBulkSignals(sequelize, { maxDepth: 4 });
 * installBulkSignals(sequelize, { maxDepth: 8 }); // throws InstallError: already installed with maxDepth 4
 * @class
 */
export const InstallError = errors.InstallError;
/** An instance of {@link InstallError}. */
export type InstallError = InstanceType<typeof InstallError>;

/**
 * A receiver was registered on a model whose Sequelize instance never ran `installBulkSignals` (or, for
 * sequelize-typescript, a model not yet added to a Sequelize instance).
 *
 * @example
 * const sequelize = new Sequelize(url); // installBulkSignals(sequelize) forgotten
 * bulkSignals.on(Account, 'afterUpdate', audit); // throws NotInstalledError
 * @class
 */
export const NotInstalledError = errors.NotInstalledError;
/** An instance of {@link NotInstalledError}. */
export type NotInstalledError = InstanceType<typeof NotInstalledError>;

/**
 * A write was asked for in a form the library cannot signal correctly; nothing was written. Thrown for a
 * signalled write of a model without a primary key on MariaDB/MySQL (its rows cannot be told apart there).
 *
 * @example
 * if (error instanceof UnsupportedOperationError) logger.warn(error.message); // e.g. a keyless model on MySQL
 * @class
 */
export const UnsupportedOperationError = errors.UnsupportedOperationError;
/** An instance of {@link UnsupportedOperationError}. */
export type UnsupportedOperationError = InstanceType<typeof UnsupportedOperationError>;

/**
 * Receivers nested deeper than `maxDepth`: a receiver writes a model whose receivers write again, and so
 * on. `chain` lists the receivers that were running, outermost first.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', ({ transaction }) => Account.update({ n: 1 }, { where: {}, transaction }));
 * await Account.update({ n: 0 }, { where: {} }); // RecursionLimitError, chain: ['Account.afterUpdate', …]
 * @class
 */
export const RecursionLimitError = errors.RecursionLimitError;
/** An instance of {@link RecursionLimitError}. */
export type RecursionLimitError = InstanceType<typeof RecursionLimitError>;

/**
 * A concurrent writer changed what a write would do between the library's locked read and the write (an
 * upsert whose key another connection inserted meanwhile); nothing was written, the call can be retried.
 *
 * @example
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     return await Account.upsert(values);
 *   } catch (error) {
 *     if (!(error instanceof ConcurrentWriteError) || attempt === 3) throw error;
 *   }
 * }
 * @class
 */
export const ConcurrentWriteError = errors.ConcurrentWriteError;
/** An instance of {@link ConcurrentWriteError}. */
export type ConcurrentWriteError = InstanceType<typeof ConcurrentWriteError>;

/**
 * `bulkUpdate` / `bulkDestroy` got input they cannot write correctly (not instances of the model, unsaved
 * instances, duplicate or missing primary keys); nothing was written.
 *
 * @example
 * await bulkUpdate(Account, [Account.build({ name: 'new' })]); // throws InvalidInputError: item 0 is not saved yet
 * @class
 */
export const InvalidInputError = errors.InvalidInputError;
/** An instance of {@link InvalidInputError}. */
export type InvalidInputError = InstanceType<typeof InvalidInputError>;

/**
 * `inherit(Child, Parent)` was given models it cannot join into one chain: not models of one Sequelize instance,
 * a model inherited twice, a cycle, an attribute both declare, a child primary key other than the parent's.
 * Nothing was changed.
 *
 * @example
 * inherit(Restaurant, Place);
 * inherit(Restaurant, Shop); // throws InheritanceError: Restaurant already inherits from Place
 * @class
 */
export const InheritanceError = errors.InheritanceError;
/** An instance of {@link InheritanceError}. */
export type InheritanceError = InstanceType<typeof InheritanceError>;

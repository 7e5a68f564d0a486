/**
 * Per-call options, accepted by every Sequelize write method and typed through module augmentation, so
 * `Account.bulkCreate(rows, { bypassSignals: true })` type-checks.
 *
 * @example
 * await Account.bulkCreate(seedRows, { bypassSignals: true });
 * await Account.update({ status: 'closed' }, { where: { dormant: true }, bypassValidation: true });
 */
export interface SignalCallOptions {
  /** No signals at all for this call. */
  bypassSignals?: boolean;
  /** Skip only the validate events (validateCreate, validateUpdate, validateDelete) for this call. */
  bypassValidation?: boolean;
  /** `Model.update` / `Model.destroy` with receivers: at most this many rows read, signalled and written at a time. */
  chunkSize?: number;
}

declare module 'sequelize/types/model' {
  // Augmentation must repeat the type parameters of the interfaces it merges into, used or not.
  /* eslint-disable @typescript-eslint/no-unused-vars */
  interface CreateOptions<TAttributes> extends SignalCallOptions {}
  interface BulkCreateOptions<TAttributes> extends SignalCallOptions {}
  interface UpsertOptions<TAttributes> extends SignalCallOptions {}
  interface UpdateOptions<TAttributes> extends SignalCallOptions {}
  interface TruncateOptions<TAttributes> extends SignalCallOptions {}
  interface DestroyOptions<TAttributes> extends SignalCallOptions {}
  interface RestoreOptions<TAttributes> extends SignalCallOptions {}
  interface IncrementDecrementOptions<TAttributes> extends SignalCallOptions {}
  interface InstanceRestoreOptions extends SignalCallOptions {}
  interface InstanceDestroyOptions extends SignalCallOptions {}
  interface InstanceUpdateOptions<TAttributes> extends SignalCallOptions {}
  interface SaveOptions<TAttributes> extends SignalCallOptions {}
}

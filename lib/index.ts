export { installBulkSignals } from './install';
export type { InstallOptions } from './install-state';
export { bulkSignals, type ReceiverOptions } from './registry';
export { Priority, EVENT_NAMES } from './events';
export type { AttributeName, BulkSignalEventMap, EventName, Operation, Receiver, Signal, Via } from './events';
export type { SignalCallOptions } from './options';
export {
  BulkSignalsError, ConcurrentWriteError, InstallError, InvalidReceiverError, NotInstalledError, RecursionLimitError,
  UnsupportedOperationError,
} from './errors';

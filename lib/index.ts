export { installBulkSignals } from './install';
export { OnSignal, type SignalMethodDecorator } from './on-signal';
export { auditTrail, type AuditTrailOptions } from './audit-trail';
export { AuditEntry, type AuditAction, type AuditEntryAttributes } from './audit-entry';
export { bulkUpdate, type BulkUpdateOptions } from './bulk-update';
export { bulkDestroy, type BulkDestroyOptions } from './bulk-destroy';
export { inherit } from './inheritance/inherit';
export type { InstallOptions } from './install-state';
export { bulkSignals, type BulkSignals } from './bulk-signals';
export type { ReceiverOptions } from './receiver-options';
export { Priority, EVENT_NAMES } from './events';
export { and, changed, changedFrom, changedTo, isEqual, not, or, type Condition, type RowPair } from './conditions';
export type {
  AfterEventName,
  AttributeName,
  BulkSignalEventMap,
  ContextValue,
  EventName,
  Operation,
  Receiver,
  Signal,
  SignalContext,
  Via,
} from './events';
export type { SignalCallOptions } from './options';
export {
  BulkSignalsError,
  ConcurrentWriteError,
  InstallError,
  InvalidInputError,
  InheritanceError,
  InvalidReceiverError,
  NotInstalledError,
  RecursionLimitError,
  UnsupportedOperationError,
} from './errors';

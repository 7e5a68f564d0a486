import type { Model, ModelStatic } from 'sequelize';
import { InvalidReceiverError } from './errors';
import { isCondition, type Condition } from './conditions';
import { EVENT_NAMES, Priority, type AfterEventName, type AttributeName, type EventName } from './events';

/**
 * Options of `bulkSignals.on`. `E` is the event, so `onCommit` only type-checks on after events.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', notify, { priority: Priority.LOW, when: changed('status'), onCommit: true, name: 'notify' });
 */
export interface ReceiverOptions<M extends Model = Model, E extends EventName = EventName> {
  /** Lower runs first; see {@link Priority}. Default `Priority.NORMAL` (50). */
  priority?: number;
  /**
   * Only rows that satisfy this condition: the receiver gets the matching pairs (still paired) and is not
   * called when none match. Build it with `changed`, `changedTo`, `changedFrom`, `isEqual`, `and`, `or`, `not`.
   */
  when?: Condition<AttributeName<M>>;
  /**
   * After events only: deliver once the outermost transaction has committed (never after a rollback or a
   * failed COMMIT). The write is final by then: a throw goes to `onCommitError`, not to the caller.
   */
  onCommit?: E extends AfterEventName ? boolean : false;
  /**
   * A name for the receiver (in debug logs). A named receiver is a deliberate extra receiver: it never raises
   * the "more than one receiver" warning.
   */
  name?: string;
}

/** The options of one registration, checked, with their defaults. */
export interface CheckedOptions {
  readonly priority: number;
  readonly when: Condition | undefined;
  readonly onCommit: boolean;
  readonly name: string | undefined;
}

/** Where a registration is made, for messages: `bulkSignals.on(Account, 'afterUpdate')`. */
export interface Registration {
  /** `Account`, or `sequelize` for every model of an instance; empty for `@OnSignal` at class definition. */
  readonly what: string;
  readonly modelName: string | undefined;
  /** The model whose attributes a `when` must read; none for every-model receivers (checked at dispatch). */
  readonly model: ModelStatic<Model> | undefined;
  readonly via: string;
}

const EVENTS = new Set<string>(EVENT_NAMES);

export function nameOf(target: unknown): string {
  if (typeof target === 'function') return target.name || '<anonymous function>';
  return target === null ? 'null' : typeof target;
}

export function failRegistration(message: string, modelName?: string, event?: string): never {
  throw new InvalidReceiverError(message, { ...(modelName ? { modelName } : {}), ...(event ? { event } : {}) });
}

/** The event, checked. */
export function checkedEvent(r: Registration, event: unknown): EventName {
  if (typeof event === 'string' && EVENTS.has(event)) return event as EventName;
  return failRegistration(
    `${r.via}(${r.what ? `${r.what}, ` : ''}${JSON.stringify(event)}): unknown event; expected one of ${EVENT_NAMES.join(', ')}`,
    r.modelName,
    String(event),
  );
}

/** Checks the receiver and the options of one registration; returns the options with their defaults. */
export function checkedOptions(r: Registration, event: EventName, receiver: unknown, options: unknown): CheckedOptions {
  const at = `${r.via}(${r.what ? `${r.what}, ` : ''}'${event}')`;
  const wrong = (what: string) => failRegistration(`${at}: ${what}`, r.modelName, event);
  if (typeof receiver !== 'function') wrong(`the receiver must be a function, got ${nameOf(receiver)}`);
  if (options !== undefined && (options === null || typeof options !== 'object'))
    wrong(`options must be an object, got ${nameOf(options)}`);
  const o = (options ?? {}) as ReceiverOptions;
  return {
    priority: checkedPriority(o.priority, wrong),
    when: checkedCondition(r, o.when, wrong),
    onCommit: checkedOnCommit(o.onCommit, event, wrong),
    name: checkedName(o.name, wrong),
  };
}

function checkedPriority(priority: unknown, wrong: (what: string) => never): number {
  if (priority === undefined) return Priority.NORMAL;
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    wrong(`priority must be a finite number, got ${typeof priority === 'number' ? String(priority) : nameOf(priority)}`);
  return priority;
}

function checkedOnCommit(onCommit: unknown, event: string, wrong: (what: string) => never): boolean {
  if (onCommit !== undefined && typeof onCommit !== 'boolean') wrong(`onCommit must be a boolean, got ${nameOf(onCommit)}`);
  if (onCommit && !event.startsWith('after')) wrong('onCommit delivery is for after events only (afterCreate, afterUpdate, afterDelete)');
  return onCommit === true;
}

function checkedName(name: unknown, wrong: (what: string) => never): string | undefined {
  if (name !== undefined && typeof name !== 'string') wrong(`name must be a string, got ${nameOf(name)}`);
  return name;
}

function checkedCondition(r: Registration, when: unknown, wrong: (what: string) => never): Condition | undefined {
  if (when === undefined) return undefined;
  if (!isCondition(when)) {
    wrong(
      `when must be a condition built with changed(), changedTo(), changedFrom(), isEqual(), and(), or() or not(), got ${nameOf(when)}`,
    );
  }
  if (r.model) {
    const attributes = r.model.getAttributes();
    const unknown = when.fields.filter((f) => !(f in attributes));
    if (unknown.length) wrong(`the condition reads ${unknown.join(', ')}, which ${r.model.name} does not have`);
  }
  return when;
}

import type { Model } from 'sequelize';
import { sameValue } from './data/diff';
import { valuesOf } from './internals';

/**
 * One row of a signal as a condition sees it: `old` is absent for creates, `new` for deletes.
 *
 * @example
 * // A condition can be tried on a pair directly, e.g. in a unit test of the receiver's filter:
 * changedTo('status', 'closed').test({ old: Account.build({ status: 'open' }), new: Account.build({ status: 'closed' }) }); // true
 */
export interface RowPair {
  /** The row before the write (`oldRecords[i]`); `undefined` for creates. */
  readonly old: Model | undefined;
  /** The row after the write (`newRecords[i]`); `undefined` for deletes. */
  readonly new: Model | undefined;
}

const CONDITION = Symbol.for('sequelize-bulk-signals/condition@1');

/**
 * A per-row filter for a receiver (`bulkSignals.on(M, event, fn, { when })`). `F` is the attribute names it
 * reads, checked against the model at `on()`.
 *
 * @example
 * const closing: Condition<'status'> = changedTo('status', 'closed');
 * bulkSignals.on(Account, 'afterUpdate', archive, { when: closing });
 */
export interface Condition<F extends string = string> {
  /** @internal Marks a condition built by this library. */
  readonly [CONDITION]: true;
  /** The attributes the condition reads (for type checking against the model). */
  readonly fields: readonly F[];
  /** Human-readable form, e.g. `changed(balance) and not(isEqual(status, "closed"))`. */
  readonly description: string;
  /** Whether the pair passes. */
  test(pair: RowPair): boolean;
}

export function isCondition(value: unknown): value is Condition {
  return typeof value === 'object' && value !== null && (value as Partial<Condition>)[CONDITION] === true;
}

function condition<F extends string>(fields: readonly F[], description: string, test: (pair: RowPair) => boolean): Condition<F> {
  return Object.freeze({ [CONDITION]: true as const, fields, description, test });
}

// A row that does not exist on one side (before a create, after a delete) reads as NULL there.
const before = (pair: RowPair, field: string): unknown => (pair.old ? valuesOf(pair.old)[field] : null) ?? null;
const after = (pair: RowPair, field: string): unknown => (pair.new ? valuesOf(pair.new)[field] : null) ?? null;
/** The row's current value: the new one, or for a delete the old one. */
const current = (pair: RowPair, field: string): unknown => (pair.new ? after(pair, field) : before(pair, field));

/**
 * The value of `field` differs between the old and the new row (a create changes what it sets non-null; a
 * delete, what was non-null).
 *
 * @example bulkSignals.on(Account, 'afterUpdate', notify, { when: changed('balance') })
 */
export function changed<F extends string>(field: F): Condition<F> {
  return condition([field], `changed(${field})`, (p) => !sameValue(before(p, field), after(p, field)));
}

/**
 * `field` changed, and its new value equals `value`.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', sendFrozenNotice, { when: changedTo('status', 'frozen') });
 */
export function changedTo<F extends string>(field: F, value: unknown): Condition<F> {
  return condition(
    [field],
    `changedTo(${field}, ${JSON.stringify(value)})`,
    (p) => !sameValue(before(p, field), after(p, field)) && sameValue(after(p, field), value ?? null),
  );
}

/**
 * `field` changed, and its old value equals `value`.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', welcomeBack, { when: changedFrom('status', 'dormant') });
 */
export function changedFrom<F extends string>(field: F, value: unknown): Condition<F> {
  return condition(
    [field],
    `changedFrom(${field}, ${JSON.stringify(value)})`,
    (p) => !sameValue(before(p, field), after(p, field)) && sameValue(before(p, field), value ?? null),
  );
}

/**
 * The row's value of `field` (the new row's; for deletes the old row's) equals `value`.
 *
 * @example
 * bulkSignals.on(Order, 'afterCreate', notifyWarehouse, { when: isEqual('shipping', 'express') });
 */
export function isEqual<F extends string>(field: F, value: unknown): Condition<F> {
  return condition([field], `isEqual(${field}, ${JSON.stringify(value)})`, (p) => sameValue(current(p, field), value ?? null));
}

/**
 * Every condition holds.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', alert, { when: and(changed('balance'), isEqual('status', 'open')) });
 */
export function and<F extends string>(...conditions: Condition<F>[]): Condition<F> {
  return condition(
    conditions.flatMap((c) => c.fields),
    conditions.map((c) => c.description).join(' and '),
    (p) => conditions.every((c) => c.test(p)),
  );
}

/**
 * At least one condition holds.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', reindex, { when: or(changed('name'), changed('ownerEmail')) });
 */
export function or<F extends string>(...conditions: Condition<F>[]): Condition<F> {
  return condition(
    conditions.flatMap((c) => c.fields),
    `(${conditions.map((c) => c.description).join(' or ')})`,
    (p) => conditions.some((c) => c.test(p)),
  );
}

/**
 * The condition does not hold.
 *
 * @example
 * bulkSignals.on(Account, 'afterUpdate', audit, { when: not(isEqual('status', 'closed')) });
 */
export function not<F extends string>(inner: Condition<F>): Condition<F> {
  return condition(inner.fields, `not(${inner.description})`, (p) => !inner.test(p));
}

/** Indices of the pairs of a signal's rows that satisfy `when`. */
export function matchingIndices(when: Condition, newRecords: readonly Model[], oldRecords: readonly Model[]): number[] {
  const length = Math.max(newRecords.length, oldRecords.length);
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    if (when.test({ old: oldRecords[i], new: newRecords[i] })) out.push(i);
  }
  return out;
}

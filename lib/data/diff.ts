import type { Model } from 'sequelize';
import type { Family } from '../events';
import { valuesOf } from '../internals';

/** Value equality as a change log means it: dates by time, buffers by bytes, JSON and arrays by content. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a == null || b == null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return bothNaN(a, b);
  return sameStructure(a, b);
}

function bothNaN(a: unknown, b: unknown): boolean {
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

function sameStructure(a: object, b: object): boolean {
  if (a instanceof Date || b instanceof Date) return sameDate(a, b);
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) return sameArray(a, b);
  return sameObject(a as Record<string, unknown>, b as Record<string, unknown>);
}

function sameDate(a: object, b: object): boolean {
  return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
}

function sameArray(a: object, b: object): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return false;
  return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
}

function sameObject(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue(a[k], b[k]));
}

/**
 * A copy deep enough that later in-place edits (a JSON object, a Date) do not reach it. Values of other classes
 * (what a custom type's `parse` returns, a moment, a Decimal) are kept as they are: a structured clone would
 * drop their prototype, or throw on the functions they hold.
 */
export function copyValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  try {
    return structuredClone(value);
  } catch {
    // JSON-like data holding something that cannot be cloned (a function): kept as it is.
    return value;
  }
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function copyValues(values: Record<string, unknown>, attributes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attributes) out[a] = copyValue(values[a]);
  return out;
}

/** Attributes among `candidates` whose value differs between `oldRecords[i]` and `newRecords[i]` for some i. */
export function changedBetween(oldRecords: readonly Model[], newRecords: readonly Model[], candidates: readonly string[]): string[] {
  const out: string[] = [];
  const olds = newRecords.map((_, i) => (oldRecords[i] ? valuesOf(oldRecords[i]) : undefined));
  const news = newRecords.map(valuesOf);
  for (const attribute of candidates) {
    for (let i = 0; i < news.length; i++) {
      const a = olds[i]?.[attribute];
      const b = news[i]![attribute];
      if (a !== b && !sameValue(a, b)) {
        out.push(attribute);
        break;
      }
    }
  }
  return out;
}

/**
 * Attributes among `candidates` that hold a non-null value in at least one record: what a create changed,
 * from nothing (a column left or set NULL did not change).
 */
export function presentIn(records: readonly Model[], candidates: readonly string[]): string[] {
  return candidates.filter((attribute) => records.some((r) => valuesOf(r)[attribute] != null));
}

/** Attributes whose value in some record differs from that record's earlier copy in `before`. */
export function editedAttributes(
  records: readonly Model[],
  before: readonly Record<string, unknown>[],
  candidates: readonly string[],
): string[] {
  return candidates.filter((a) => records.some((r, i) => !sameValue(before[i]?.[a], valuesOf(r)[a])));
}

/** What one dispatch delivers: records paired by index and the attributes that changed. */
export interface Rows {
  readonly newRecords: readonly Model[];
  readonly oldRecords: readonly Model[];
  readonly changedFields: readonly string[];
}

/**
 * The one definition of `changedFields`: update — attributes whose value differs between old and new in at
 * least one pair; create — the attributes some new record holds a value for; delete — none. `candidates`
 * are the attributes to consider (the model's stored attributes).
 */
export function changedFields(
  family: Family,
  oldRecords: readonly Model[],
  newRecords: readonly Model[],
  candidates: readonly string[],
): string[] {
  if (family === 'Update') return changedBetween(oldRecords, newRecords, candidates);
  if (family === 'Create') return presentIn(newRecords, candidates);
  return [];
}

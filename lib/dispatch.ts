import type { Model, ModelStatic, Transaction } from 'sequelize';
import { eventName, type ContextValue, type EventName, type Family, type Operation, type Signal, type Via } from './events';
import { RecursionLimitError } from './errors';
import { installStateOf } from './install-state';
import { matchingIndices } from './conditions';
import { changedFields, copyValues, sameValue, type Rows } from './data/diff';
import { hasPrimaryKey, keyOf, storedAttributes } from './data/model-info';
import { valuesOf } from './internals';
import { deferUntilCommit } from './on-commit';
import { appliesTo, ownReceiversFor, receiversFor, type Entry } from './registry';
import { ancestorsOf } from './inheritance/chain';
import { buildRecords } from './data/records';
import { currentScope, runInScope } from './scope';
import { beforeEvents } from './listening';
import { debugLog } from './debug';

export type { Rows };

/** What one Sequelize call is, for the signals it produces. */
export interface OperationContext {
  readonly model: ModelStatic<Model>;
  readonly operation: Operation;
  readonly via: Via;
  readonly family: Family;
  readonly transaction: Transaction;
  /** The caller's own options object, exposed read-only to receivers. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly bypassValidation: boolean;
  readonly soft: boolean;
  /** The most specific model of the rows (`inherit`): the written model, or a descendant whose rows these are. */
  readonly concreteModel?: ModelStatic<Model>;
  /**
   * Only the model's own receivers, no ancestors' and none for every model: the dispatch to a descendant of the
   * written model, for its rows (the written model's own dispatch covers it and its ancestors).
   */
  readonly ownOnly?: boolean;
}

/** The rows of one dispatch, with `changedFields` computed the one way (see `changedFields`). */
export function rowsOf(
  ctx: OperationContext,
  oldRecords: readonly Model[],
  newRecords: readonly Model[],
  /** Of an update, the only attributes that can differ (the rest of each new row was built from its old row). */
  differing?: readonly string[],
): Rows {
  const attributes = storedAttributes(ctx.model);
  const candidates = differing ? attributes.filter((a) => differing.includes(a)) : attributes;
  return { oldRecords, newRecords, changedFields: changedFields(ctx.family, oldRecords, newRecords, candidates) };
}

function freezeSignal(ctx: OperationContext, event: EventName, rows: Rows, context: ContextValue): Signal<Model> {
  return Object.freeze({
    event,
    model: ctx.model,
    concreteModel: ctx.concreteModel ?? ctx.model,
    operation: ctx.operation,
    via: ctx.via,
    newRecords: Object.freeze([...rows.newRecords]),
    oldRecords: Object.freeze([...rows.oldRecords]),
    changedFields: Object.freeze([...rows.changedFields] as Signal<Model>['changedFields'][number][]),
    soft: ctx.soft,
    transaction: ctx.transaction,
    options: ctx.options,
    context,
  });
}

/** The pairs at `indices` of a signal, with `changedFields` recomputed for them. */
function subset(ctx: OperationContext, event: EventName, rows: Rows, indices: readonly number[], context: ContextValue): Signal<Model> {
  const newRecords = rows.newRecords.length ? indices.map((i) => rows.newRecords[i]!) : [];
  const oldRecords = rows.oldRecords.length ? indices.map((i) => rows.oldRecords[i]!) : [];
  return freezeSignal(
    ctx,
    event,
    { newRecords, oldRecords, changedFields: changedFields(ctx.family, oldRecords, newRecords, rows.changedFields) },
    context,
  );
}

/** The signals of one event, built once per distinct set of rows (a condition may pick a subset). */
class SignalsOf {
  private full: Signal<Model> | undefined;
  private rowKeys: string[] | undefined;
  readonly total: number;
  readonly context = currentScope().context;

  constructor(
    readonly ctx: OperationContext,
    readonly event: EventName,
    readonly rows: Rows,
  ) {
    this.total = Math.max(rows.newRecords.length, rows.oldRecords.length);
  }

  /** The signal for `entry`, or `undefined` when its condition matches no row. */
  for(entry: Entry): Signal<Model> | undefined {
    if (!appliesTo(entry, this.ctx.model)) return undefined;
    if (!entry.when) return (this.full ??= freezeSignal(this.ctx, this.event, this.rows, this.context));
    const indices = matchingIndices(entry.when, this.rows.newRecords, this.rows.oldRecords);
    if (debugLog.dispatch.enabled) {
      const who = `${this.ctx.model.name}.${this.event}${entry.name ? ` (${entry.name})` : ''}`;
      debugLog.dispatch('%s: when %s matched %d of %d row(s)', who, entry.when.description, indices.length, this.total);
    }
    if (indices.length === 0) return undefined;
    if (indices.length === this.total) return (this.full ??= freezeSignal(this.ctx, this.event, this.rows, this.context));
    return subset(this.ctx, this.event, this.rows, indices, this.context);
  }

  keys(): string[] {
    return (this.rowKeys ??= keysOf(this.ctx, this.rows));
  }
}

/**
 * Delivers one event: receivers one at a time, awaited, in priority order, each with the pairs its condition
 * matches; `onCommit` receivers are queued for after the outermost COMMIT. A throw stops the operation.
 */
export async function emit(ctx: OperationContext, event: EventName, rows: Rows): Promise<void> {
  await emitTo(ctx, event, rows, ctx.ownOnly ? ownReceiversFor(ctx.model, event) : receiversFor(ctx.model, event));
  if (ctx.ownOnly) return;
  for (const ancestor of ancestorsOf(ctx.model)) await emitToAncestor(ctx, ancestor, event, rows);
}

/**
 * The same event for an ancestor's own receivers (`inherit`: a Restaurant is a Place): the rows as instances of
 * the ancestor (its attributes only), `concreteModel` naming the model written. What before receivers change on
 * them is carried back to the written model's records, so it is written.
 */
async function emitToAncestor(ctx: OperationContext, ancestor: ModelStatic<Model>, event: EventName, rows: Rows): Promise<void> {
  const receivers = ownReceiversFor(ancestor, event);
  if (receivers.length === 0) return;
  const attributes = storedAttributes(ancestor);
  const as = (records: readonly Model[]) =>
    buildRecords(
      ancestor,
      records.map((r) => pick(valuesOf(r), attributes)),
    );
  const newRecords = as(rows.newRecords);
  const snapshots = newRecords.map((r) => copyValues(valuesOf(r), attributes));
  const kept = new Set(attributes);
  await emitTo(
    { ...ctx, model: ancestor, concreteModel: ctx.concreteModel ?? ctx.model },
    event,
    { oldRecords: as(rows.oldRecords), newRecords, changedFields: rows.changedFields.filter((f) => kept.has(f)) },
    receivers,
  );
  if (!event.startsWith('after')) {
    newRecords.forEach((r, i) => {
      const target = valuesOf(rows.newRecords[i]!);
      for (const a of attributes) if (!sameValue(valuesOf(r)[a], snapshots[i]![a])) target[a] = valuesOf(r)[a];
    });
  }
}

function pick(values: Record<string, unknown>, attributes: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attributes) if (a in values) out[a] = values[a];
  return out;
}

async function emitTo(ctx: OperationContext, event: EventName, rows: Rows, receivers: readonly Entry[]): Promise<void> {
  if (receivers.length === 0) return;
  const signals = new SignalsOf(ctx, event, rows);
  const now: [Entry, Signal<Model>][] = [];
  let queued = 0;
  for (const entry of receivers) {
    const signal = signals.for(entry);
    if (!signal) continue;
    if (!entry.onCommit) now.push([entry, signal]);
    else {
      deferUntilCommit(ctx.transaction, () => deliverAfterCommit(entry, signal), signals.keys());
      queued++;
    }
  }
  if (debugLog.dispatch.enabled) logDelivery(signals, { receivers: receivers.length, now: now.length, queued });
  if (now.length === 0) return;
  const chain = nestedChain(ctx, event);
  await runInScope({ chain, receiving: ctx.transaction, writing: undefined }, async () => {
    for (const [{ receiver }, signal] of now) {
      await (receiver as (s: Signal<Model>) => unknown)(signal);
    }
  });
}

function logDelivery(signals: SignalsOf, counts: { receivers: number; now: number; queued: number }): void {
  const { ctx, event, total } = signals;
  const filtered = counts.receivers - counts.now - counts.queued;
  debugLog.dispatch(
    '%s.%s (%s via %s): %d row(s); %d receiver(s) now, %d queued for commit, %d filtered out by when',
    ctx.model.name,
    event,
    ctx.operation,
    ctx.via,
    total,
    counts.now,
    counts.queued,
    filtered,
  );
}

/** The receiver chain with this event added; deeper than `maxDepth` throws `RecursionLimitError`. */
function nestedChain(ctx: OperationContext, event: EventName): string[] {
  const chain = [...currentScope().chain, `${ctx.model.name}.${event}`];
  const maxDepth = installStateOf(ctx.model.sequelize)?.options.maxDepth ?? 8;
  if (chain.length > maxDepth) {
    throw new RecursionLimitError(
      `Receivers nested deeper than maxDepth ${maxDepth}: ${chain.join(' → ')}. A receiver keeps writing a model ` +
        'whose receivers write again; raise maxDepth in installBulkSignals if the depth is intended.',
      { modelName: ctx.model.name, event, chain },
    );
  }
  return chain;
}

/** The rows a signal is about, as `Model\0key` (on-commit deliveries of each row follow its commit order). */
function keysOf(ctx: OperationContext, rows: Rows): string[] {
  if (!hasPrimaryKey(ctx.model)) return [];
  const records = rows.newRecords.length ? [...rows.newRecords, ...rows.oldRecords] : rows.oldRecords;
  return [...new Set(records.map((r) => `${ctx.model.name}\u0000${keyOf(ctx.model, valuesOf(r))}`))];
}

/** Runs an onCommit receiver after COMMIT, outside any receiver chain; its error goes to `onCommitError`. */
async function deliverAfterCommit(entry: Entry, signal: Signal<Model>): Promise<void> {
  try {
    await runInScope({ chain: [], bypass: false, receiving: undefined, writing: undefined }, () =>
      (entry.receiver as (s: Signal<Model>) => unknown)(signal),
    );
  } catch (error) {
    const handler = installStateOf(signal.model.sequelize)?.options.onCommitError;
    try {
      handler?.(error, signal);
    } catch (handlerError) {
      process.emitWarning(`onCommitError itself threw: ${String(handlerError)}`, { code: 'BULK_SIGNALS_ON_COMMIT_ERROR' });
    }
  }
}

/** validate (unless bypassed) then before, with the same rows. */
export async function emitBefore(ctx: OperationContext, rows: Rows): Promise<void> {
  for (const event of beforeEvents(ctx.family, ctx.bypassValidation)) await emit(ctx, event, rows);
}

export async function emitAfter(ctx: OperationContext, rows: Rows): Promise<void> {
  await emit(ctx, eventName('after', ctx.family), rows);
}

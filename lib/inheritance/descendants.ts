import type { Model, ModelStatic } from 'sequelize';
import type { WriteCall } from '../call';
import { emitAfter, emitBefore, rowsOf, type OperationContext } from '../dispatch';
import { eventName, type Family } from '../events';
import { beforeEvents, listeningDescendants } from '../listening';
import { listensOwn } from '../registry';
import { valuesOf, type Row } from '../internals';
import { copyValues, sameValue } from '../data/diff';
import { parseRow, readLocked } from '../data/locked-read';
import { keyOf, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { rereadRows } from '../data/reread';
import { generatorFor, identityInSql } from '../data/sql';
import { updateRowsFromValues } from '../data/update-from-values';
import { inHierarchy, isSchemaCopy } from './chain';

/** One descendant of the written model with receivers, and its rows among those written. */
interface Part {
  readonly model: ModelStatic<Model>;
  readonly ctx: OperationContext;
  readonly before: boolean;
  readonly after: boolean;
  /** Its rows as they were (attribute-keyed, all of its attributes), each with the index of the written row. */
  olds: { row: Row; at: number }[];
  /** Edits its before receivers made to attributes the written model does not have, per row (same order as olds). */
  ownEdits: Row[];
}

/**
 * A write on a parent model (`inherit`) that reaches rows which are also a descendant's — `Place.update(…)`
 * matching restaurants — fires the descendant's receivers for those rows, with descendant instances (every
 * attribute of its chain), before the written model's own receivers in each phase (deepest first). Only
 * descendants with receivers for the write's events are read (one locked read through the join each), so a
 * parent whose children nobody listens to pays nothing. What their before receivers edit is written: the written
 * model's attributes with its own statement's per-row edits, the others in the descendant's tables.
 */
export class DescendantSignals {
  private constructor(
    private readonly written: ModelStatic<Model>,
    private readonly parts: Part[],
    private readonly query: { transaction: OperationContext['transaction']; logging?: unknown },
  ) {}

  /** Whether any descendant listens: when not, every method does nothing (no statement, no payload). */
  get any(): boolean {
    return this.parts.length > 0;
  }

  /** The descendants of the call's model that listen to its family (none for a model outside any inheritance). */
  static of(call: WriteCall, logging?: unknown): DescendantSignals {
    // A schema() copy's rows are in its own schema; the descendants' tables (level models) are in the model's.
    const target = call.target ?? (call.instance?.constructor as ModelStatic<Model> | undefined);
    if (target && isSchemaCopy(target)) return NONE;
    return DescendantSignals.forContext(call.ctx, logging);
  }

  /** The same for one side of a call (`call.as(family)`: an upsert's update side); none without a signalled call. */
  static forContext(ctx: OperationContext | undefined, logging?: unknown): DescendantSignals {
    if (!ctx) return NONE;
    const model = ctx.model;
    const query = { transaction: ctx.transaction, logging };
    if (!inHierarchy(model)) return NONE;
    const family = ctx.family;
    const beforeNames = beforeEvents(family, ctx.bypassValidation);
    const afterName = eventName('after', family);
    const found = listeningDescendants(model, [...beforeNames, afterName]);
    if (found.length === 0) return NONE;
    const parts = found.map((d): Part => ({
      model: d,
      ctx: { ...ctx, model: d, concreteModel: d, ownOnly: true },
      before: listensOwn(d, beforeNames),
      after: listensOwn(d, [afterName]),
      olds: [],
      ownEdits: [],
    }));
    return new DescendantSignals(model, parts, query);
  }

  /** Reads, locked, the rows among `oldRows` (the written model's, attribute-keyed) that each descendant has. */
  async read(oldRows: readonly Row[]): Promise<void> {
    if (!this.any || oldRows.length === 0) return;
    const at = new Map(oldRows.map((r, i) => [keyOf(this.written, r), i]));
    for (const part of this.parts) {
      const { rows } = await readLocked(
        {
          model: part.model,
          tableName: part.model.getTableName(),
          conditions: identityInSql(part.model, oldRows, generatorFor(part.model)),
        },
        this.query,
      );
      part.olds = rows.map((row) => ({ row, at: at.get(keyOf(part.model, row))! }));
    }
  }

  /**
   * Validate and before receivers of each descendant, deepest first, on its rows as the write proposes them
   * (`proposed(i)`: the written model's proposed values of row i). Returns, per written row, the edits made to the
   * written model's attributes (for its own statement); edits to the descendant's other attributes are kept for
   * `writeOwnEdits`. Deletes: the rows as they are, no edits.
   */
  async before(family: Family, proposed: (i: number) => Row): Promise<Row[]> {
    const edits: Row[] = [];
    if (!this.any) return edits;
    const shared = new Set(storedAttributes(this.written));
    for (const part of this.parts) {
      if (!part.before || part.olds.length === 0) continue;
      const olds = buildRecords(
        part.model,
        part.olds.map((o) => o.row),
      );
      if (family !== 'Update') {
        await emitBefore(part.ctx, rowsOf(part.ctx, olds, []));
        continue;
      }
      const attributes = storedAttributes(part.model);
      const news = buildRecords(
        part.model,
        part.olds.map((o) => ({ ...o.row, ...proposed(o.at) })),
      );
      const snapshots = news.map((r) => copyValues(valuesOf(r), attributes));
      await emitBefore(part.ctx, rowsOf(part.ctx, olds, news));
      part.ownEdits = news.map((r, n) => {
        const own: Row = {};
        for (const a of attributes) {
          if (sameValue(valuesOf(r)[a], snapshots[n]![a])) continue;
          if (shared.has(a)) (edits[part.olds[n]!.at] ??= {})[a] = valuesOf(r)[a];
          else own[a] = valuesOf(r)[a];
        }
        return own;
      });
    }
    return edits;
  }

  /** The descendants' edits to their own attributes, one per-row-values statement per descendant table touched. */
  async writeOwnEdits(): Promise<void> {
    for (const part of this.parts) {
      const writes = part.olds.flatMap((o, n) => {
        const set = part.ownEdits[n];
        return set && Object.keys(set).length > 0 ? [{ key: o.row, set }] : [];
      });
      if (writes.length > 0) await updateRowsFromValues(part.model, writes, { ...this.query, readBack: false });
    }
  }

  /**
   * Reads and runs the before phase for the written rows `olds` whose proposed values are `sets` (one per row),
   * merging the descendants' edits to the written model's attributes into `sets`. For writes that take rows one
   * by one (an upsert, a conflict update) rather than through the where-based path.
   */
  async beforeRows(olds: readonly Row[], sets: readonly Row[]): Promise<void> {
    if (!this.any) return;
    await this.read(olds);
    (await this.before('Update', (i) => sets[i]!)).forEach((edits, i) => Object.assign(sets[i]!, edits));
  }

  /** After the written model's statement (and its edits) of an update: the descendants' edits, then their after receivers. */
  async finishUpdate(): Promise<void> {
    await this.writeOwnEdits();
    await this.after('Update');
  }

  /** After receivers of each descendant, deepest first: deletes with the rows as they were, updates with them read again. */
  async after(family: Family): Promise<void> {
    for (const part of this.parts) {
      if (!part.after || part.olds.length === 0) continue;
      const olds = buildRecords(
        part.model,
        part.olds.map((o) => o.row),
      );
      if (family !== 'Update') {
        await emitAfter(part.ctx, rowsOf(part.ctx, olds, []));
        continue;
      }
      const raw = await rereadRows(
        part.model,
        part.model.getTableName(),
        part.olds.map((o) => o.row),
        this.query as never,
      );
      const now = new Map(raw.map((r) => parseRow(part.model, r, 'n')!).map((r) => [keyOf(part.model, r), r]));
      const pairs = part.olds.flatMap((o, n) => {
        const row = now.get(keyOf(part.model, o.row));
        return row ? [[olds[n]!, row] as const] : [];
      });
      await emitAfter(
        part.ctx,
        rowsOf(
          part.ctx,
          pairs.map(([old]) => old),
          buildRecords(
            part.model,
            pairs.map(([, row]) => row),
            true,
          ),
        ),
      );
    }
  }
}

/** The descendant signals of a write nobody's descendants listen to: every method does nothing. */
const NONE = Object.freeze(Object.create(DescendantSignals.prototype, { parts: { value: [] } })) as DescendantSignals;

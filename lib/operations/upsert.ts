import { QueryTypes, type Model, type ModelStatic } from 'sequelize';
import { CALL, WriteCall, contextFor, runFor, withTransaction, type AnyOptions } from '../call';
import { emitAfter, emitBefore, rowsOf } from '../dispatch';
import type { Family } from '../events';
import { ConcurrentWriteError } from '../errors';
import { everyUniqueKey } from './bulk-insert-conflicts';
import { generatorOf, valuesOf, type QueryGenerator, type Row } from '../internals';
import { dialectFor } from '../dialect';
import { rereadRows } from '../data/reread';
import { listeningFor } from '../listening';
import { copyValues } from '../data/diff';
import { aliasOf, parseRow, readLocked, selectList } from '../data/locked-read';
import { conflictLookupSql } from '../data/conflicts';
import { attributeOfColumn, columnOf, columnsToAttributes, identityOf, internals, storedAttributes } from '../data/model-info';
import { buildRecords } from '../data/records';
import { updateRowsFromValues } from '../data/update-from-values';
import { StatementTap } from '../statement-tap';
import { modelOf, ownArgs, reentered, warnOutsideTransaction, type Original } from './method';
import { editsOf } from './where-write';

/** `Model.upsert(values)`: runs Sequelize's upsert with a call tag; the seam below signals its statement. */
export function wrapUpsert(original: Original): Original {
  return async function upsert(this: unknown, ...args: unknown[]) {
    const model = modelOf(this);
    if (!model || reentered(args, 1, 'upsert', model)) return original.apply(this, args);
    const options = args[1] as AnyOptions | undefined;
    warnOutsideTransaction(model, 'upsert', options);
    const listening = listeningFor(model, 'Create', options) ?? listeningFor(model, 'Update', options);
    if (!listening) return original.apply(this, ownArgs(args, 1, model));
    return withTransaction(model, options, (transaction) => {
      const call = new WriteCall(contextFor(model, 'Create', 'upsert', 'model', transaction, options), listening, 'list');
      call.method = 'upsert';
      return runFor(call, () => original.call(this, args[0], { ...options, transaction, [CALL]: call }));
    });
  };
}

export interface UpsertStatement {
  readonly tableName: unknown;
  /** Column-keyed, as Sequelize passes them (after validation, timestamps and `beforeUpsert`). */
  readonly insertValues: Row;
  readonly updateValues: Row;
  readonly where: Row;
  readonly options: Row;
}

/**
 * The seam of `Model.upsert`'s statement: a create event when it inserts, an update event with the real old
 * row when it updates. PostgreSQL 18 with after receivers only: one statement (`RETURNING old.*` is NULL for
 * an insert). Otherwise, just before the statement is sent — when Sequelize has chosen its conflict target
 * (`upsertKeys`) — the row is looked up, locked, by that target and `conflictWhere`; before receivers' edits
 * are written by key in one more statement. A concurrent writer that inserts the same key between lookup and
 * write fails the call with `ConcurrentWriteError`, nothing written. The caller's result is Sequelize's own.
 */
export function writeUpsert(call: WriteCall, statement: UpsertStatement, send: (tap: StatementTap) => Promise<unknown>): Promise<unknown> {
  const run = new UpsertRun(call, statement, send);
  const before = run.create.listening?.before || run.update.listening?.before;
  const dialect = dialectFor(call.model);
  if (!dialect.tapsStatements) return run.lookupThenRead();
  return dialect.returnsOld() && !before ? run.returningOld() : run.afterLookup();
}

type Side = ReturnType<WriteCall['as']>;

class UpsertRun {
  readonly model: ModelStatic<Model>;
  readonly qg: QueryGenerator;
  readonly create: Side;
  readonly update: Side;
  /** The row the lookup found (locked), if any. */
  private existing: Row | undefined;
  private key: Row | undefined;
  private edits: Row = {};

  constructor(
    readonly call: WriteCall,
    readonly statement: UpsertStatement,
    readonly send: (tap: StatementTap) => Promise<unknown>,
  ) {
    this.model = call.model;
    this.qg = generatorOf(this.model.sequelize!);
    this.create = call.as('Create');
    this.update = call.as('Update');
  }

  private get side(): Side {
    return this.existing ? this.update : this.create;
  }

  private tap(returning: string, prepare?: (queryOptions: Row) => Promise<void>): StatementTap {
    return new StatementTap({
      type: 'UPSERT',
      callerReturns: Boolean(this.statement.options.returning),
      returning,
      ...(prepare ? { prepare } : {}),
    });
  }

  private async emitAfter(side: Side, old: Row | undefined, written: Row): Promise<void> {
    if (!side.listening?.after) return;
    await emitAfter(side.ctx, rowsOf(side.ctx, old ? buildRecords(this.model, [old]) : [], buildRecords(this.model, [written], true)));
  }

  /** PostgreSQL 18, after receivers only: one statement, which says whether it inserted and what it replaced. */
  async returningOld(): Promise<unknown> {
    const tap = this.tap(`${selectList(this.model, this.qg, 'o', 'old.')}, ${selectList(this.model, this.qg, 'n', 'new.')}`);
    const result = await this.send(tap);
    const [row] = tap.rows ?? [];
    if (!row) return result;
    const old = parseRow(this.model, row, 'o');
    await this.emitAfter(old ? this.update : this.create, old, parseRow(this.model, row, 'n')!);
    return result;
  }

  /** The locked lookup (just before the statement, with Sequelize's final options), the before phase, the write. */
  async afterLookup(): Promise<unknown> {
    const xmax = this.qg.quoteIdentifier(aliasOf('x', 0));
    const tap = this.tap(`${selectList(this.model, this.qg, 'n')}, xmax AS ${xmax}`, (queryOptions) => this.prepare(queryOptions));
    const result = await this.send(tap);
    const [row] = tap.rows ?? [];
    if (!row) return result; // DO NOTHING: nothing to update, nothing inserted
    this.checkOutcome(String(row[aliasOf('x', 0)]) === '0');
    const written = await this.writeEdits(parseRow(this.model, row, 'n')!);
    await this.emitAfter(this.side, this.existing, written);
    return result;
  }

  /**
   * Where the statement cannot return the row: the locked lookup just before it, the statement as it is, then
   * the row read by key — the existing row's, the key the values carry, or the number the database just gave
   * it. SQLite holds the write lock, so nobody inserts the key in between; on MariaDB/MySQL somebody may (the
   * library's READ COMMITTED lookup locks no gap), and Sequelize's own `created` (affected rows 1: inserted)
   * says whether the statement did what the lookup predicted.
   */
  async lookupThenRead(): Promise<unknown> {
    const result = await this.send(this.tap('', (queryOptions) => this.prepare(queryOptions)));
    const created = Array.isArray(result) ? (result as unknown[])[1] : undefined;
    if (typeof created === 'boolean') this.checkOutcome(created);
    const row = await this.readWritten();
    if (!row) return result;
    const written = await this.writeEdits(row);
    await this.emitAfter(this.side, this.existing, written);
    return result;
  }

  private async readWritten(): Promise<Row | undefined> {
    const { tableName, options } = this.statement;
    const query = {
      transaction: this.call.ctx.transaction,
      ...(options.logging === undefined ? {} : { logging: options.logging as never }),
    };
    const pks = internals(this.model).primaryKeyAttributes;
    const values = { ...columnsToAttributes(this.model, this.statement.insertValues), ...(this.existing ?? {}) };
    if (pks.every((pk) => values[pk] != null)) {
      const [raw] = await rereadRows(this.model, tableName, [Object.fromEntries(pks.map((pk) => [pk, values[pk]]))], query);
      return raw && parseRow(this.model, raw, 'n');
    }
    const auto = internals(this.model).autoIncrementAttribute;
    if (!auto) return undefined;
    const column = this.qg.quoteIdentifier(columnOf(this.model, auto));
    const sql = `SELECT ${selectList(this.model, this.qg, 'n')} FROM ${this.qg.quoteTable(tableName)} WHERE ${dialectFor(this.model).generatedKeys!.last(column)}`;
    const [raw] = await this.model.sequelize!.query<Row>(sql, { type: QueryTypes.SELECT, raw: true, ...query });
    return raw && parseRow(this.model, raw, 'n');
  }

  private async prepare(queryOptions: Row): Promise<void> {
    const values = columnsToAttributes(this.model, this.statement.insertValues);
    this.existing = await this.lookup(queryOptions, values);
    const side = this.side;
    if (!side.listening?.before) return;
    const attributes = storedAttributes(this.model);
    const proposedRow = this.existing ? { ...this.existing, ...columnsToAttributes(this.model, this.statement.updateValues) } : values;
    const [proposed] = buildRecords(this.model, [proposedRow]) as [Model];
    const snapshot = copyValues(valuesOf(proposed), attributes);
    await emitBefore(side.ctx, rowsOf(side.ctx, this.existing ? buildRecords(this.model, [this.existing]) : [], [proposed]));
    this.edits = editsOf(valuesOf(proposed), snapshot, attributes);
  }

  /**
   * The key sets the row can conflict on: Sequelize's conflict target (`upsertKeys`), or — where an INSERT
   * conflicts on any unique key (MariaDB/MySQL `ON DUPLICATE KEY`) — the primary key and every unique key.
   */
  private keySets(queryOptions: Row): string[][] {
    const toAttributes = (columns: readonly string[]) => columns.map((c) => attributeOfColumn(this.model, c) ?? c);
    if (!dialectFor(this.model).conflictsOnAnyUniqueKey) return [toAttributes((queryOptions.upsertKeys as string[] | undefined) ?? [])];
    return everyUniqueKey(this.model);
  }

  /** The row Sequelize's conflict target (`upsertKeys`) and `conflictWhere` point at, read locked. */
  private async lookup(queryOptions: Row, values: Row): Promise<Row | undefined> {
    const keySets = this.keySets(queryOptions).filter((set) => set.every((a) => values[a] != null));
    if (keySets.length === 0) return undefined;
    this.key = Object.fromEntries(keySets[0]!.map((a) => [a, values[a]]));
    const conflictWhere = queryOptions.conflictWhere
      ? this.qg.whereQuery(queryOptions.conflictWhere, queryOptions).replace(/^\s*WHERE\s+/i, '')
      : '';
    const { tableName, options } = this.statement;
    const conditions = conflictLookupSql(this.model, tableName, keySets, [values], conflictWhere, this.qg);
    const query = { transaction: this.call.ctx.transaction, logging: options.logging, benchmark: options.benchmark };
    return (await readLocked({ model: this.model, tableName, conditions }, query)).rows[0];
  }

  private checkOutcome(inserted: boolean): void {
    if (inserted === !this.existing) return;
    const family: Family = this.existing ? 'Update' : 'Create';
    throw new ConcurrentWriteError(
      `${this.model.name}.upsert: the row with ${JSON.stringify(this.key ?? {})} was ${inserted ? 'deleted' : 'inserted'} by a concurrent ` +
        `writer between the locked lookup and the write, so it is not the ${family === 'Update' ? 'update' : 'insert'} that was signalled; ` +
        'nothing was written. Retry the call.',
      { modelName: this.model.name, event: `before${family}` },
    );
  }

  /** Receiver edits the upsert itself did not carry: one more statement, by key; the caller's instance shows them. */
  private async writeEdits(written: Row): Promise<Row> {
    if (Object.keys(this.edits).length === 0) return written;
    const key = Object.fromEntries(identityOf(this.model).map((a) => [a, written[a]]));
    const { options, tableName } = this.statement;
    const [edited] = await updateRowsFromValues(this.model, [{ key, set: this.edits }], {
      transaction: this.call.ctx.transaction,
      logging: options.logging,
      tableName,
    });
    if (!edited) return written;
    const instance = options.instance as Model | undefined;
    const values = instance ? valuesOf(instance) : {};
    for (const a of Object.keys(this.edits)) if (a in values) values[a] = edited[a];
    return edited;
  }
}

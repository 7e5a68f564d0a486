import { Op, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { InstallError, NotInstalledError } from './errors';
import type { AfterEventName, Signal } from './events';
import { installStateOf, isSequelize } from './install-state';
import { register } from './bulk-signals';
import { canonicalModel, isModelClass, keyOf, storedAttributes } from './data/model-info';
import { valuesOf } from './internals';
import { auditKey, canonicalJson, defineAuditModel, type AuditAction, type AuditEntry, type AuditEntryAttributes } from './audit-entry';
import type { Registration } from './receiver-options';

/**
 * Options of {@link auditTrail}.
 *
 * @example
 * const Audit = auditTrail(sequelize, {
 *   exclude: { '*': ['updatedAt'], User: ['passwordHash'] },
 *   context: (signal) => ({ userId: signal.context?.userId ?? null }),
 *   notify: 'audit',
 * });
 */
export interface AuditTrailOptions {
  /** The models to audit. Default: every model of the instance (defined before or after), except the audit model. */
  models?: readonly ModelStatic<Model>[];
  /**
   * Attributes never stored (in `before`, `after` or `changedFields`): a list for every model, or lists per
   * model name, with `'*'` for every model. Primary-key attributes are always stored.
   */
  exclude?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  /** The audit table. Default `audit_entries`. */
  tableName?: string;
  /** The audit model's name. Default `AuditEntry`. */
  modelName?: string;
  /** What an entry's `context` holds, per signal (JSON). Default: the signal's context (`bulkSignals.withContext`). */
  context?: (signal: Signal<Model>) => unknown;
  /**
   * A channel to `pg_notify` after each signal's entries are inserted, in the same transaction: a listener
   * (`LISTEN channel`) hears about committed changes only. The payload is JSON: `{ modelName, action,
   * operation, fromId, toId, count }`. PostgreSQL only (other dialects have no such channel).
   */
  notify?: string;
}

const TRAIL = Symbol.for('sequelize-bulk-signals/audit-trail@1');
const EVENTS: readonly AfterEventName[] = ['afterCreate', 'afterUpdate', 'afterDelete'];
const ACTIONS: Readonly<Record<AfterEventName, AuditAction>> = { afterCreate: 'create', afterUpdate: 'update', afterDelete: 'delete' };
type Row = Record<string, unknown>;
type Entry = Omit<AuditEntryAttributes, 'id' | 'createdAt'>;

function fail(message: string): never {
  throw new InstallError(`auditTrail: ${message}`);
}

/** JSON of a value as a JSONB column stores it (dates as ISO strings). */
function json(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function changedBetween(before: Row | null, after: Row | null): string[] {
  if (!after) return [];
  return Object.keys(after).filter((a) => (before ? canonicalJson(before[a]) !== canonicalJson(after[a]) : after[a] !== null));
}

function checkOptions(sequelize: Sequelize, options: AuditTrailOptions): void {
  if (!isSequelize(sequelize)) fail(`expected a Sequelize instance, got ${sequelize === null ? 'null' : typeof sequelize}`);
  if (options === null || typeof options !== 'object') fail(`options must be an object, got ${String(options)}`);
  if (!installStateOf(sequelize)) {
    throw new NotInstalledError('auditTrail: this Sequelize instance never ran installBulkSignals(sequelize); install it first');
  }
  checkStrings(sequelize, options);
  if (options.context !== undefined && typeof options.context !== 'function') fail('context must be a function of the signal');
  checkModels(sequelize, options.models);
  checkExclude(options.exclude);
}

function checkStrings(sequelize: Sequelize, options: AuditTrailOptions): void {
  if (options.notify !== undefined && sequelize.getDialect() !== 'postgres') {
    fail(`notify needs PostgreSQL's pg_notify; this Sequelize instance uses '${sequelize.getDialect()}'`);
  }
  for (const name of ['tableName', 'modelName', 'notify'] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'string' || value === ''))
      fail(`${name} must be a non-empty string, got ${String(value)}`);
  }
}

function checkModels(sequelize: Sequelize, models: unknown): void {
  if (models === undefined) return;
  if (!Array.isArray(models)) fail('models must be a list of model classes');
  for (const model of models as unknown[]) {
    if (!isModelClass(model) || model.sequelize !== sequelize) fail('models must be model classes of this Sequelize instance');
  }
}

function checkExclude(exclude: unknown): void {
  if (exclude === undefined) return;
  const lists = Array.isArray(exclude) ? [exclude] : exclude !== null && typeof exclude === 'object' ? Object.values(exclude) : undefined;
  const names = (lists ?? [undefined]).flatMap((l: unknown) => (Array.isArray(l) ? (l as unknown[]) : [undefined]));
  if (names.some((n) => typeof n !== 'string')) {
    fail('exclude must be a list of attribute names, or lists per model name (with "*" for every model)');
  }
}

/** What every entry of one signal shares. */
interface Shape {
  readonly model: ModelStatic<Model>;
  /** The attributes stored: the model's, less the excluded ones. */
  readonly attributes: readonly string[];
  readonly action: AuditAction;
  /** A soft delete's rows as they stay in the table, by key. */
  readonly kept: Map<string, Row> | undefined;
  readonly context: unknown;
}

function jsonOf(values: Row, attributes: readonly string[]): Row {
  return Object.fromEntries(attributes.map((a) => [a, json(values[a])]));
}

/** A soft-deleted row as it stays in the table. */
function keptRow(shape: Shape, old: Row | undefined): Row | undefined {
  return old && shape.kept?.get(keyOf(shape.model, old));
}

/** One pair's entry, or none when an update changed nothing the trail stores. */
function entryOf(shape: Shape, signal: Signal<Model>, oldRecord: Model | undefined, newRecord: Model | undefined): Entry | undefined {
  const old = oldRecord && valuesOf(oldRecord);
  const next = newRecord ? valuesOf(newRecord) : keptRow(shape, old);
  const before = old ? jsonOf(old, shape.attributes) : null;
  const after = next ? jsonOf(next, shape.attributes) : null;
  const changedFields = changedBetween(before, after);
  if (shape.action === 'update' && changedFields.length === 0) return undefined;
  const { model, action, context } = shape;
  return {
    modelName: model.name,
    key: auditKey(model, (next ?? old)!),
    action,
    operation: signal.operation,
    before,
    after,
    changedFields,
    context,
  };
}

/** Records the rows of each after signal as audit entries, one INSERT per signal, in the signal's transaction. */
class AuditRecorder {
  constructor(
    readonly sequelize: Sequelize,
    readonly Audit: typeof AuditEntry,
    readonly options: AuditTrailOptions,
  ) {}

  readonly record = async (signal: Signal<Model>): Promise<void> => {
    const model = canonicalModel(signal.model);
    if (model === this.Audit || model.prototype instanceof this.Audit) return;
    const entries = await this.entriesOf(model, signal);
    if (entries.length === 0) return;
    const query = {
      transaction: signal.transaction,
      logging: signal.options.logging as never,
      benchmark: signal.options.benchmark as never,
    };
    const created = await this.Audit.bulkCreate(entries, { ...query, bypassSignals: true, validate: false });
    if (this.options.notify) await this.notify(created, entries[0]!, query);
  };

  private excluded(model: ModelStatic<Model>): Set<string> {
    const exclude = this.options.exclude;
    const perModel = exclude as Readonly<Record<string, readonly string[]>> | undefined;
    const names: readonly string[] = Array.isArray(exclude) ? exclude : [...(perModel?.['*'] ?? []), ...(perModel?.[model.name] ?? [])];
    const pks = new Set(model.primaryKeyAttributes);
    return new Set(names.filter((name) => !pks.has(name)));
  }

  private async entriesOf(model: ModelStatic<Model>, signal: Signal<Model>): Promise<Entry[]> {
    const excluded = this.excluded(model);
    const shape: Shape = {
      model,
      attributes: storedAttributes(model).filter((a) => !excluded.has(a)),
      action: ACTIONS[signal.event as AfterEventName],
      kept: signal.soft ? await this.softDeletedRows(model, signal) : undefined,
      context: json(this.options.context ? this.options.context(signal) : signal.context),
    };
    const count = Math.max(signal.newRecords.length, signal.oldRecords.length);
    const entries: Entry[] = [];
    for (let i = 0; i < count; i++) {
      const entry = entryOf(shape, signal, signal.oldRecords[i], signal.newRecords[i]);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /** A soft delete leaves the rows in the table: they are read as they stand (`deletedAt` set), by key, in the transaction. */
  private async softDeletedRows(model: ModelStatic<Model>, signal: Signal<Model>): Promise<Map<string, Row>> {
    const pks = model.primaryKeyAttributes;
    const keys = signal.oldRecords.map((r) => Object.fromEntries(pks.map((pk) => [pk, valuesOf(r)[pk]])));
    const rows = await model.unscoped().findAll({
      where: { [Op.or]: keys },
      paranoid: false,
      transaction: signal.transaction,
      logging: signal.options.logging as never,
    });
    return new Map(rows.map((r) => [keyOf(model, valuesOf(r)), valuesOf(r)]));
  }

  private async notify(created: readonly AuditEntry[], first: Entry, query: { transaction: unknown; logging: never }): Promise<void> {
    const ids = created.map((e) => BigInt(e.id));
    const payload = JSON.stringify({
      modelName: first.modelName,
      action: first.action,
      operation: first.operation,
      fromId: String(ids.reduce((a, b) => (b < a ? b : a))),
      toId: String(ids.reduce((a, b) => (b > a ? b : a))),
      count: ids.length,
    });
    await this.sequelize.query('SELECT pg_notify(:channel, :payload)', {
      replacements: { channel: this.options.notify, payload },
      transaction: query.transaction as never,
      logging: query.logging,
    });
  }
}

function registerRecorder(target: ModelStatic<Model> | Sequelize, recorder: AuditRecorder): void {
  const what = typeof target === 'function' ? target.name : 'sequelize';
  const r: Registration = { what, modelName: undefined, model: undefined, via: 'auditTrail' };
  for (const event of EVENTS) {
    // First among after receivers: a row's entries follow the order of its writes even when later receivers write it again.
    register(target, r, event, recorder.record, {
      priority: Number.MIN_SAFE_INTEGER,
      when: undefined,
      onCommit: false,
      name: 'auditTrail',
    });
  }
}

/**
 * A transactional audit trail: defines the audit model (table `audit_entries`, created by `sequelize.sync()`
 * or a migration) and from then on records every create, update and delete of the audited models — on every
 * write path the library signals, bulk ones included — as one entry per changed row: `before` and `after`
 * as JSON, `changedFields`, the `operation`, a `context`. Entries are written in the write's own transaction,
 * one INSERT per signal, before other after receivers run: a write that rolls back leaves none, and an update
 * that changes nothing stored leaves none. Returns the audit model, with `history(Model, key)`.
 *
 * @example
 * const Audit = auditTrail(sequelize, { exclude: { User: ['passwordHash'] } });
 * await sequelize.sync();
 * await Account.update({ status: 'closed' }, { where: { dormant: true } }); // one INSERT of N entries
 * const entries = await Audit.history(Account, 42);
 */
export function auditTrail(sequelize: Sequelize, options: AuditTrailOptions = {}): typeof AuditEntry {
  checkOptions(sequelize, options);
  const carrier = sequelize as unknown as { [TRAIL]?: typeof AuditEntry };
  if (carrier[TRAIL]) fail(`this Sequelize instance has an audit trail already (${carrier[TRAIL].name}); call auditTrail once`);
  const modelName = options.modelName ?? 'AuditEntry';
  if (sequelize.isDefined(modelName)) fail(`this Sequelize instance defines a model named ${modelName} already; pass another modelName`);
  const Audit = defineAuditModel(sequelize, modelName, options.tableName ?? 'audit_entries');
  Object.defineProperty(carrier, TRAIL, { value: Audit });
  const recorder = new AuditRecorder(sequelize, Audit, options);
  for (const target of options.models ? [...options.models] : [sequelize]) registerRecorder(target, recorder);
  return Audit;
}

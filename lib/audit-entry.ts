import { DataTypes, Model, type ModelAttributes, type ModelStatic, type Sequelize } from 'sequelize';
import type { Operation } from './events';
import { InvalidInputError } from './errors';
import { canonicalModel, isModelClass } from './data/model-info';
import { valuesOf } from './internals';

/** What an audit entry records: a row created, updated or deleted. */
export type AuditAction = 'create' | 'update' | 'delete';

/**
 * The attributes of an audit entry: one per changed row.
 *
 * @example
 * const entries: AuditEntryAttributes[] = (await Audit.findAll({ where: { modelName: 'Account' }, raw: true })) as never;
 */
export interface AuditEntryAttributes {
  /** Increasing (BIGINT, returned as a string as Sequelize returns BIGINT): entries of one row are in commit order. */
  id: string;
  /** The audited model's name (a scoped model's base model). */
  modelName: string;
  /** The row's primary key as an object (`{ id: 1 }`); null for a model without one. */
  key: Record<string, unknown> | null;
  /** What happened to the row: `'create'`, `'update'` or `'delete'` (a soft delete too). */
  action: AuditAction;
  /** The Sequelize call that wrote the row (`signal.operation`): `'update'`, `'bulkCreate'`, `'increment'`, … */
  operation: Operation;
  /** The row before the write, as JSON; null for creates. */
  before: Record<string, unknown> | null;
  /** The row after the write, as JSON; null for (hard) deletes. A soft delete keeps the row: `after` has `deletedAt` set. */
  after: Record<string, unknown> | null;
  /** The attributes whose value differs between `before` and `after` (a create: those it set). */
  changedFields: string[];
  /** `options.context(signal)` of the trail, by default the signal's context; null when there is none. */
  context: unknown;
  /** When the entry was written (inside the write's transaction). */
  createdAt: Date;
}

/** A value as JSON stores it (dates as ISO strings). */
function json(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

/** Integer types Sequelize returns as JavaScript numbers (BIGINT comes back as a string). */
const NUMERIC_KEYS = new Set(['INTEGER', 'SMALLINT', 'TINYINT', 'MEDIUMINT']);

/** A primary key as the audit trail stores it: each attribute's value in the JavaScript type Sequelize reads. */
export function auditKey(model: ModelStatic<Model>, values: Readonly<Record<string, unknown>>): Record<string, unknown> | null {
  const pks = model.primaryKeyAttributes;
  if (pks.length === 0) return null;
  const attributes = model.getAttributes() as Record<string, { type?: { key?: string } }>;
  return Object.fromEntries(
    pks.map((pk) => {
      const value = values[pk];
      const type = attributes[pk]?.type?.key ?? '';
      if (value == null) return [pk, null];
      if (NUMERIC_KEYS.has(type)) return [pk, Number(value)];
      if (type === 'BIGINT') return [pk, typeof value === 'string' ? value : (value as number | bigint).toString()];
      return [pk, json(value)];
    }),
  );
}

/** The key of a row to look up: a primary-key value, an object of them, or an instance. */
function lookupKey(model: ModelStatic<Model>, key: unknown): Record<string, unknown> {
  const pks = model.primaryKeyAttributes;
  const fail = (what: string) => {
    throw new InvalidInputError(`AuditEntry.history(${model.name}, …): ${what}`, { modelName: model.name });
  };
  if (pks.length === 0) fail(`${model.name} has no primary key; its entries have key null and are found by modelName`);
  let values: Readonly<Record<string, unknown>>;
  if (key instanceof Model) values = valuesOf(key);
  else if (key !== null && typeof key === 'object') values = key as Record<string, unknown>;
  else if (pks.length === 1) values = { [pks[0]!]: key };
  else return fail(`${model.name}'s primary key has ${pks.length} attributes (${pks.join(', ')}); pass an object of them`);
  const missing = pks.filter((pk) => values[pk] == null);
  if (missing.length) fail(`the key has no value for ${missing.join(', ')}`);
  return auditKey(model, values)!;
}

/**
 * The model of an audit trail's table (`auditTrail(sequelize)` returns a subclass of it bound to that instance).
 *
 * @example
 * const Audit = auditTrail(sequelize);
 * const entries = await Audit.history(Account, 42); // AuditEntry[]
 * console.log(entries.map((e) => [e.action, e.changedFields]));
 */
export class AuditEntry extends Model<AuditEntryAttributes, Omit<AuditEntryAttributes, 'id' | 'createdAt'>> {
  /** {@inheritDoc AuditEntryAttributes.id} */
  declare id: string;
  /** {@inheritDoc AuditEntryAttributes.modelName} */
  declare modelName: string;
  /** {@inheritDoc AuditEntryAttributes.key} */
  declare key: Record<string, unknown> | null;
  /** {@inheritDoc AuditEntryAttributes.action} */
  declare action: AuditAction;
  /** {@inheritDoc AuditEntryAttributes.operation} */
  declare operation: Operation;
  /** {@inheritDoc AuditEntryAttributes.before} */
  declare before: Record<string, unknown> | null;
  /** {@inheritDoc AuditEntryAttributes.after} */
  declare after: Record<string, unknown> | null;
  /** {@inheritDoc AuditEntryAttributes.changedFields} */
  declare changedFields: string[];
  /** {@inheritDoc AuditEntryAttributes.context} */
  declare context: unknown;
  /** {@inheritDoc AuditEntryAttributes.createdAt} */
  declare createdAt: Date;

  /**
   * The entries of one row, oldest first: `key` is its primary-key value, an object of the values (composite
   * keys), or an instance.
   *
   * @example
   * for (const e of await Audit.history(Account, 42)) console.log(e.id, e.action, e.before, e.after);
   */
  static async history<A extends AuditEntry>(this: ModelStatic<A>, model: ModelStatic<Model>, key: unknown): Promise<A[]> {
    if (!isModelClass(model)) {
      throw new InvalidInputError(`AuditEntry.history expected a model class as its first argument, got ${typeof model}`);
    }
    const canonical = canonicalModel(model);
    const lookup = lookupKey(canonical, key);
    // Where the key is stored as JSON text (not PostgreSQL), it is matched as the text it was stored as.
    const stored = this.sequelize!.getDialect() === 'postgres' ? lookup : keyText(lookup);
    return this.findAll({ where: { modelName: canonical.name, key: stored } as never, order: [['id', 'ASC']] });
  }
}

/** A JSON value with object keys sorted: one text per value (JSONB, which reorders keys, compares the same). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A key as the key column stores it where that column is text. */
function keyText(key: Record<string, unknown> | null): string | null {
  return key === null ? null : canonicalJson(key);
}

/**
 * The audit table's attributes. PostgreSQL: JSONB. Elsewhere JSON, except `key`, which is indexed with the
 * model name: MySQL cannot index a JSON column and MariaDB's JSON is LONGTEXT, so it is its canonical JSON text
 * (keys sorted), read back as the object.
 */
export function auditAttributes(dialect: string): ModelAttributes<AuditEntry, AuditEntryAttributes> {
  const JSON_TYPE = dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON;
  const key: ModelAttributes<AuditEntry, AuditEntryAttributes>['key'] =
    dialect === 'postgres'
      ? { type: DataTypes.JSONB, allowNull: true }
      : {
          type: DataTypes.STRING(500),
          allowNull: true,
          get(this: AuditEntry): Record<string, unknown> | null {
            const text = this.getDataValue('key') as unknown;
            return typeof text === 'string' ? (JSON.parse(text) as Record<string, unknown>) : (text as null);
          },
          set(this: AuditEntry, value: Record<string, unknown> | null) {
            this.setDataValue('key', keyText(value) as never);
          },
        };
  return {
    id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
    modelName: { type: DataTypes.STRING, allowNull: false },
    key,
    action: { type: DataTypes.STRING(6), allowNull: false, validate: { isIn: [['create', 'update', 'delete']] } },
    operation: { type: DataTypes.STRING(16), allowNull: false },
    before: { type: JSON_TYPE, allowNull: true },
    after: { type: JSON_TYPE, allowNull: true },
    changedFields: { type: JSON_TYPE, allowNull: false },
    context: { type: JSON_TYPE, allowNull: true },
    createdAt: { type: dialect === 'mariadb' || dialect === 'mysql' ? DataTypes.DATE(3) : DataTypes.DATE, allowNull: false },
  };
}

/** Defines the audit model on an instance: a fresh subclass of {@link AuditEntry}. */
export function defineAuditModel(sequelize: Sequelize, modelName: string, tableName: string): typeof AuditEntry {
  const Audit = class extends AuditEntry {};
  Object.defineProperty(Audit, 'name', { value: modelName });
  Audit.init(auditAttributes(sequelize.getDialect()), {
    sequelize,
    modelName,
    tableName,
    underscored: true,
    updatedAt: false,
    indexes: [{ name: `${tableName}_model_name_key`, fields: ['model_name', 'key'] }],
  });
  return Audit;
}

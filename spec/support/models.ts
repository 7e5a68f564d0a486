import {
  DataTypes,
  Model,
  type CreationOptional,
  type DataType,
  type InferAttributes,
  type InferCreationAttributes,
  type Sequelize,
} from 'sequelize';
import { testDialect } from './database';

/** The workhorse model: underscored columns, a `field:`-mapped attribute, JSON, timestamps. */
export class Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare balance: CreationOptional<number>;
  declare status: CreationOptional<string>;
  declare ownerEmail: string | null;
  declare note: string | null;
  declare meta: Record<string, unknown> | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

/** Soft-deleting model. */
export class Ledger extends Model<InferAttributes<Ledger>, InferCreationAttributes<Ledger>> {
  declare id: CreationOptional<number>;
  declare label: string;
  declare amount: number;
  declare deletedAt: CreationOptional<Date | null>;
}

/** Composite primary key, like a belongsToMany through table. */
export class Membership extends Model<InferAttributes<Membership>, InferCreationAttributes<Membership>> {
  declare groupId: number;
  declare userId: number;
  declare role: string;
}

/** A unique key besides the primary key. */
export class Tag extends Model<InferAttributes<Tag>, InferCreationAttributes<Tag>> {
  declare id: CreationOptional<number>;
  declare slug: string;
  declare label: string | null;
  declare uses: CreationOptional<number>;
}

/** Timestamps with milliseconds on every dialect (MariaDB/MySQL's DATETIME keeps whole seconds unless asked). */
export function dateType(): DataType {
  return testDialect === 'mariadb' || testDialect === 'mysql' ? DataTypes.DATE(3) : DataTypes.DATE;
}

/** JSONB on PostgreSQL, JSON elsewhere. */
export function jsonType(): DataType {
  return testDialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON;
}

/** Ledger's model options: soft-deleting, its only timestamp `deletedAt`. */
export function ledgerOptions(sequelize: Sequelize, prefix: string) {
  return {
    sequelize,
    tableName: `${prefix}_ledgers`,
    paranoid: true,
    timestamps: true,
    createdAt: false,
    updatedAt: false,
    modelName: 'Ledger',
  } as const;
}

/** Defines the spec models on `sequelize`, with table names prefixed so spec files do not collide. */
export function defineModels(sequelize: Sequelize, prefix: string) {
  Account.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING, allowNull: false },
      balance: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      status: { type: DataTypes.STRING, allowNull: false, defaultValue: 'open' },
      ownerEmail: { type: DataTypes.STRING, allowNull: true },
      note: { type: DataTypes.STRING, allowNull: true, field: 'the_note' },
      meta: { type: jsonType(), allowNull: true },
      createdAt: dateType(),
      updatedAt: dateType(),
    },
    { sequelize, tableName: `${prefix}_accounts`, underscored: true, modelName: 'Account' },
  );

  Ledger.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      label: { type: DataTypes.STRING, allowNull: false },
      amount: { type: DataTypes.INTEGER, allowNull: false },
      deletedAt: dateType(),
    },
    ledgerOptions(sequelize, prefix),
  );

  Membership.init(
    {
      groupId: { type: DataTypes.INTEGER, primaryKey: true },
      userId: { type: DataTypes.INTEGER, primaryKey: true },
      role: { type: DataTypes.STRING, allowNull: false },
    },
    { sequelize, tableName: `${prefix}_memberships`, timestamps: false, modelName: 'Membership' },
  );

  Tag.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      slug: { type: DataTypes.STRING, allowNull: false, unique: true },
      label: { type: DataTypes.STRING, allowNull: true },
      uses: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    },
    { sequelize, tableName: `${prefix}_tags`, timestamps: false, modelName: 'Tag' },
  );

  return { Account, Ledger, Membership, Tag };
}

/** Fields most specs look at. */
export const ACCOUNT_FIELDS = ['id', 'name', 'balance', 'status'] as const;

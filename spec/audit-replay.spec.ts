import { expect } from 'chai';
import type { Model, ModelStatic, Sequelize } from 'sequelize';
import { auditTrail, type AuditEntry } from '../lib';
import { useDatabase } from './support/database';
import { random } from './support/helpers';
import { defineRandomWriteModels, randomWriteModels, randomWrites } from './support/random-writes';

let Audit: typeof AuditEntry;

function define(sequelize: Sequelize, prefix: string): void {
  defineRandomWriteModels(sequelize, prefix);
  Audit = auditTrail(sequelize, { tableName: `${prefix}_audit_entries` });
}

type Row = Record<string, unknown>;

/** A row as the audit trail stores it: its stored attributes as JSON. */
function asJson(model: ModelStatic<Model>, record: Model): Row {
  const values = record.get({ plain: true }) as Row;
  const attributes = Object.keys(model.getAttributes()); // none of these models has a VIRTUAL attribute
  return JSON.parse(JSON.stringify(Object.fromEntries(attributes.map((a) => [a, values[a] ?? null])))) as Row;
}

const keyOf = (model: ModelStatic<Model>, row: Row) => JSON.stringify(model.primaryKeyAttributes.map((pk) => row[pk]));

/**
 * The audit trail's replay property: applying every entry in id order — remove the row `before` names, put
 * the row `after` holds — rebuilds each audited table exactly, soft-deleted rows included, after a seeded
 * random mix of writes over every write path.
 */
describe('auditTrail replay property', () => {
  useDatabase('arp', define);

  it('replaying the entries in id order reproduces every audited table after 1200 random writes', async function () {
    this.timeout(300000);
    const seed = Number(process.env.CHANGE_LOG_SEED ?? 20261201);
    const rnd = random(seed);
    const operations = randomWrites(rnd);
    for (let i = 0; i < 1200; i++) await operations[Math.floor(rnd() * operations.length)]![1]();

    const models = randomWriteModels();
    const replica = new Map<string, Map<string, Row>>(models.map((m) => [m.name, new Map()]));
    const entries = await Audit.findAll({ order: [['id', 'ASC']] });
    for (const entry of entries) {
      const model = models.find((m) => m.name === entry.modelName)!;
      const table = replica.get(entry.modelName)!;
      if (entry.before) table.delete(keyOf(model, entry.before));
      if (entry.after) table.set(keyOf(model, entry.after), entry.after);
    }
    const actions = new Set(entries.map((e) => `${e.modelName}.${e.action}.${e.operation}`));
    for (const model of models) {
      const rows = await model.unscoped().findAll({ paranoid: false });
      const actual = Object.fromEntries(rows.map((r) => asJson(model, r)).map((r) => [keyOf(model, r), r]));
      expect(Object.fromEntries(replica.get(model.name)!), `${model.name}, seed ${seed}`).to.deep.equal(actual);
      expect(rows.length, model.name).to.be.greaterThan(0);
    }
    // The mix really covered the paths, soft deletes and restores included.
    for (const path of [
      'Account.create.create',
      'Account.create.bulkCreate',
      'Account.update.save',
      'Account.update.update',
      'Account.update.increment',
      'Account.update.decrement',
      'Account.delete.destroy',
      'Account.create.upsert',
      'Account.update.upsert',
      'Ledger.delete.destroy',
      'Ledger.update.restore',
      'Ledger.update.update',
      'Tag.create.bulkCreate',
      'Tag.update.bulkCreate',
      'Tag.update.upsert',
      'Tag.update.increment',
    ]) {
      expect(actions.has(path), path).to.equal(true);
    }
    expect(entries.some((e) => e.modelName === 'Ledger' && e.action === 'delete' && e.after !== null)).to.equal(true, 'a soft delete');
  });
});

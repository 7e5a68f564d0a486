import { expect } from 'chai';
import { DataTypes, Model, type Sequelize } from 'sequelize';
import { bulkSignals, type Signal } from '../lib';
import { onDialect, resetTables, useDatabase } from './support/database';
import { Receivers } from './support/recorder';

class Quiet extends Model {
  declare id: number;
  declare n: number;
  declare label: string;
}
class Noisy extends Model {
  declare id: number;
  declare n: number;
  declare label: string;
}

function define(sequelize: Sequelize, prefix: string): void {
  const attributes = {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    n: DataTypes.INTEGER,
    label: DataTypes.STRING,
  };
  Quiet.init(attributes, { sequelize, tableName: `${prefix}_quiet`, timestamps: false });
  Noisy.init(attributes, { sequelize, tableName: `${prefix}_noisy`, timestamps: false });
}

/**
 * PostgreSQL: a table whose UPDATEs change only the columns they set (no row trigger, rule or generated column,
 * as the catalog says, asked once per table within the first statement) has its new rows returned as the key and
 * the columns written, the rest taken from the locked old row; any other table returns whole rows.
 */
(onDialect('postgres') ? describe : describe.skip)('new rows of quiet tables (PostgreSQL)', () => {
  const db = useDatabase('qt', define);
  const receivers = new Receivers();

  before(async () => {
    // A trigger that writes a column the statement does not set: its value must reach the payload.
    await db.sequelize.query(`
      CREATE OR REPLACE FUNCTION qt_label() RETURNS trigger AS $$ BEGIN NEW.label := 'by trigger ' || NEW.n; RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER qt_label BEFORE UPDATE ON qt_noisy FOR EACH ROW EXECUTE FUNCTION qt_label();`);
  });
  beforeEach(async () => {
    await resetTables(Quiet, Noisy);
    await Quiet.bulkCreate(
      [
        { n: 1, label: 'a' },
        { n: 2, label: 'b' },
      ],
      { bypassSignals: true },
    );
    await Noisy.bulkCreate(
      [
        { n: 1, label: 'a' },
        { n: 2, label: 'b' },
      ],
      { bypassSignals: true },
    );
  });
  afterEach(() => receivers.clear());

  const after = (model: typeof Quiet | typeof Noisy) => {
    const seen: Signal<Model>[] = [];
    receivers.add(bulkSignals.on(model as never, 'beforeUpdate', () => undefined));
    receivers.add(bulkSignals.on(model as never, 'afterUpdate', (s: Signal<Model>) => void seen.push(s)));
    return seen;
  };
  const updates = (statements: string[]) => statements.filter((s) => s.startsWith('UPDATE'));

  it('a quiet table: the UPDATE returns the key and what it sets; the payload has every attribute', async () => {
    const seen = after(Quiet);
    await Quiet.update({ n: 5 }, { where: {} });
    const { statements } = await db.log.count(() => Quiet.update({ n: 6 }, { where: {} }));
    expect(updates(statements)[0]).to.match(/RETURNING "id" AS "__bsn_0", "n" AS "__bsn_1"$/);
    expect(seen[1]!.newRecords.map((r) => r.get({ plain: true }))).to.deep.equal([
      { id: 1, n: 6, label: 'a' },
      { id: 2, n: 6, label: 'b' },
    ]);
  });

  it('an increment of the primary key pairs every row (before PostgreSQL 18, by the attributes it does not set)', async () => {
    const seen = after(Quiet);
    await Quiet.update({ n: 5 }, { where: {} });
    await Quiet.increment({ id: 10 }, { where: {} });
    const pairs = (s: Signal<Model>) =>
      s.oldRecords.map((o, i) => [o.get('id'), s.newRecords[i]!.get('id'), s.newRecords[i]!.get('label')]);
    expect(pairs(seen[1]!)).to.deep.equal([
      [1, 11, 'a'],
      [2, 12, 'b'],
    ]);
  });

  it('changedFields: what the statement sets and what receivers edit, and only what differs', async () => {
    const seen: [string, readonly string[]][] = [];
    const note = (s: Signal<Model>) => void seen.push([s.event, s.changedFields]);
    receivers.add(bulkSignals.on(Quiet, 'afterUpdate', note));
    await Quiet.update({ n: 1 }, { where: {} }); // the table is learned; row 1 already had n = 1
    await Quiet.update({ n: 2 }, { where: {} }); // one statement: RETURNING old.*, new key and n (PG 18)
    await Quiet.update({ n: 2 }, { where: {} }); // nothing differs
    receivers.add(
      bulkSignals.on(Quiet, 'beforeUpdate', (s) => {
        note(s);
        s.newRecords[0]!.set('label', 'edited');
      }),
    );
    await Quiet.update({ n: 3 }, { where: {} }); // locked read, UPDATE, the edit: label differs in the after phase
    expect(seen).to.deep.equal([
      ['afterUpdate', ['n']],
      ['afterUpdate', ['n']],
      ['afterUpdate', []],
      ['beforeUpdate', ['n']],
      ['afterUpdate', ['n', 'label']],
    ]);
  });

  it('a table with a trigger: whole rows, with what the trigger wrote', async () => {
    const seen = after(Noisy);
    await Noisy.update({ n: 5 }, { where: {} });
    const { statements } = await db.log.count(() => Noisy.update({ n: 7 }, { where: { id: 1 } }));
    expect(updates(statements)[0]).to.match(/"label" AS "__bsn_2"$/);
    expect(seen.map((s) => s.newRecords.map((r) => r.get('label')))).to.deep.equal([['by trigger 5', 'by trigger 5'], ['by trigger 7']]);
  });
});

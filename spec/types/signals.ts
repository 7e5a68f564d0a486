// Compiled with `tsc --noEmit` by spec/types.spec.ts. Every `@ts-expect-error` must be needed: an unused one
// fails the compile, so each marks a mistake the types really catch.
import {
  DataTypes,
  Model,
  Sequelize,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type ModelStatic,
} from 'sequelize';
import {
  and,
  bulkSignals,
  changed,
  changedFrom,
  changedTo,
  inherit,
  installBulkSignals,
  isEqual,
  not,
  or,
  Priority,
  type Signal,
} from '../../lib';

class Account extends Model<InferAttributes<Account>, InferCreationAttributes<Account>> {
  declare id: CreationOptional<number>;
  declare balance: number;
  declare name: string;
}
const sequelize = new Sequelize('postgres://localhost/none');
Account.init({ id: { type: DataTypes.INTEGER, primaryKey: true }, balance: DataTypes.INTEGER, name: DataTypes.STRING }, { sequelize });
installBulkSignals(sequelize, { warnOnMultipleReceivers: false });

const off: () => void = bulkSignals.on(
  Account,
  'afterUpdate',
  (signal) => {
    const accounts: readonly Account[] = signal.newRecords;
    const old: readonly Account[] = signal.oldRecords;
    const balance: number = accounts[0]!.balance - old[0]!.balance;
    const fields: readonly ('id' | 'balance' | 'name')[] = signal.changedFields;
    const event: 'afterUpdate' = signal.event;
    void [balance, fields, event, signal.transaction.LOCK];
    // @ts-expect-error -- the payload is readonly
    signal.newRecords = [];
    // @ts-expect-error -- a field the model does not have
    void accounts[0]!.balanse;
    // @ts-expect-error -- changedFields only holds the model's attribute names
    const wrong: 'nope' = signal.changedFields[0]!;
    void wrong;
  },
  { priority: Priority.HIGH },
);
off();

// @ts-expect-error -- a wrong event name does not compile
bulkSignals.on(Account, 'afterUpdte', () => undefined);

bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: and(changed('balance'), not(isEqual('name', 'x'))), onCommit: true });
// @ts-expect-error -- a condition on a field the model does not have does not compile
bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: changed('balanse') });
// @ts-expect-error -- the same inside a combinator
bulkSignals.on(Account, 'afterUpdate', () => undefined, { when: or(changedTo('balance', 1), changedFrom('nme', 'x')) });

const context: string = bulkSignals.withContext({ userId: 1 }, () => 'ok');
void context;
// @ts-expect-error -- the declared context type (spec/types/context.ts) is checked
bulkSignals.withContext({ user: 1 }, () => 'ok');
bulkSignals.on(Account, 'afterUpdate', ({ context: who }) => {
  const id: number | undefined = who?.userId;
  // @ts-expect-error -- a field the declared context does not have
  void who?.nope;
  void id;
});

// @ts-expect-error -- onCommit is for after events only
bulkSignals.on(Account, 'beforeUpdate', () => undefined, { onCommit: true });
bulkSignals.on(Account, 'afterCreate', () => undefined, { onCommit: true, name: 'mailer' });
bulkSignals.off(Account);
bulkSignals.off();
bulkSignals.clear();

// @ts-expect-error -- priority is a number
bulkSignals.on(Account, 'beforeCreate', () => undefined, { priority: 'high' });

bulkSignals.on(Account, 'beforeDelete', async ({ oldRecords }: Signal<Account>) => {
  await Promise.resolve(oldRecords.length);
});

// A receiver written for any model can be registered on a specific one.
const auditAnything = (signal: Signal<Model>): void => {
  void signal.changedFields.length;
};
bulkSignals.on(Account, 'afterDelete', auditAnything);

// Per-call options type-check on every write method.
async function writes(a: Account): Promise<void> {
  await Account.bulkCreate([{ balance: 1, name: 'x' }], { bypassSignals: true });
  await Account.create({ balance: 1, name: 'x' }, { bypassValidation: true });
  await Account.update({ balance: 2 }, { where: { id: 1 }, bypassSignals: true, bypassValidation: true });
  await Account.destroy({ where: { id: 1 }, bypassSignals: true });
  await Account.increment('balance', { where: { id: 1 }, bypassSignals: true });
  await Account.decrement('balance', { where: { id: 1 }, bypassSignals: true });
  await a.save({ bypassSignals: true });
  await a.update({ balance: 3 }, { bypassSignals: true });
  await a.destroy({ bypassSignals: true });
  await a.increment('balance', { bypassSignals: true });
  // @ts-expect-error -- a misspelt option is still caught
  await Account.update({ balance: 2 }, { where: { id: 1 }, bypassSignal: true });
}
void writes;

const result: Promise<number> = bulkSignals.bypass(() => Promise.resolve(1));
void result;

// Multi-table inheritance: inherit takes two model classes; the payload names the most specific model.
class Premium extends Model<InferAttributes<Premium>, InferCreationAttributes<Premium>> {
  declare id: CreationOptional<number>;
  declare balance: number;
  declare name: string;
  declare tier: string;
}
Premium.init({ tier: DataTypes.STRING } as never, { sequelize });
inherit(Premium, Account);
// @ts-expect-error -- the parent must be a model class
inherit(Premium, {});
bulkSignals.on(Account, 'afterUpdate', ({ concreteModel, model }) => {
  const concrete: ModelStatic<Model> = concreteModel;
  const receiving: ModelStatic<Account> = model;
  void [concrete, receiving];
});

import type { Model, ModelStatic, Sequelize, WhereOptions } from 'sequelize';
import { CALL, callIn, type WriteCall } from './call';
import {
  QUERY_INTERFACE_WRITES,
  generatorOf,
  isExpression,
  sequelizeOptions,
  type QueryGenerator,
  type QueryInterfaceWrite,
  type Row,
} from './internals';
import { canonicalModel, columnOf, columnsToAttributes, internals, storedAttributes } from './data/model-info';
import { typedValue } from './data/sql';
import { dialectFor } from './dialect';
import { TAP, type StatementTap } from './statement-tap';
import { splitValues, writeWhere, type WhereStatement } from './operations/where-write';
import { writeRow } from './operations/row-write';
import { writeUpsert } from './operations/upsert';
import { includedInsertCall, writeBulkInsert } from './operations/bulk-insert';
import { inheritedModelOf, isLevelModel } from './inheritance/chain';
import { writeInheritedWhere, type LevelWrite } from './inheritance/inherited-where';
import { writeInheritedRow } from './inheritance/inherited-row';
import { writeInheritedBulkInsert } from './inheritance/inherited-insert';
import { writeInheritedUpsert } from './inheritance/inherited-upsert';

type Method = (this: unknown, ...args: unknown[]) => Promise<unknown>;
type Options = Row & { model?: ModelStatic<Model>; logging?: unknown; benchmark?: unknown };

const SEAMED = Symbol.for('sequelize-bulk-signals/seamed@1');

/** `options` with `tap` added: only the one statement the tap is for is changed by it. */
function tapped(options: Options, tap: StatementTap | undefined): Options {
  return tap ? { ...options, [TAP]: tap } : options;
}

/** A WHERE as SQL without the keyword ('' for none). */
function conditionsOf(whereSql: string): string {
  return whereSql.replace(/^\s*WHERE\s+/i, '').trim();
}

/** The call a statement belongs to, when it is a signalled where-based call of that statement's model. */
function whereCall(options: Options | undefined, model: ModelStatic<Model> | undefined): WriteCall | undefined {
  if (!model) return undefined;
  const call = callIn(options, model);
  return call?.listening && call.shape === 'where' ? call : undefined;
}

function logging(options: Options): { logging?: unknown; benchmark?: unknown } {
  return { logging: options.logging, benchmark: options.benchmark };
}

/** Increment's arithmetic, evaluated on the locked rows, so before receivers see the values it will write. */
function predictions(
  model: ModelStatic<Model>,
  tableName: unknown,
  amounts: Row,
  sign: '+' | '-',
  qg: QueryGenerator,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [column, amount] of Object.entries(columnsToAttributes(model, amounts))) {
    if (!storedAttributes(model).includes(column)) continue;
    out[column] = typedValue(model, column, `${qg.quoteIdentifier(columnOf(model, column))} ${sign} ${qg.escape(amount)}`, tableName, qg);
  }
  return out;
}

/** SQL expressions a statement sets a primary key to, to evaluate on the locked rows (where rows are read again by key). */
function keyExpressions(model: ModelStatic<Model>, columnValues: Row, qg: QueryGenerator): Record<string, string> {
  const out: Record<string, string> = {};
  const pks = new Set(internals(model).primaryKeyAttributes);
  for (const [attribute, value] of Object.entries(columnsToAttributes(model, columnValues))) {
    if (pks.has(attribute) && isExpression(value)) out[attribute] = qg.escape(value);
  }
  return out;
}

/**
 * The library's seam inside Sequelize: every write path ends in one of the query interface's write methods,
 * called with the statement Sequelize decided to send — after its option checks, scopes, the paranoid clause,
 * `individualHooks` and every user hook. The wrappers here (own properties of this instance's query
 * interface) hand statements that belong to a signalled call to the operation that signals them; every other
 * statement goes to Sequelize's method untouched.
 */
function seams(sequelize: Sequelize): Record<QueryInterfaceWrite, (base: Method) => Method> {
  const qg = generatorOf(sequelize);
  const where =
    (
      build: (args: unknown[], base: Method, self: unknown) => WhereStatement,
      levelWrite: (args: unknown[]) => LevelWrite,
      optionsAt: number,
      modelAt?: number,
    ) =>
    (base: Method): Method =>
      async function whereSeam(this: unknown, ...args: unknown[]) {
        const options = args[optionsAt] as Options | undefined;
        const target = modelAt === undefined ? options?.model : (args[modelAt] as ModelStatic<Model> | undefined);
        if (!target || isLevelModel(target)) return base.apply(this, args);
        const call = whereCall(options, target);
        const model = inheritedModelOf(target);
        if (model) return writeInheritedWhere(call, build(args, base, this), levelWrite(args), options ?? {}, model);
        if (!call) return base.apply(this, args);
        return writeWhere(call, build(args, base, this));
      };
  /** An instance statement's values and where: insert(instance, table, values, o), update(…, values, where, o), delete(…, where, o). */
  const rowArgs = (type: 'INSERT' | 'UPDATE' | 'DELETE', args: unknown[], options: Options | undefined) => ({
    values: type === 'DELETE' ? undefined : (args[2] as Row),
    where: type === 'INSERT' ? undefined : args[type === 'UPDATE' ? 3 : 2],
    options: options ?? {},
  });
  // One instance's statement: (instance, tableName, …, options) — options at `optionsAt`.
  const row =
    (type: 'INSERT' | 'UPDATE' | 'DELETE', optionsAt: number) =>
    (base: Method): Method =>
      async function rowSeam(this: unknown, ...args: unknown[]) {
        const [instance] = args as [Model | undefined];
        const options = args[optionsAt] as Options;
        const target = instance?.constructor as ModelStatic<Model> | undefined;
        if (!target || isLevelModel(target)) return base.apply(this, args);
        const call = callIn(options, target, instance);
        const model = inheritedModelOf(target);
        if (model) return writeInheritedRow(call?.listening ? call : undefined, model, instance!, type, rowArgs(type, args, options));
        if (!call?.listening) return base.apply(this, args);
        return writeRow(call, instance!, type, options, (tap) => {
          const next = [...args];
          next[optionsAt] = tapped(options, tap);
          return base.apply(this, next);
        });
      };
  const supportsLimitOnUpdate = Boolean(qg._dialect.supports['LIMIT ON UPDATE']);
  /** The values an UPDATE writes: without NULLs under `omitNull`, as Sequelize's generator drops them. */
  const writtenValues = (values: Row, options: Options): Row =>
    (options.omitNull ?? sequelizeOptions(sequelize).omitNull)
      ? Object.fromEntries(Object.entries(values).filter(([, v]) => v != null))
      : values;
  const arithmetic = (sign: '+' | '-') =>
    where(
      (args, base, self) => {
        const [model, tableName, whereArg, amounts, extra, options] = args as [
          ModelStatic<Model>,
          unknown,
          WhereOptions,
          Row,
          Row,
          Options,
        ];
        const m = canonicalModel(model);
        const { values } = splitValues(m, extra ?? {}, isExpression);
        return {
          type: 'UPDATE',
          tableName,
          where: whereArg,
          conditions: conditionsOf(qg.whereQuery(whereArg)),
          callerReturns: options.returning === undefined || Boolean(options.returning),
          values,
          expressions: Object.keys(columnsToAttributes(m, amounts)),
          predictions: predictions(m, tableName, amounts, sign, qg),
          logging: logging(options),
          send: (narrowed, tap) => base.call(self, model, tableName, narrowed, amounts, extra, tapped(options, tap)),
        };
      },
      (args) => ({ kind: sign === '+' ? 'increment' : 'decrement', amounts: args[3] as Row, extra: (args[4] as Row | undefined) ?? {} }),
      5,
      0,
    );
  return {
    bulkUpdate: where(
      (args, base, self) => {
        const [tableName, values, whereArg, options, attributes] = args as [unknown, Row, WhereOptions, Options, unknown];
        const model = canonicalModel(options.model!);
        const written = writtenValues(values, options);
        return {
          type: 'BULKUPDATE',
          tableName,
          where: whereArg,
          conditions: conditionsOf(qg.whereQuery(whereArg, { ...options, bindParam: undefined })),
          limit: supportsLimitOnUpdate ? ((options.limit as number | undefined) ?? undefined) : undefined,
          callerReturns: Boolean(options.returning),
          ...splitValues(model, written, isExpression),
          // Where rows are read again by key, a key set by an expression is evaluated on the locked rows first.
          ...(dialectFor(model).tapsStatements ? {} : { predictions: keyExpressions(model, written, qg) }),
          logging: logging(options),
          send: (narrowed, tap) => base.call(self, tableName, values, narrowed, tapped(options, tap), attributes),
        };
      },
      (args) => ({ kind: 'update', set: writtenValues(args[1] as Row, args[3] as Options) }),
      3,
    ),
    bulkDelete: where(
      (args, base, self) => {
        const [tableName, whereArg, options, model] = args as [unknown, WhereOptions, Options, ModelStatic<Model>];
        return {
          type: 'BULKDELETE',
          tableName,
          where: whereArg,
          conditions: options.truncate === true ? '' : (qg.getWhereConditions(whereArg, null, model, options) ?? ''),
          limit: (options.limit as number | null | undefined) ?? undefined,
          callerReturns: false,
          truncate: options.truncate === true,
          values: {},
          expressions: [],
          logging: logging(options),
          send: (narrowed, tap) => base.call(self, tableName, narrowed, tapped(options, tap), model),
        };
      },
      () => ({ kind: 'delete' }),
      2,
    ),
    increment: arithmetic('+'),
    decrement: arithmetic('-'),
    insert: row('INSERT', 3),
    update: row('UPDATE', 4),
    delete: row('DELETE', 3),
    upsert: (base) =>
      async function upsertSeam(this: unknown, ...args: unknown[]) {
        const [tableName, insertValues, updateValues, whereArg, options] = args as [unknown, Row, Row, Row, Options];
        if (!options?.model || isLevelModel(options.model)) return base.apply(this, args);
        const call = callIn(options, options.model);
        const model = inheritedModelOf(options.model);
        if (model) {
          return writeInheritedUpsert(call?.listening ? call : undefined, model, {
            insertValues,
            updateValues,
            options,
          });
        }
        if (!call?.listening) return base.apply(this, args);
        return writeUpsert(call, { tableName, insertValues, updateValues, where: whereArg, options }, (tap) =>
          base.apply(this, [tableName, insertValues, updateValues, whereArg, tapped(options, tap)] as unknown[]),
        );
      },
    bulkInsert: (base) =>
      async function bulkInsertSeam(this: unknown, ...args: unknown[]) {
        const [tableName, records, options, attributes] = args as [unknown, Row[], Options, unknown];
        if (!options?.model || isLevelModel(options.model)) return base.apply(this, args);
        const own = callIn(options, options.model);
        const call = own?.listening ? own : includedInsertCall(options);
        const model = inheritedModelOf(options.model);
        if (model) return writeInheritedBulkInsert(call, model, { records, options });
        if (!call) return base.apply(this, args);
        return writeBulkInsert(call, { tableName, records, options }, (tap) =>
          base.apply(this, [tableName, records, tapped(options, tap), attributes] as unknown[]),
        );
      },
  };
}

/** Installs the query-interface seams on one Sequelize instance (idempotent). */
export function installSeams(sequelize: Sequelize): void {
  const qi = sequelize.getQueryInterface() as unknown as Record<string | symbol, Method>;
  if (qi[SEAMED]) return;
  const wrappers = seams(sequelize);
  for (const name of QUERY_INTERFACE_WRITES) {
    const base = qi[name]!;
    Object.defineProperty(qi, name, { value: wrappers[name](base), writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(qi, SEAMED, { value: true });
}

export { CALL };

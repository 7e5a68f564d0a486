// `npm run bench:values-update`: the per-row-values UPDATE on MariaDB/MySQL (bulkUpdate and receivers' per-row
// edits send one such statement per batch) in the two forms the issue weighed: the library's
// `UPDATE (SELECT … UNION ALL …) v STRAIGHT_JOIN t ON … SET …` (its dialect renders it) against
// `UPDATE t SET c = CASE pk WHEN … THEN … END, … WHERE pk IN (…)`. Interleaved, each in its own transaction,
// every repetition writing new values; prints medians and the ratio. A throwaway MariaDB server unless
// DATABASE_URL is set (a mariadb: or mysql: URL).
//
//   BENCH_N=100,1000,5000  rows per statement (default)   BENCH_REPS=15  repetitions (default)
import { DataTypes, Model, QueryTypes, Sequelize } from 'sequelize';
import { installBulkSignals } from '../lib';
import { generatorOf } from '../lib/internals';
import { sqlDialectOf } from '../lib/dialect';
// @ts-expect-error -- plain ESM helper without type declarations
import { startDialectDatabase } from './database.mjs';

class Row extends Model {
  declare id: number;
  declare name: string;
  declare counter: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const sizes = (process.env.BENCH_N ?? '100,1000,5000').split(',').map(Number);
  const reps = Number(process.env.BENCH_REPS ?? 15);
  const db = process.env.DATABASE_URL
    ? { url: process.env.DATABASE_URL, stop: () => Promise.resolve() }
    : ((await startDialectDatabase('mariadb')) as { url: string; stop: () => Promise<void> });
  const sequelize = new Sequelize(db.url, { logging: false });
  try {
    installBulkSignals(sequelize);
    Row.init(
      {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING, allowNull: false },
        counter: { type: DataTypes.INTEGER, allowNull: false },
      },
      { sequelize, tableName: 'bench_values', timestamps: false },
    );
    await sequelize.sync({ force: true });
    const qg = generatorOf(sequelize);
    const dialect = sqlDialectOf(sequelize);
    console.log(
      `per-row-values UPDATE on ${sequelize.getDialect()} ${String((sequelize as unknown as { options: { databaseVersion?: string } }).options.databaseVersion)}, ${reps} repetitions`,
    );
    console.log('rows    JOIN ms   CASE ms   CASE/JOIN');
    for (const n of sizes) {
      await Row.destroy({ truncate: true, bypassSignals: true });
      await Row.bulkCreate(
        Array.from({ length: n }, (_, i) => ({ name: `n${i}`, counter: i })),
        { bypassSignals: true },
      );
      const ids = (await Row.findAll({ attributes: ['id'], order: [['id', 'ASC']] })).map((r) => r.id);
      const writes = (rep: number) => ids.map((id, i) => ({ key: { id }, set: { name: `r${rep}-${i}`, counter: rep * n + i } }));
      const join = (rep: number) =>
        dialect.updateFromValuesSql({ model: Row, qg, writes: writes(rep), tableName: 'bench_values', returning: '' });
      const kase = (rep: number) => {
        const w = writes(rep);
        const cases = (attribute: 'name' | 'counter') =>
          `${qg.quoteIdentifier(attribute)} = CASE ${qg.quoteIdentifier('id')} ${w.map((x) => `WHEN ${x.key.id} THEN ${qg.escape(x.set[attribute])}`).join(' ')} END`;
        return `UPDATE ${qg.quoteTable('bench_values')} SET ${cases('name')}, ${cases('counter')} WHERE ${qg.quoteIdentifier('id')} IN (${ids.join(', ')})`;
      };
      const time = async (statement: string | { sql: string; bind?: readonly unknown[] | undefined }) => {
        const { sql, bind } = typeof statement === 'string' ? { sql: statement, bind: undefined } : statement;
        const start = process.hrtime.bigint();
        await sequelize.transaction((transaction) =>
          sequelize.query(sql, { type: QueryTypes.RAW, transaction, ...(bind ? { bind: bind as unknown[] } : {}) }),
        );
        return Number(process.hrtime.bigint() - start) / 1e6;
      };
      const joins: number[] = [];
      const cases: number[] = [];
      for (let rep = 0; rep < reps; rep++) {
        // Interleaved, in alternating order, every statement writing values the table does not hold yet.
        if (rep % 2) {
          joins.push(await time(join(2 * rep)));
          cases.push(await time(kase(2 * rep + 1)));
        } else {
          cases.push(await time(kase(2 * rep)));
          joins.push(await time(join(2 * rep + 1)));
        }
      }
      const [j, c] = [median(joins), median(cases)];
      console.log(`${String(n).padEnd(8)}${j.toFixed(1).padStart(7)}${c.toFixed(1).padStart(10)}${(c / j).toFixed(2).padStart(12)}`);
    }
  } finally {
    await sequelize.close();
    await db.stop();
  }
}

void main();

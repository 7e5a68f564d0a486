#!/usr/bin/env node
// `npm test`: runs the whole suite (mocha specs, including the compiled type tests) against a real database.
// TEST_DIALECT picks the Sequelize dialect: postgres (the default), mariadb, mysql (mysql2 against MariaDB) or
// sqlite. With DATABASE_URL set it uses that server; otherwise it starts a throwaway one — for PostgreSQL,
// TEST_PG=embedded (the default, PostgreSQL 18 from npm) or TEST_PG=system (the machine's Debian PostgreSQL);
// a MariaDB server from the machine's mariadb-server package; a SQLite file — and stops it after.
// Extra arguments go to mocha, e.g. `npm test -- spec/update.spec.ts`.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startDialectDatabase } from './database.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mochaBin = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

function runMocha(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mochaBin, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let db;
let code = 1;
try {
  if (process.env.DATABASE_URL) {
    code = await runMocha(process.env);
  } else {
    db = await startDialectDatabase();
    console.log(`Testing on a throwaway ${db.engine}`);
    code = await runMocha({ ...process.env, DATABASE_URL: db.url });
  }
} catch (err) {
  console.error(err);
  console.log('0 passed, 1 failed');
} finally {
  if (db) await db.stop().catch((err) => console.error('stopping the test database failed:', err));
}
process.exit(code);

// A throwaway MariaDB server for scripts/sequelize-suite/run.sh: started with scripts/database.mjs, with the
// database Sequelize's test config names (sequelize_test); writes SEQ_HOST/SEQ_PORT to the file given and
// runs until SIGTERM, then stops the server.
import { writeFileSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { startDialectDatabase } from '../database.mjs';

const envFile = process.argv[2];
const db = await startDialectDatabase('mariadb');
const url = new URL(db.url);
const conn = await createConnection({ host: url.hostname, port: Number(url.port), user: 'root' });
await conn.query('CREATE DATABASE IF NOT EXISTS sequelize_test CHARACTER SET utf8mb4');
await conn.end();
writeFileSync(envFile, `SEQ_HOST=${url.hostname}\nSEQ_PORT=${url.port}\n`);
process.on('SIGTERM', () => {
  void db.stop().then(() => process.exit(0));
});
setInterval(() => {}, 1 << 30);

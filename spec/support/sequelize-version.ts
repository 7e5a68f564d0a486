import { readFileSync } from 'node:fs';
import semver from 'semver';

/** The Sequelize release the specs run against (`npm run test:sequelize-versions` runs several). */
export const sequelizeVersion: string = (JSON.parse(readFileSync(require.resolve('sequelize/package.json'), 'utf8')) as { version: string })
  .version;

/** Whether that release has a feature a spec needs (the spec is skipped, saying so, when it has not). */
export function sequelizeHas(feature: keyof typeof FEATURES): boolean {
  return semver.gte(sequelizeVersion, FEATURES[feature]);
}

const FEATURES = {
  /** `upsert` / `bulkCreate` with `conflictWhere` (partial unique indexes). */
  conflictWhere: '6.30.0',
} as const;

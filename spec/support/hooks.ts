// Every spec needs a database; fail early and clearly when the runner did not provide one.
import 'reflect-metadata';

export const mochaHooks = {
  beforeAll(): void {
    if (!process.env.DATABASE_URL) {
      throw new Error('DATABASE_URL is not set: run the suite with `npm test`, which starts a throwaway PostgreSQL');
    }
  },
};

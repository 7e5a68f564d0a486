import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The repository's root: the nearest directory above the specs with a package.json. The specs also run
 * compiled, from coverage/build/spec (`npm run coverage`), so it is found rather than assumed.
 */
export const repoRoot: string = (() => {
  for (let dir = path.resolve(__dirname, '..'); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
})();

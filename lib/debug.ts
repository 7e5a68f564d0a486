type Logger = ((format: string, ...args: unknown[]) => void) & { enabled: boolean };
type DebugFactory = (namespace: string) => Logger;

// Set by the ESM build's banner (scripts/build.mjs) to a `require` made with `createRequire(import.meta.url)`.
declare const __bulkSignalsRequire: ((id: string) => unknown) | undefined;

/**
 * The `debug` package, loaded at run time rather than imported: an application bundling the ESM build (with
 * `sequelize` external) would otherwise bundle `debug`, whose `require('tty')` fails in an ESM bundle. Where it
 * cannot be loaded, logging is off.
 */
function loadDebug(): DebugFactory | undefined {
  try {
    const load = typeof __bulkSignalsRequire === 'function' ? __bulkSignalsRequire : require;
    return load('debug') as DebugFactory;
  } catch {
    return undefined;
  }
}

const off: Logger = Object.assign(() => undefined, { enabled: false });
const createDebug = loadDebug();
const logger = (name: string): Logger => (createDebug ? createDebug(`sequelize-bulk-signals:${name}`) : off);

/**
 * Debug logs, through the `debug` package Sequelize itself uses: `DEBUG=sequelize-bulk-signals:*` turns them on.
 * `call` — per call whether it signals and why not, the strategy (one statement, locked read, chunks) and the
 * rows read and written; `dispatch` — per receiver whether its `when` condition filtered it out;
 * `registry` — receivers added. Callers check `enabled` before building anything to log.
 */
export const debugLog = {
  call: logger('call'),
  dispatch: logger('dispatch'),
  registry: logger('registry'),
};

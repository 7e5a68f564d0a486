/** mulberry32: a small seeded PRNG, so a failing random spec replays exactly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The error a promise rejects with; fails the spec if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

export type CollectedWarning = Error & { code?: string };

/**
 * Runs `fn` with process warnings collected instead of printed (the library's warnings are part of what some
 * specs assert; printing them would clutter the test output).
 */
export async function collectWarnings(fn: () => unknown): Promise<CollectedWarning[]> {
  const warnings: CollectedWarning[] = [];
  // Restored as the very same function object afterwards, so it is never called unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- restored, never called
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error, options?: string | { type?: string; code?: string }) => {
    const error = (typeof warning === 'string' ? new Error(warning) : warning) as CollectedWarning;
    if (options && typeof options === 'object') {
      if (options.type) error.name = options.type;
      if (options.code) error.code = options.code;
    } else if (typeof options === 'string') {
      error.name = options;
    }
    warnings.push(error);
  }) as typeof process.emitWarning;
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.emitWarning = original;
  }
  return warnings;
}

/**
 * Runs `fn` with `console.warn` collected instead of printed: Sequelize warns on the console when a COMMIT or
 * ROLLBACK fails, which specs of those failures cause on purpose.
 */
export async function collectConsoleWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  };
  try {
    return { result: await fn(), warnings };
  } finally {
    console.warn = original;
  }
}

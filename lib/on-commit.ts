import type { Transaction } from 'sequelize';
import { shared } from './shared';

interface Pending {
  /** The transaction (or savepoint) the write ran in. */
  readonly tx: Tx;
  readonly deliver: () => Promise<void>;
}

type Tx = Transaction & { parent?: Tx | null; commit(): Promise<void>; rollback(): Promise<void> };

/** One outermost transaction with deliveries waiting for its COMMIT. */
interface Root {
  readonly queue: Pending[];
  /** Deliveries of earlier transactions that wrote the same rows: this one's wait for them. */
  readonly after: Set<Promise<void>>;
  /** The rows this transaction's deliveries are about. */
  readonly rows: Set<string>;
  /** Resolves once this transaction's deliveries ran, or were dropped (rollback, failed COMMIT). */
  readonly settled: Promise<void>;
  settle(): void;
}

// Shared by the CommonJS and ESM builds (see `shared`): a transaction is hooked once, and row order holds across them.
const { roots, hooked, lastWriter } = shared('on-commit@1', () => ({
  roots: new WeakMap<Tx, Root>(),
  hooked: new WeakSet<Tx>(),
  /** The last transaction, in this process, with deliveries pending for each row (`Model\0key`). */
  lastWriter: new Map<string, Root>(),
}));

function rootOf(t: Tx): Tx {
  let root = t;
  while (root.parent) root = root.parent;
  return root;
}

function descendsFrom(t: Tx, ancestor: Tx): boolean {
  for (let cur: Tx | null | undefined = t; cur; cur = cur.parent) if (cur === ancestor) return true;
  return false;
}

function rootFor(tx: Tx): Root {
  let root = roots.get(tx);
  if (!root) {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    root = { queue: [], after: new Set(), rows: new Set(), settled, settle };
    roots.set(tx, root);
  }
  return root;
}

function finish(tx: Tx, root: Root): void {
  roots.delete(tx);
  for (const row of root.rows) if (lastWriter.get(row) === root) lastWriter.delete(row);
  root.settle();
}

/**
 * Queues `deliver` until the outermost transaction around `transaction` commits. Sequelize 6's own
 * `afterCommit` runs even when COMMIT fails and fires savepoint callbacks before the outer COMMIT, so the
 * transaction's `commit`/`rollback` are wrapped instead (own properties of that one transaction object):
 * deliveries run, in the order they were queued, only once COMMIT has succeeded; a failed COMMIT or a
 * rollback drops them; a savepoint rollback drops the ones queued inside it.
 *
 * `rows` names the rows the delivery is about. PostgreSQL releases a transaction's row locks before its
 * client has seen the COMMIT succeed, so the next writer of a row can commit — and its client see that — first;
 * a transaction's deliveries therefore wait for those of the earlier transactions of this process that
 * wrote the same rows, and every row's deliveries follow its commit order.
 */
export function deferUntilCommit(transaction: Transaction, deliver: () => Promise<void>, rows: readonly string[] = []): void {
  const tx = transaction as Tx;
  const top = rootOf(tx);
  const root = rootFor(top);
  for (const row of rows) {
    const earlier = lastWriter.get(row);
    if (earlier && earlier !== root) root.after.add(earlier.settled);
    lastWriter.set(row, root);
    root.rows.add(row);
  }
  for (let cur: Tx | null | undefined = tx; cur; cur = cur.parent) hook(cur);
  root.queue.push({ tx, deliver });
}

/**
 * Waits for the deliveries of earlier transactions that wrote the same rows — at most `ORDER_WAIT_MS`: one
 * the application never commits nor rolls back (its connection lost) cannot hold later deliveries forever.
 */
const ORDER_WAIT_MS = 10_000;
async function earlierDeliveries(root: Root): Promise<void> {
  if (root.after.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(root.after),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ORDER_WAIT_MS);
      timer.unref?.();
    }),
  ]);
  clearTimeout(timer);
}

function hook(tx: Tx): void {
  if (hooked.has(tx)) return;
  hooked.add(tx);
  const commit: (...a: unknown[]) => Promise<void> = tx.commit.bind(tx);
  const rollback: (...a: unknown[]) => Promise<void> = tx.rollback.bind(tx);
  if (!tx.parent) {
    Object.defineProperty(tx, 'commit', {
      configurable: true,
      writable: true,
      value: async function commitThenDeliver(...args: unknown[]) {
        let committed = false;
        try {
          const result = await commit(...args);
          committed = true;
          return result;
        } finally {
          const root = roots.get(tx);
          if (root) {
            try {
              if (committed) {
                await earlierDeliveries(root);
                for (const p of root.queue) await p.deliver();
              }
            } finally {
              finish(tx, root);
            }
          }
        }
      },
    });
  }
  Object.defineProperty(tx, 'rollback', {
    configurable: true,
    writable: true,
    value: async function rollbackAndDrop(...args: unknown[]) {
      const top = rootOf(tx);
      const root = roots.get(top);
      if (root) {
        const kept = root.queue.filter((p) => !descendsFrom(p.tx, tx));
        root.queue.splice(0, root.queue.length, ...kept);
        if (tx === top) finish(top, root);
      }
      return rollback(...args);
    },
  });
}

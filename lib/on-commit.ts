import type { Transaction } from 'sequelize';

interface Pending {
  /** The transaction (or savepoint) the write ran in. */
  readonly tx: Transaction;
  readonly deliver: () => Promise<void>;
}

type Tx = Transaction & { parent?: Tx | null; commit(): Promise<void>; rollback(): Promise<void> };

const queues = new WeakMap<Tx, Pending[]>();
const hooked = new WeakSet<Tx>();

function rootOf(t: Tx): Tx {
  let root = t;
  while (root.parent) root = root.parent;
  return root;
}

function descendsFrom(t: Tx, ancestor: Tx): boolean {
  for (let cur: Tx | null | undefined = t; cur; cur = cur.parent) if (cur === ancestor) return true;
  return false;
}

/**
 * Queues `deliver` until the outermost transaction around `transaction` commits. Sequelize 6's own
 * `afterCommit` runs even when COMMIT fails and fires savepoint callbacks before the outer COMMIT, so the
 * transaction's `commit`/`rollback` are wrapped instead (own properties of that one transaction object):
 * deliveries run, in the order they were queued, only once COMMIT has succeeded; a failed COMMIT or a
 * rollback drops them; a savepoint rollback drops the ones queued inside it.
 */
export function deferUntilCommit(transaction: Transaction, deliver: () => Promise<void>): void {
  const tx = transaction as Tx;
  const root = rootOf(tx);
  let queue = queues.get(root);
  if (!queue) {
    queue = [];
    queues.set(root, queue);
  }
  for (let cur: Tx | null | undefined = tx; cur; cur = cur.parent) hook(cur);
  queue.push({ tx, deliver });
}

function hook(tx: Tx): void {
  if (hooked.has(tx)) return;
  hooked.add(tx);
  const { commit, rollback } = tx;
  if (!tx.parent) {
    Object.defineProperty(tx, 'commit', {
      configurable: true,
      writable: true,
      value: async function commitThenDeliver(this: Tx, ...args: unknown[]) {
        let committed = false;
        try {
          const result = await (commit as (...a: unknown[]) => Promise<void>).apply(this, args);
          committed = true;
          return result;
        } finally {
          const pending = queues.get(tx) ?? [];
          queues.delete(tx);
          if (committed) for (const p of pending) await p.deliver();
        }
      },
    });
  }
  Object.defineProperty(tx, 'rollback', {
    configurable: true,
    writable: true,
    value: async function rollbackAndDrop(this: Tx, ...args: unknown[]) {
      const root = rootOf(tx);
      const queue = queues.get(root);
      if (queue) {
        const kept = queue.filter((p) => !descendsFrom(p.tx, tx));
        if (tx === root) queues.delete(root);
        else queues.set(root, kept);
      }
      return (rollback as (...a: unknown[]) => Promise<void>).apply(this, args);
    },
  });
}

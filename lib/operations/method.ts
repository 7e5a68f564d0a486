import type { Model, ModelStatic } from 'sequelize';
import { debugLog } from '../debug';
import { CALL, isCall, type AnyOptions } from '../call';
import { installStateOf } from '../install-state';
import { clsTransaction } from '../internals';
import { canonicalModel } from '../data/model-info';
import { currentScope } from '../scope';
import { TAP } from '../statement-tap';

/** An original Sequelize method, called with the wrapper's `this`. */
export type Original = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** The model class behind `this` of a static (`Model.update`) or instance (`instance.save`) method. */
export function modelOf(self: unknown): ModelStatic<Model> | undefined {
  const cls = (typeof self === 'function' ? self : (self as { constructor?: unknown } | null)?.constructor) as
    ModelStatic<Model> | undefined;
  return cls && installStateOf(cls.sequelize) ? canonicalModel(cls) : undefined;
}

/**
 * The arguments with the options at `at` cleaned of tags that belong to another call: Sequelize hands its
 * options down to nested calls (an instance destroy's cascade destroys each child with the parent's
 * options), and a nested call is its own call. Returns `args` itself when there is nothing to clean.
 */
export function ownArgs(args: unknown[], at: number, model: ModelStatic<Model>, instance?: Model): unknown[] {
  const options = args[at] as AnyOptions | undefined;
  if (!options || typeof options !== 'object') return args;
  const call = options[CALL];
  const foreignCall = call !== undefined && !(isCall(call) && call.owns(model, instance));
  if (!foreignCall && options[TAP] === undefined) return args;
  const { [CALL]: _call, [TAP]: _tap, ...rest } = options;
  const out = [...args];
  out[at] = foreignCall ? rest : { ...rest, [CALL]: call };
  return out;
}

/**
 * Whether this method call is the inner end of a method wrapped twice (sequelize-typescript's proxies call
 * Sequelize's method, both wrapped): the outer wrapper already made the call.
 */
export function reentered(args: unknown[], at: number, name: string, model: ModelStatic<Model>, instance?: Model): boolean {
  const call = (args[at] as AnyOptions | undefined)?.[CALL];
  const inner = isCall(call) && call.method === name && call.owns(model, instance);
  if (inner && debugLog.call.enabled) debugLog.call('%s.%s: internal call of its own %s, signalled as part of it', model.name, name, name);
  return inner;
}

/**
 * Receivers that write without `signal.transaction` wait for the rows the signalled write holds locked (and
 * can exhaust a small pool). A write that starts inside a receiver without a transaction is warned about once
 * per model and event, naming both.
 */
export function warnOutsideTransaction(model: ModelStatic<Model>, method: string, options: AnyOptions | undefined): void {
  const scope = currentScope();
  if (scope.chain.length === 0 || scope.receiving === undefined) return;
  if (options?.transaction !== undefined || clsTransaction(model.sequelize!)) return;
  const key = `${scope.chain[scope.chain.length - 1]}→${model.name}.${method}`;
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(
    `${model.name}.${method} ran inside a receiver for ${scope.chain[scope.chain.length - 1]} without a transaction. ` +
      'The signalled write holds its rows locked until it commits, so a write outside signal.transaction that touches ' +
      'them waits forever; pass { transaction: signal.transaction }.',
    { type: 'BulkSignalsWarning', code: 'BULK_SIGNALS_OUTSIDE_TRANSACTION' },
  );
}
const warned = new Set<string>();

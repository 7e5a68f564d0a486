import type { Model, ModelStatic } from 'sequelize';
import type { BulkSignalEventMap, EventName } from './events';
import { installStateOf } from './install-state';
import { register } from './bulk-signals';
import { checkedEvent, checkedOptions, failRegistration, type ReceiverOptions, type Registration } from './receiver-options';

const DECLARED = Symbol.for('sequelize-bulk-signals/on-signal@1');
const REGISTERED = Symbol.for('sequelize-bulk-signals/on-signal-registered@1');

interface Declared {
  readonly event: EventName;
  readonly method: string | symbol;
  readonly options: ReceiverOptions | undefined;
}

type Carrier = { [DECLARED]?: Declared[]; [REGISTERED]?: true };

/**
 * Registers a static method of a sequelize-typescript `@Table` class as a receiver for `event` on that model,
 * once the model is added to a Sequelize instance that ran `installBulkSignals` (`sequelize.addModels([...])`,
 * before or after the install). The method is called with the model class as `this`. Options as for
 * `bulkSignals.on`; the receiver is named `Model.method` (debug logs; no multiple-receivers warning). Needs
 * `experimentalDecorators`, as sequelize-typescript does.
 *
 * @example
 * ```ts
 * @Table
 * class Account extends Model {
 *   @OnSignal('afterUpdate', { when: changed('balance') })
 *   static async recordBalance(this: typeof Account, { oldRecords, newRecords, transaction }: Signal<Account, 'afterUpdate'>) {
 *     await BalanceHistory.bulkCreate(newRecords.map((r, i) => ({ accountId: r.id, from: oldRecords[i]!.balance, to: r.balance })), { transaction });
 *   }
 * }
 * ```
 */
export function OnSignal<E extends EventName>(event: E, options?: ReceiverOptions<Model, E>): SignalMethodDecorator<E> {
  const where: Registration = { what: '', modelName: undefined, model: undefined, via: '@OnSignal' };
  const checkedEventName = checkedEvent(where, event);
  checkedOptions(where, checkedEventName, () => undefined, options);
  return function declare<M extends Model, F extends (signal: BulkSignalEventMap<M>[E]) => unknown>(
    target: ModelStatic<M>,
    method: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): void {
    if (typeof target !== 'function' || typeof descriptor?.value !== 'function') {
      failRegistration(`@OnSignal('${event}') goes on a static method of a model class, not on ${String(method)} here`, undefined, event);
    }
    const carrier = target as unknown as Carrier;
    const own = Object.prototype.hasOwnProperty.call(carrier, DECLARED) ? carrier[DECLARED]! : [];
    Object.defineProperty(carrier, DECLARED, { value: [...own, { event: checkedEventName, method, options }], configurable: true });
  };
}

/**
 * What `OnSignal(event)` returns: a decorator for a static method of a model class that takes the event's
 * payload.
 *
 * @example
 * const onUpdate: SignalMethodDecorator<'afterUpdate'> = OnSignal('afterUpdate');
 */
export interface SignalMethodDecorator<E extends EventName> {
  /**
   * @typeParam M - the model the decorated class declares
   * @typeParam F - the decorated method, which takes the payload of `E` for that model
   */
  <M extends Model, F extends (signal: BulkSignalEventMap<M>[E]) => unknown>(
    target: ModelStatic<M>,
    method: string | symbol,
    descriptor: TypedPropertyDescriptor<F>,
  ): void;
}

/** The receivers declared with `@OnSignal` on a class and the classes it extends, base classes first. */
function declaredOn(model: ModelStatic<Model>): Declared[] {
  const chain: Declared[][] = [];
  for (let cls: unknown = model; typeof cls === 'function'; cls = Object.getPrototypeOf(cls)) {
    if (Object.prototype.hasOwnProperty.call(cls, DECLARED)) chain.unshift((cls as Carrier)[DECLARED]!);
  }
  return chain.flat();
}

/**
 * Registers a model's `@OnSignal` receivers, once, when it is initialised on an installed Sequelize instance
 * (or when its instance is installed after): called by the install and by the `Model.init` wrapper.
 */
export function registerDeclared(model: ModelStatic<Model>): void {
  const carrier = model as unknown as Carrier;
  if (Object.prototype.hasOwnProperty.call(carrier, REGISTERED) || !installStateOf(model.sequelize)) return;
  const declared = declaredOn(model);
  if (declared.length === 0) return;
  Object.defineProperty(carrier, REGISTERED, { value: true });
  const where: Registration = { what: model.name, modelName: model.name, model, via: '@OnSignal' };
  for (const { event, method, options } of declared) {
    const fn = (model as unknown as Record<string | symbol, (signal: unknown) => unknown>)[method]!;
    const receiver = (signal: unknown) => fn.call(model, signal);
    const named = { ...options, name: options?.name ?? `${model.name}.${String(method)}` };
    register(model, where, event, receiver, checkedOptions(where, event, receiver, named));
  }
}

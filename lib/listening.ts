import type { Model, ModelStatic } from 'sequelize';
import { eventName, type EventName, type Family } from './events';
import { listensFor, listensOwn } from './registry';
import { ancestorsOf, descendantsOf, inHierarchy } from './inheritance/chain';
import { currentScope } from './scope';
import { debugLog } from './debug';

/** Who listens to one call, decided once, before anything is read. */
export interface Listening {
  /** validate (unless bypassed) or before receivers: the rows are needed before the write. */
  readonly before: boolean;
  readonly after: boolean;
}

/** The events of a family that run before the write (validate unless bypassed, then before). */
export function beforeEvents(family: Family, bypassValidation: boolean): EventName[] {
  return bypassValidation ? [eventName('before', family)] : [eventName('validate', family), eventName('before', family)];
}

/**
 * The one place that decides whether a call signals: not bypassed (per call or per async scope) and somebody
 * listens. `undefined` means the call runs exactly as Sequelize alone runs it.
 */
export function listeningFor(
  model: ModelStatic<Model>,
  family: Family,
  options: Readonly<Record<string, unknown>> | undefined,
): Listening | undefined {
  if (options?.bypassSignals === true) return skipped(model, family, 'bypassSignals: true');
  if (currentScope().bypass) return skipped(model, family, 'inside bulkSignals.bypass');
  const beforeNames = beforeEvents(family, options?.bypassValidation === true);
  const before = listensInHierarchy(model, beforeNames);
  const after = listensInHierarchy(model, [eventName('after', family)]);
  return before || after ? { before, after } : skipped(model, family, 'no receiver');
}

/**
 * Whether anyone listens to a write on `model`: its own receivers and those for every model, its ancestors'
 * (a Restaurant is a Place), and its descendants' (a write on places reaches the rows that are restaurants).
 */
export function listensInHierarchy(model: ModelStatic<Model>, events: readonly EventName[]): boolean {
  if (listensFor(model, events)) return true;
  if (!inHierarchy(model)) return false;
  return ancestorsOf(model).some((m) => listensOwn(m, events)) || descendantsOf(model).some((m) => listensOwn(m, events));
}

/** The descendants of `model` whose own receivers listen for any of `events` (deepest first). */
export function listeningDescendants(model: ModelStatic<Model>, events: readonly EventName[]): ModelStatic<Model>[] {
  return childrenOfAny(model) ? descendantsOf(model).filter((m) => listensOwn(m, events)) : [];
}

function childrenOfAny(model: ModelStatic<Model>): boolean {
  return inHierarchy(model) && descendantsOf(model).length > 0;
}

function skipped(model: ModelStatic<Model>, family: Family, why: string): undefined {
  if (debugLog.call.enabled) debugLog.call('%s %s: no signals (%s)', model.name, family.toLowerCase(), why);
  return undefined;
}

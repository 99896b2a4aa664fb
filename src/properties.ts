import type { Abortable } from './abort-scope.js';
import type { CallOutcome } from './call.js';
import { CallTimeoutError, describeValue, isConfigError, MonitorClosedError, toError } from './errors.js';
import type { Logger } from './logger.js';
import type { PluginCalls } from './plugin-calls.js';
import type { PropertiesOutcome, ResourceState, TypeBinding } from './types.js';

/**
 * The properties of one resource across live changes (DESIGN §11): those in force (what the
 * calls' contexts carry) and, newer, those stored for the next online. Each accepted change gets
 * a number, so the late outcome of an earlier change never undoes a later one.
 */
export class LiveProperties {
  /** Numbers each accepted change. */
  private changes = 0;
  /** The change the properties in force come from. */
  private inForceChange = 0;
  /** Properties stored for the next online (`'stored'`), newer than those in force. */
  private stored: { value: unknown; change: number } | null = null;

  constructor(
    /** The properties in force. */
    public inForce: unknown,
  ) {}

  /** The latest properties accepted: those stored for the next online, else those in force. */
  configured(): unknown {
    return this.stored ? this.stored.value : this.inForce;
  }

  /** A new change is accepted: its number. */
  nextChange(): number {
    return ++this.changes;
  }

  /** Change `change` is in force now (unless a later one already is). */
  commit(change: number, value: unknown): void {
    if (change > this.inForceChange) {
      this.inForce = value;
      this.inForceChange = change;
    }
    if (this.stored && this.stored.change <= change) this.stored = null;
  }

  /** Change `change` takes effect at the next online (unless a later one is in force or stored). */
  store(change: number, value: unknown): void {
    if (change > this.inForceChange && (!this.stored || change > this.stored.change)) this.stored = { value, change };
  }

  /** An online attempt starts: properties stored while the resource ran come into force. */
  takeStored(): void {
    const stored = this.stored;
    if (!stored) return;
    this.stored = null;
    this.inForce = stored.value;
    this.inForceChange = stored.change;
  }
}

/** What a live properties change needs from its resource (the resource itself). */
export interface PropertiesOwner {
  readonly name: string;
  readonly state: ResourceState;
  readonly binding: TypeBinding;
  readonly isDisposed: boolean;
  /** The number of the operation in charge now. */
  currentOp(): number;
  /** Aborted when the online period ends; null outside one. */
  onlineSignal(): Abortable | null;
}

/**
 * New properties for `owner`, already validated (DESIGN §11). Online, with `applyProperties`:
 * one call on the lane; otherwise in force at once when nothing runs (offline, failed), else
 * stored for the next online.
 */
export async function changeProperties(owner: PropertiesOwner, calls: PluginCalls, props: LiveProperties, log: Logger, next: unknown): Promise<PropertiesOutcome> {
  if (owner.isDisposed) throw new MonitorClosedError(`setProperties("${owner.name}")`);
  const change = props.nextChange();
  if (owner.state === 'offline' || owner.state === 'failed') {
    props.commit(change, next);
    return 'applied';
  }
  const signal = owner.onlineSignal();
  if (owner.state !== 'online' || !signal || !owner.binding.type.applyProperties) {
    props.store(change, next);
    return 'stored';
  }
  const out = await calls.applyProperties(owner.currentOp(), signal, next);
  calls.ended('applyProperties', out);
  // Abandoned: the online period ended before the change was applied (it takes effect at the next online).
  if (out.kind === 'abandoned' && owner.isDisposed) throw new MonitorClosedError(`setProperties("${owner.name}")`);
  const outcome = applyOutcome(owner.name, out, log);
  if (outcome === 'applied') props.commit(change, next);
  else props.store(change, next);
  return outcome;
}

/**
 * What an `applyProperties` call's outcome means for the change: `'applied'` (nothing returned:
 * in force now), `'stored'` (it returned `'stored'`, or the online period ended before it
 * ran: at the next online), or the error the caller gets (a rejection, a deadline).
 */
export function applyOutcome(resource: string, out: CallOutcome<unknown>, log: Logger): 'applied' | 'stored' {
  switch (out.kind) {
    case 'ok':
      if (out.value === 'stored') return 'stored';
      if (out.value !== undefined) log.warn(`applyProperties returned ${describeValue(out.value)}; taken as applied (return nothing, or 'stored')`);
      return 'applied';
    case 'error':
      throw isConfigError(out.error) ? out.error : toError(out.error, 'applyProperties rejected');
    case 'timeout':
      throw new CallTimeoutError(
        `resource "${resource}": applyProperties passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned; the old properties stay in force`,
        out.timeoutMs,
      );
    case 'abandoned':
      return 'stored';
  }
}

import type { AbortScope } from './abort-scope.js';
import type { ActiveCall, CallOutcome } from './call.js';
import type { Clock } from './clock.js';
import { CallTimeoutError, reasonOf, StateError, toError } from './errors.js';
import { hostReady } from './host-ready.js';
import type { PluginCalls } from './plugin-calls.js';
import type { ResourcePolicy } from './policy.js';
import type { TypeBinding } from './types.js';

/** What an online attempt needs from its resource (the resource itself). */
export interface AttemptOwner {
  readonly name: string;
  readonly binding: TypeBinding;
  readonly policy: ResourcePolicy;
  /** The number of the operation in charge of the resource now. */
  currentOp(): number;
  /** `online` returned: the resource goes online if the attempt is still in charge; false when it no longer is. */
  wentOnline(attempt: OnlineAttempt): boolean;
  /** Fails the resource for operation `op` (ignored once `op` is no longer in charge). */
  fail(op: number, reason: string, cause: Error | null): boolean;
}

/** `done` of an attempt that has not started yet. */
const NOT_STARTED: Promise<Error | null> = Promise.resolve(null);

/** How a call that did not start, or whose result no longer counts, ended. */
const abandoned = (durationMs: number): CallOutcome<never> => ({ kind: 'abandoned', durationMs });

/**
 * One attempt to bring a resource online (one generation): waits for the resource's isolation
 * host to start, calls `open` the first time, then `online`. It ends online, failed (it fails
 * the resource through its owner), or abandoned by a later operation.
 */
export class OnlineAttempt {
  /** The `online` call, once it started (an offline() waits for it to settle). */
  onlineCall: ActiveCall | null = null;
  /** Why the attempt failed, when a failure (not an abandonment) ended it. */
  failure: Error | null = null;
  /** Resolves when the attempt ends: with null once online, else with the error for the callers of `online()`. */
  done = NOT_STARTED;

  constructor(
    /** The number of the operation the attempt is (see `Resource`). */
    readonly op: number,
    /** Aborts the attempt's calls: aborted when its online period ends (the resource's `onlineAbort`). */
    readonly abort: AbortScope,
  ) {}

  /**
   * Runs the attempt (once the resource shows it as online-pending). What it runs with is held
   * only while it runs: the attempt object stays with the resource, so it keeps no more than its state.
   */
  start(owner: AttemptOwner, calls: PluginCalls, clock: Clock): void {
    this.done = this.run(owner, calls, clock);
  }

  private async run(owner: AttemptOwner, calls: PluginCalls, clock: Clock): Promise<Error | null> {
    const { op, abort } = this;
    // A hosted type whose host is still starting: wait for it (aborted with the attempt).
    const ready = hostReady(owner.binding, owner.name, owner.policy.deadlockTimeout, abort, clock);
    if (ready) {
      await ready;
      if (owner.currentOp() !== op) return this.failed(owner, 'online', abandoned(0));
    }
    const opening = calls.open(op, abort);
    if (opening) {
      const out = await opening;
      calls.ended('open', out);
      if (out.kind !== 'ok') return this.failed(owner, 'open', out);
      // An open that returned before the attempt was abandoned (an offline() right after) counts:
      // its handle is kept, open runs once.
      calls.keepHandle(out.value);
      if (owner.currentOp() !== op) return this.failed(owner, 'open', abandoned(out.durationMs));
    }
    const out = await calls.online(op, abort, (call) => {
      this.onlineCall = call;
    });
    calls.ended('online', out);
    if (out.kind === 'ok' && owner.wentOnline(this)) return null;
    return this.failed(owner, 'online', out);
  }

  /** Fails the resource for a failed open/online (if the attempt is still in charge); the error for callers. */
  private failed(owner: AttemptOwner, entryPoint: 'open' | 'online', out: CallOutcome<unknown>): Error {
    const { name } = owner;
    let error: Error;
    if (out.kind === 'error') {
      error = toError(out.error, `${entryPoint} rejected`);
      owner.fail(this.op, `${entryPoint} failed: ${reasonOf(out.error)}`, error);
    } else if (out.kind === 'timeout') {
      const what = entryPoint === 'online' ? `made no progress for ${out.timeoutMs} ms (pendingTimeout)` : `passed deadlockTimeout (${out.timeoutMs} ms)`;
      error = new CallTimeoutError(`resource "${name}": ${entryPoint} ${what}`, out.timeoutMs);
      owner.fail(this.op, `${entryPoint} ${what}`, error);
    } else {
      // Abandoned (or it resolved after being abandoned): a failure tells why, otherwise the preemption.
      const why: unknown = this.abort.reason;
      error = why instanceof StateError ? why : new StateError(name, `the online attempt was abandoned (${reasonOf(why ?? 'superseded')})`);
    }
    return this.failure ?? error;
  }
}

/**
 * Why the calls of an online period were abandoned (the reason its `onlineAbort` aborts with).
 * Built without a stack trace: it is made on every offline, terminate and failure, and says all
 * it has to say in its message.
 */
export function abandonment(resource: string, reason: string): StateError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new StateError(resource, `the online attempt was abandoned: ${reason}`);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

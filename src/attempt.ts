import type { ActiveCall, CallOutcome } from './call.js';
import { CallTimeoutError, reasonOf, StateError, toError } from './errors.js';

/**
 * One attempt to bring a resource online (one generation): the host's start-up, `open` the first
 * time, then `online`. It ends online, failed, or abandoned by a later operation.
 */
export interface Attempt {
  /** The number of the operation the attempt is (see `Resource`). */
  readonly op: number;
  /** Aborted when the attempt's online period ends: its calls are abandoned. */
  readonly scope: AbortController;
  /** The `online` call, once it started. */
  onlineCall: ActiveCall | null;
  /** Why the attempt failed, when a failure (not an abandonment) ended it. */
  failure: Error | null;
  /** Resolves when the attempt ends: with null when the resource went online, else the error for callers. */
  done: Promise<Error | null>;
}

/**
 * How a failed `open` or `online` fails the resource: the reason of the state change and the
 * error its caller gets. Null for a call that was abandoned (see {@link abandonedAttemptError}).
 */
export function attemptFailure(resource: string, entryPoint: 'open' | 'online', out: CallOutcome<unknown>): { reason: string; error: Error } | null {
  if (out.kind === 'error') return { reason: `${entryPoint} failed: ${reasonOf(out.error)}`, error: toError(out.error, `${entryPoint} rejected`) };
  if (out.kind === 'timeout') {
    const what = entryPoint === 'online' ? `made no progress for ${out.timeoutMs} ms (pendingTimeout)` : `passed deadlockTimeout (${out.timeoutMs} ms)`;
    return { reason: `${entryPoint} ${what}`, error: new CallTimeoutError(`resource "${resource}": ${entryPoint} ${what}`, out.timeoutMs) };
  }
  return null;
}

/** The error callers of an abandoned attempt get: the preemption's own StateError, or one that names `why`. */
export function abandonedAttemptError(resource: string, why: unknown): Error {
  return why instanceof StateError ? why : new StateError(resource, `the online attempt was abandoned (${reasonOf(why ?? 'superseded')})`);
}

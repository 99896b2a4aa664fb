import { abortable } from './abort.js';
import type { Clock } from './clock.js';
import { CallTimeoutError } from './errors.js';
import type { ResourceState, ResourceStatus } from './types.js';

interface Waiter {
  readonly state: ResourceState;
  resolve(status: ResourceStatus): void;
  reject(error: unknown): void;
}

/**
 * The callers of `waitFor(name, state)` on one resource: each waits until the resource reaches
 * its state, its deadline passes or its signal aborts, and leaves the set however it ends.
 */
export class StateWaiters {
  /** Made on the first wait: most resources are never waited for. */
  private waiting: Set<Waiter> | null = null;

  /**
   * Resolves with the resource's status once {@link reached} is called with `state`; rejects
   * after `timeoutMs` on `clock` (none when undefined) with a CallTimeoutError whose message
   * `timedOut()` gives, with the signal's reason when it aborts (at once if it already has), or
   * with the error given to {@link rejectAll}.
   */
  wait(state: ResourceState, timeoutMs: number | undefined, signal: AbortSignal | undefined, clock: Clock, timedOut: () => string): Promise<ResourceStatus> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let waiter!: Waiter;
    const reached = new Promise<ResourceStatus>((resolve, reject) => {
      waiter = { state, resolve, reject };
    });
    const waiting = (this.waiting ??= new Set());
    waiting.add(waiter);
    const onTimeout = () => {
      throw new CallTimeoutError(timedOut(), timeoutMs as number);
    };
    return abortable(reached, { timeoutMs, signal, clock, onTimeout }).finally(() => waiting.delete(waiter));
  }

  /** The resource is now in `to`: resolves the callers waiting for it with `of.inspect()` (built only then). */
  reached(to: ResourceState, of: { inspect(): ResourceStatus }): void {
    if (!this.waiting || this.waiting.size === 0) return;
    let now: ResourceStatus | null = null;
    for (const waiter of this.waiting) if (waiter.state === to) waiter.resolve((now ??= of.inspect()));
  }

  /** Rejects every caller still waiting with `error` (the resource is gone). */
  rejectAll(error: unknown): void {
    if (!this.waiting) return;
    for (const waiter of this.waiting) waiter.reject(error);
    this.waiting.clear();
  }
}

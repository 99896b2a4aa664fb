import pTimeout from 'p-timeout';
import { after, type Clock, systemClock, type Timer } from './clock.js';

/** How {@link abortable} waits. Every field is optional. */
export interface AbortableOptions<T> {
  /**
   * Stop waiting after this many milliseconds: the wait settles through `onTimeout`. Any length
   * works (waits past setTimeout's limit are split); `Infinity` or `undefined` is no deadline.
   * @default Infinity
   */
  timeoutMs?: number | undefined;
  /** Stop waiting when it aborts: the wait rejects with the signal's `reason`. */
  signal?: AbortSignal | undefined;
  /**
   * Arms the deadline, so a monitor's injected clock (or fake timers) drives it.
   * @default systemClock
   */
  clock?: Clock | undefined;
  /**
   * What the wait settles with when the deadline passes: return a value to resolve with it,
   * throw to reject. Called only then, so an error built here has the state of that moment.
   * @default rejects with p-timeout's `TimeoutError`
   */
  onTimeout?: (() => T | Promise<T>) | undefined;
}

/**
 * Waits for `promise`, with an optional deadline and an optional abort signal; whichever comes
 * first settles the wait. Whatever way it settles, the timer is cancelled and the abort listener
 * removed (nothing stays armed for a promise that never settles once the deadline or the signal
 * has ended the wait). The promise itself is not cancelled: stop its work through the signal.
 *
 * The one primitive for "wait for X with a deadline and a signal, then clean up" in resmon
 * (waitFor, a host's start-up, the built-in types' probes and stops, loading a hosted type). It
 * is built on p-timeout, driven by `clock`. The per-call lane of `call.ts` does not use it: a
 * call is the hot path, and the lane arms one re-armable timer per call without a wrapper
 * promise or a listener (see the README's Architecture section for the figures).
 *
 * @example
 * ```ts
 * const status = await abortable(reached, {
 *   timeoutMs: 5_000,
 *   signal,
 *   clock: env.clock,
 *   onTimeout: () => { throw new CallTimeoutError('not reached within 5000 ms', 5_000); },
 * });
 * ```
 */
export function abortable<T>(promise: PromiseLike<T>, options: AbortableOptions<T> = {}): Promise<T> {
  const { timeoutMs = Number.POSITIVE_INFINITY, signal, clock = systemClock, onTimeout } = options;
  return pTimeout(promise, {
    // p-timeout takes only positive milliseconds; a deadline of 0 arms a 0 ms timer, as setTimeout does.
    milliseconds: timeoutMs > 0 ? timeoutMs : Number.MIN_VALUE,
    ...(onTimeout ? { fallback: onTimeout } : {}),
    ...(signal ? { signal } : {}),
    customTimers: {
      setTimeout: ((fn: () => void, ms: number) => after(clock, ms <= Number.MIN_VALUE ? 0 : ms, fn)) as unknown as typeof setTimeout,
      clearTimeout: ((timer: Timer | undefined) => timer?.cancel()) as unknown as typeof clearTimeout,
    },
  }) as Promise<T>;
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason when it aborts first. */
export function delay(ms: number, options: { signal?: AbortSignal | undefined; clock?: Clock | undefined } = {}): Promise<void> {
  return abortable(new Promise<void>(() => {}), { ...options, timeoutMs: ms, onTimeout: () => undefined });
}

/**
 * Where the monitor reads time and arms timers. The default reads the global timers at call
 * time, so `vi.useFakeTimers()` or sinon's fake timers drive the monitor exactly; pass your own
 * to drive it by hand.
 */
export interface Clock {
  /** The current time in milliseconds (any epoch; events and `inspect()` report it as is). */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer armed by `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The default clock: `Date.now()` and the global timers, looked up at each call. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The longest delay `setTimeout` takes; longer waits are split into steps of this size. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer that can wait any finite time. `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/**
 * Arms `fn` after `ms` on `clock`, splitting waits longer than setTimeout's limit into steps.
 * An infinite `ms` never fires (and arms nothing).
 */
export function after(clock: Clock, ms: number, fn: () => void): Timer {
  if (ms === Number.POSITIVE_INFINITY) return { cancel() {} };
  if (ms <= MAX_TIMER_MS) {
    const handle = clock.setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clock.clearTimeout(handle) };
  }
  let handle: unknown;
  let remaining = ms;
  const step = () => {
    const wait = Math.min(remaining, MAX_TIMER_MS);
    remaining -= wait;
    handle = clock.setTimeout(remaining > 0 ? step : fn, wait);
  };
  step();
  return { cancel: () => clock.clearTimeout(handle) };
}

import type { Clock } from '../clock.js';

/** A {@link Clock} whose time moves only when the test says so. */
export interface FakeClock extends Clock {
  /**
   * Moves time forward by `ms`, running every timer that falls due, in order, each at its own
   * time; between timers it lets pending promise callbacks run, so the monitor's async steps
   * finish before the next timer. Resolves once time is `now() + ms`.
   */
  advance(ms: number): Promise<void>;
  /** Runs timers until none is left (or `limit` have run: a timer that re-arms itself forever). */
  runAll(limit?: number): Promise<void>;
  /** Lets pending promise callbacks run without moving time. */
  flush(): Promise<void>;
  /** The number of timers armed and not yet run or cleared. */
  pending(): number;
}

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** Yields to the event loop (a real macrotask), so every queued promise callback runs first. */
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fake clock that plugs into the monitor (`new ResourceMonitor({ clock })`), for
 * deterministic unit tests of a resource type's behaviour under the monitor without touching
 * the global timers (your plugin's own timers stay real). Timers due at the same time run in the
 * order they were armed.
 *
 * @example
 * ```ts
 * const clock = createFakeClock();
 * const monitor = new ResourceMonitor({ clock, defaults: { isAlivePollInterval: 1000 } });
 * monitor.registerType(myType);
 * monitor.addResource({ name: 'a', type: myType.name });
 * await monitor.online('a');
 * await clock.advance(1000); // the first isAlive poll runs
 * ```
 */
export function createFakeClock(start = 0): FakeClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, FakeTimer>();
  const due = (until: number): FakeTimer | null => {
    let first: FakeTimer | null = null;
    for (const t of timers.values()) if (t.at <= until && (!first || t.at < first.at || (t.at === first.at && t.id < first.id))) first = t;
    return first;
  };
  const clock: FakeClock = {
    now: () => now,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { id, at: now + Math.max(0, Number(ms) || 0), fn });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      if (typeof ms !== 'number' || !(ms >= 0)) throw new RangeError(`advance(ms): ms must be a number >= 0, got ${String(ms)}`);
      const until = now + ms;
      await yieldToLoop();
      for (let t = due(until); t; t = due(until)) {
        timers.delete(t.id);
        now = Math.max(now, t.at);
        t.fn();
        await yieldToLoop();
      }
      now = until;
    },
    async runAll(limit = 10_000) {
      await yieldToLoop();
      for (let n = 0; n < limit && timers.size > 0; n++) {
        const t = due(Number.POSITIVE_INFINITY) as FakeTimer;
        timers.delete(t.id);
        now = Math.max(now, t.at);
        t.fn();
        await yieldToLoop();
      }
    },
    flush: yieldToLoop,
    pending: () => timers.size,
  };
  return clock;
}

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock.js';
import { TimerWheel, WheelEntry, type WheelOwner } from '../src/timer-wheel.js';

/** Records which entry ran when (clock time). */
function recorder() {
  const runs: { tag: number; at: number }[] = [];
  const owner: WheelOwner = { onDue: (tag) => runs.push({ tag, at: Date.now() }) };
  return { runs, owner };
}

/** A deterministic pseudo-random sequence (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('TimerWheel', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs an entry exactly when it is due', async () => {
    const { runs, owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    const t0 = Date.now();
    wheel.schedule(new WheelEntry(owner, 1), 1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toEqual([{ tag: 1, at: t0 + 1_000 }]);
    expect(wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds many entries on one clock timer', () => {
    const { owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    for (let i = 0; i < 10_000; i++) wheel.schedule(new WheelEntry(owner, i), 1 + (i % 5_000));
    expect(wheel.size).toBe(10_000);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('runs entries due in the same millisecond in the order they were scheduled, the last scheduling counting', async () => {
    const { runs, owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    const a = new WheelEntry(owner, 1);
    const b = new WheelEntry(owner, 2);
    const c = new WheelEntry(owner, 3);
    wheel.schedule(a, 500);
    wheel.schedule(b, 500);
    wheel.schedule(c, 500);
    wheel.schedule(a, 500); // moved: now after c
    await vi.advanceTimersByTimeAsync(500);
    expect(runs.map((r) => r.tag)).toEqual([2, 3, 1]);
  });

  it('keeps the order of one millisecond when some entries came down from a coarser level', async () => {
    const { runs, owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    // Due at 100,000 ms: the first two are scheduled from far away (a coarse slot), the third
    // from near by; they still run in the order they were scheduled.
    wheel.schedule(new WheelEntry(owner, 1), 100_000);
    await vi.advanceTimersByTimeAsync(50_000);
    wheel.schedule(new WheelEntry(owner, 2), 50_000);
    await vi.advanceTimersByTimeAsync(49_900);
    wheel.schedule(new WheelEntry(owner, 3), 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs.map((r) => r.tag)).toEqual([1, 2, 3]);
    expect(new Set(runs.map((r) => r.at)).size).toBe(1);
  });

  it('does not run a cancelled entry, nor one cancelled by an entry of the same millisecond', async () => {
    const { runs } = recorder();
    const wheel = new TimerWheel(systemClock);
    const entries: WheelEntry[] = [];
    const owner: WheelOwner = {
      onDue: (tag) => {
        runs.push({ tag, at: Date.now() });
        if (tag === 1) wheel.cancel(entries[2] as WheelEntry);
      },
    };
    for (let i = 0; i < 4; i++) entries.push(new WheelEntry(owner, i));
    for (const e of entries) wheel.schedule(e, 10);
    wheel.cancel(entries[0] as WheelEntry);
    await vi.advanceTimersByTimeAsync(10);
    expect(runs.map((r) => r.tag)).toEqual([1, 3]);
  });

  it('arms no clock timer once every entry is cancelled', () => {
    const { owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    const e = new WheelEntry(owner, 1);
    wheel.schedule(e, 10);
    expect(vi.getTimerCount()).toBe(1);
    wheel.cancel(e);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reports an entry that throws and still runs the others', async () => {
    const wheel = new TimerWheel(systemClock);
    const ran: number[] = [];
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const owner: WheelOwner = {
        onDue: (tag) => {
          ran.push(tag);
          if (tag === 1) throw new Error('boom');
        },
      };
      wheel.schedule(new WheelEntry(owner, 1), 5);
      wheel.schedule(new WheelEntry(owner, 2), 5);
      await vi.advanceTimersByTimeAsync(5);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(ran).toEqual([1, 2]);
  });

  it('stops for good on dispose', async () => {
    const { runs, owner } = recorder();
    const wheel = new TimerWheel(systemClock);
    wheel.schedule(new WheelEntry(owner, 1), 5);
    wheel.dispose();
    expect(vi.getTimerCount()).toBe(0);
    wheel.schedule(new WheelEntry(owner, 2), 5);
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toEqual([]);
  });

  it('agrees with a sorted list on random schedules, moves and cancels up to 60 days ahead', async () => {
    const random = rng(20261201);
    const t0 = Date.now();
    const ran: { tag: number; at: number }[] = [];
    const expected = new Map<number, { due: number; seq: number }>();
    let seq = 0;
    const wheel = new TimerWheel(systemClock);
    const entries: WheelEntry[] = [];
    const owner: WheelOwner = {
      onDue: (tag) => {
        ran.push({ tag, at: Date.now() - t0 });
        expected.delete(tag);
        // Half of them re-arm themselves from inside the run, as a poll does.
        if (random() < 0.5) arm(tag);
      },
    };
    const delays = [1, 3, 255, 256, 257, 1_000, 16_383, 16_384, 70_000, 1_048_576, 5_000_000, 67_108_864, 300_000_000, 5_184_000_000];
    const arm = (tag: number) => {
      const delay = random() < 0.5 ? (delays[Math.floor(random() * delays.length)] as number) : 1 + Math.floor(random() * 3_000);
      wheel.schedule(entries[tag] as WheelEntry, delay);
      expected.set(tag, { due: Date.now() - t0 + delay, seq: ++seq });
    };
    for (let i = 0; i < 300; i++) entries.push(new WheelEntry(owner, i));
    for (let i = 0; i < 300; i++) arm(i);
    const order: { tag: number; at: number }[] = [];
    let steps = 0;
    while (expected.size > 0 && steps++ < 5_000) {
      // What the reference says runs next.
      const next = [...expected.entries()].sort((x, y) => x[1].due - y[1].due || x[1].seq - y[1].seq)[0] as [number, { due: number }];
      const now = Date.now() - t0;
      const r = random();
      if (r < 0.05) {
        const tag = Math.floor(random() * 300);
        wheel.cancel(entries[tag] as WheelEntry);
        expected.delete(tag);
        continue;
      }
      if (r < 0.1) {
        arm(Math.floor(random() * 300));
        continue;
      }
      const before = ran.length;
      const dueAt = [...expected.values()].filter((v) => v.due === next[1].due).length;
      const sameMs = [...expected.entries()]
        .filter(([, v]) => v.due === next[1].due)
        .sort((x, y) => x[1].seq - y[1].seq)
        .map(([tag]) => tag);
      await vi.advanceTimersByTimeAsync(next[1].due - now);
      const fired = ran.slice(before);
      // Everything due in that millisecond ran then, in scheduling order (re-armed ones are later).
      expect(fired.slice(0, dueAt).map((f) => f.tag)).toEqual(sameMs);
      for (const f of fired.slice(0, dueAt)) expect(f.at).toBe(next[1].due);
      order.push(...fired);
    }
    expect(order.length).toBeGreaterThan(300);
    expect(expected.size).toBe(0);
    expect(wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

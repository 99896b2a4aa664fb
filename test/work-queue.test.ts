import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock.js';
import { ResourceMonitor } from '../src/index.js';
import { WorkQueue } from '../src/work-queue.js';

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a job at once while the budget of the synchronous stretch lasts', () => {
    const queue = new WorkQueue(systemClock, 3);
    const ran: number[] = [];
    for (let i = 0; i < 3; i++) queue.run(() => ran.push(i));
    expect(ran).toEqual([0, 1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs the jobs past the budget in later turns, budget by budget, in order', async () => {
    const queue = new WorkQueue(systemClock, 3);
    const ran: number[] = [];
    for (let i = 0; i < 8; i++) queue.run(() => ran.push(i));
    expect(ran).toEqual([0, 1, 2]);
    expect(queue.waiting).toBe(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    // The next turn: a setTimeout(0) armed from a timer runs a millisecond later, as in Node.
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(queue.waiting).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives the budget back at the next microtask checkpoint', async () => {
    const queue = new WorkQueue(systemClock, 2);
    const ran: number[] = [];
    queue.run(() => ran.push(0));
    queue.run(() => ran.push(1));
    await Promise.resolve();
    queue.run(() => ran.push(2));
    expect(ran).toEqual([0, 1, 2]);
  });

  it('keeps order: a job added while others wait waits behind them', async () => {
    const queue = new WorkQueue(systemClock, 1);
    const ran: string[] = [];
    queue.run(() => ran.push('a'));
    queue.run(() => ran.push('b'));
    await Promise.resolve();
    queue.run(() => ran.push('c')); // budget back, but b waits: c goes after it
    expect(ran).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it('reports a job that throws and runs the others', async () => {
    const queue = new WorkQueue(systemClock, 5);
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    const ran: number[] = [];
    try {
      queue.run(() => {
        throw new Error('boom');
      });
      queue.run(() => ran.push(1));
      await vi.advanceTimersByTimeAsync(0);
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(ran).toEqual([1]);
  });
});

describe('a burst of failures', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('terminates and restarts every resource when 1,000 report a failure in one tick, over several turns', async () => {
    const contexts: { reportFailure(reason?: unknown): void }[] = [];
    let terminated = 0;
    await using monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 60_000, restartDelay: 100 } });
    monitor.registerType({
      name: 'stormy',
      online: (ctx) => {
        contexts.push(ctx);
      },
      offline: () => {},
      terminate: () => {
        terminated++;
      },
      isAlive: () => true,
    });
    const names = Array.from({ length: 1_000 }, (_, i) => `r${i}`);
    for (const name of names) monitor.addResource({ name, type: 'stormy' });
    await Promise.all(names.map((name) => monitor.online(name)));
    const first = contexts.splice(0);
    for (const ctx of first) ctx.reportFailure('storm');
    // Every one is failed at once; their terminates start within the budget of this tick.
    expect(names.every((name) => monitor.getState(name) === 'failed')).toBe(true);
    await Promise.resolve();
    await Promise.resolve();
    expect(terminated).toBeLessThan(1_000);
    expect(terminated).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(terminated).toBe(1_000);
    await vi.advanceTimersByTimeAsync(100);
    expect(names.every((name) => monitor.getState(name) === 'online')).toBe(true);
    expect(contexts).toHaveLength(1_000);
  });

  it('reacts to a single failure in the same tick (no turn lost to the queue)', async () => {
    let ctx: { reportFailure(reason?: unknown): void } | null = null;
    let terminated = 0;
    await using monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 60_000 } });
    monitor.registerType({
      name: 'one',
      online: (c) => {
        ctx = c;
      },
      offline: () => {},
      terminate: () => {
        terminated++;
      },
      isAlive: () => true,
    });
    monitor.addResource({ name: 'a', type: 'one' });
    await monitor.online('a');
    ctx!.reportFailure('down');
    for (let i = 0; i < 5 && terminated === 0; i++) await Promise.resolve();
    expect(terminated).toBe(1);
    for (let i = 0; i < 10; i++) await Promise.resolve();
    // Only the restart delay is pending: no turn of the queue was needed.
    expect(monitor.inspect('a').nextRestartAt).not.toBeNull();
    expect(vi.getTimerCount()).toBe(1);
  });
});

describe('a failure waiting in the work queue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not terminate the next online period when terminate() and online() came first', async () => {
    const contexts = new Map<string, { reportFailure(reason?: unknown): void }>();
    const terminates = new Map<string, number>();
    await using monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 60_000, restartDelay: 100 } });
    monitor.registerType({
      name: 'stormy',
      online: (ctx) => {
        contexts.set(ctx.resource, ctx);
      },
      offline: () => {},
      terminate: (ctx) => {
        terminates.set(ctx.resource, (terminates.get(ctx.resource) ?? 0) + 1);
      },
      isAlive: () => true,
    });
    const names = Array.from({ length: 300 }, (_, i) => `r${i}`);
    for (const name of names) monitor.addResource({ name, type: 'stormy' });
    await Promise.all(names.map((name) => monitor.online(name)));
    for (const name of names) contexts.get(name)!.reportFailure('storm');
    // The last one's terminate waits in the queue; the hard stop and a new online come first.
    const last = 'r299';
    await monitor.terminate(last);
    expect(terminates.get(last)).toBe(1);
    await monitor.online(last);
    await vi.advanceTimersByTimeAsync(50);
    expect(terminates.get(last)).toBe(1);
    expect(monitor.getState(last)).toBe('online');
    await vi.advanceTimersByTimeAsync(200);
    expect(names.every((name) => terminates.get(name) === 1)).toBe(true);
    expect(monitor.getState(last)).toBe('online');
  });
});

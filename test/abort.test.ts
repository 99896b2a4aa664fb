import { getEventListeners } from 'node:events';
import { createFakeClock } from 'resmon/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { abortable, delay } from '../src/abort.js';
import { MAX_TIMER_MS } from '../src/clock.js';

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('abortable() on the global timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the promise and releases its timer and listener', async () => {
    const controller = new AbortController();
    const work = deferred<string>();
    const wait = abortable(work.promise, { timeoutMs: 1_000, signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    expect(listeners(controller.signal)).toBe(1);
    work.resolve('done');
    await expect(wait).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects with the promise and releases its timer and listener', async () => {
    const controller = new AbortController();
    const work = deferred<string>();
    const wait = abortable(work.promise, { timeoutMs: 1_000, signal: controller.signal });
    work.reject(new Error('broke'));
    await expect(wait).rejects.toThrow('broke');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('settles through onTimeout when the deadline passes, and removes its listener', async () => {
    const controller = new AbortController();
    const wait = abortable(new Promise<string>(() => {}), { timeoutMs: 1_000, signal: controller.signal, onTimeout: () => 'late' });
    await vi.advanceTimersByTimeAsync(999);
    expect(listeners(controller.signal)).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(wait).resolves.toBe('late');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects with what onTimeout throws, built when the deadline passes', async () => {
    let state = 'starting';
    const wait = abortable(new Promise(() => {}), {
      timeoutMs: 50,
      onTimeout: () => {
        throw new Error(`still ${state}`);
      },
    });
    const settled = expect(wait).rejects.toThrow('still stuck');
    state = 'stuck';
    await vi.advanceTimersByTimeAsync(50);
    await settled;
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with a TimeoutError when no onTimeout is given', async () => {
    const wait = abortable(new Promise(() => {}), { timeoutMs: 10 });
    const settled = expect(wait).rejects.toMatchObject({ name: 'TimeoutError' });
    await vi.advanceTimersByTimeAsync(10);
    await settled;
  });

  it("rejects with the signal's reason when it aborts, and cancels its timer", async () => {
    const controller = new AbortController();
    const wait = abortable(new Promise(() => {}), { timeoutMs: 1_000, signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(wait).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects at once for a signal that is already aborted, arming nothing', async () => {
    const controller = new AbortController();
    controller.abort('gone');
    const wait = abortable(new Promise(() => {}), { timeoutMs: 1_000, signal: controller.signal });
    await expect(wait).rejects.toBe('gone');
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('arms no timer without a deadline (undefined or Infinity)', async () => {
    const controller = new AbortController();
    const a = abortable(new Promise(() => {}), { signal: controller.signal });
    const b = abortable(new Promise(() => {}), { timeoutMs: Number.POSITIVE_INFINITY, signal: controller.signal });
    expect(vi.getTimerCount()).toBe(0);
    controller.abort(new Error('stop'));
    await expect(a).rejects.toThrow('stop');
    await expect(b).rejects.toThrow('stop');
    expect(listeners(controller.signal)).toBe(0);
  });

  it('treats a deadline of 0 as a 0 ms timer: the promise wins if it settles first', async () => {
    const early = abortable(Promise.resolve('now'), { timeoutMs: 0, onTimeout: () => 'late' });
    await expect(early).resolves.toBe('now');
    const late = abortable(new Promise<string>(() => {}), { timeoutMs: 0, onTimeout: () => 'late' });
    await vi.advanceTimersByTimeAsync(0);
    await expect(late).resolves.toBe('late');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('abortable() on an injected clock', () => {
  it('arms its deadline on the clock, not on the global timers', async () => {
    const clock = createFakeClock();
    const wait = abortable(new Promise<string>(() => {}), { timeoutMs: 200, clock, onTimeout: () => 'timed out' });
    expect(clock.pending()).toBe(1);
    await clock.advance(199);
    let settled = false;
    void wait.then(() => (settled = true));
    await clock.flush();
    expect(settled).toBe(false);
    await clock.advance(1);
    await expect(wait).resolves.toBe('timed out');
    expect(clock.pending()).toBe(0);
  });

  it('cancels its clock timer when the promise settles first', async () => {
    const clock = createFakeClock();
    const work = deferred<number>();
    const wait = abortable(work.promise, { timeoutMs: 200, clock });
    work.resolve(7);
    await expect(wait).resolves.toBe(7);
    expect(clock.pending()).toBe(0);
  });

  it("splits a deadline past setTimeout's limit into steps", async () => {
    const clock = createFakeClock();
    const wait = abortable(new Promise<string>(() => {}), { timeoutMs: MAX_TIMER_MS + 10, clock, onTimeout: () => 'much later' });
    await clock.advance(MAX_TIMER_MS);
    expect(clock.pending()).toBe(1);
    await clock.advance(10);
    await expect(wait).resolves.toBe('much later');
    expect(clock.pending()).toBe(0);
  });
});

describe('delay()', () => {
  it('resolves after ms on the clock', async () => {
    const clock = createFakeClock();
    const wait = delay(100, { clock });
    await clock.advance(100);
    await expect(wait).resolves.toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it('rejects when the signal aborts, releasing its timer and listener', async () => {
    const clock = createFakeClock();
    const controller = new AbortController();
    const wait = delay(100, { clock, signal: controller.signal });
    controller.abort(new Error('cancelled'));
    await expect(wait).rejects.toThrow('cancelled');
    expect(clock.pending()).toBe(0);
    expect(listeners(controller.signal)).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { oneResource, recordedMonitor } from './helpers/monitor.js';
import { deferred, recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 1_000, isAlivePollInterval: 5_000, restartAction: 'none' } as const;

describe('two-tier polling', () => {
  it('calls isAlive at once when looksAlive fails, and restarts the isAlive schedule from that call', async () => {
    let looks = true;
    const rec = recordingType('rec', { looksAlive: () => looks });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(2_000);
    looks = false;
    await vi.advanceTimersByTimeAsync(1_000); // looksAlive at 3000 fails -> isAlive at 3000
    looks = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([3_000, 8_000, 13_000]);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000, 11_000, 12_000, 13_000]);
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });

  it('fails the resource when the isAlive triggered by a failed looksAlive fails', async () => {
    const rec = recordingType('rec', { looksAlive: () => false, isAlive: () => Promise.resolve(false) });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('a')).toBe('failed');
    expect(of('check').map((c) => `${c.at} ${c.kind} ${c.ok}`)).toEqual(['1000 looksAlive false', '1000 isAlive false']);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_000]);
    await monitor.close();
  });

  it('polls only isAlive when looksAlivePollInterval is 0', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: { ...policy, looksAlivePollInterval: 0 } }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(15_000);
    expect(rec.calls('looksAlive')).toHaveLength(0);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_000, 10_000, 15_000]);
    await monitor.close();
  });

  it('polls only isAlive when the type has no looksAlive', async () => {
    const rec = recordingType();
    const { looksAlive: _drop, ...type } = rec.type;
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_000, 10_000]);
    await monitor.close();
  });

  it('schedules the next poll from the end of the previous one, so slow checks never pile up', async () => {
    const rec = recordingType('rec', {
      looksAlive: () => new Promise((resolve) => setTimeout(() => resolve(true), 400)),
    });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, isAlivePollInterval: 60_000 } }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(4_300);
    expect(rec.calls('looksAlive').map((s) => [s.start, s.end])).toEqual([
      [1_000, 1_400],
      [2_400, 2_800],
      [3_800, 4_200],
    ]);
    await monitor.close();
  });

  it('never runs two checks of one resource at once: a due isAlive waits for a running looksAlive', async () => {
    const rec = recordingType('rec', {
      looksAlive: () => new Promise((resolve) => setTimeout(() => resolve(true), 300)),
    });
    await using recorded = oneResource(rec.type, { defaults: { looksAlivePollInterval: 4_900, isAlivePollInterval: 5_000 } }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(6_000);
    expect(rec.calls('looksAlive').map((s) => [s.start, s.end])).toEqual([[4_900, 5_200]]);
    expect(rec.calls('isAlive').map((s) => [s.start, s.end])).toEqual([[5_200, 5_200]]);
    expect(rec.overlaps()).toEqual([]);
    await monitor.close();
  });

  it('spreads polls with pollJitter: each waits between 1x and (1 + jitter)x its interval', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: { ...policy, pollJitter: 0.2 } }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(3_300);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([1_100, 2_200, 3_300]);
    random.mockRestore();
    await monitor.close();
  });

  it('fails the resource on a check that returns a non-boolean, throws, or rejects with a non-Error, with the reason in the event', async () => {
    const cases: [string, () => unknown, string][] = [
      ['string', () => 'yes', 'isAlive returned a non-boolean ("yes")'],
      ['throw', () => {
        throw new Error('boom');
      }, 'isAlive threw: boom'],
      ['reject', () => Promise.reject(42), 'isAlive threw: 42'],
    ];
    for (const [name, isAlive, reason] of cases) {
      const rec = recordingType(name, { isAlive });
      await using recorded = recordedMonitor({ defaults: { ...policy, looksAlivePollInterval: 0 } });
      const { monitor, of } = recorded;
      monitor.registerType(rec.type);
      monitor.addResource({ name, type: name });
      await monitor.online(name);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(monitor.getState(name)).toBe('failed');
      expect(of('stateChange').at(-1)?.reason).toBe(reason);
      await monitor.close();
    }
  });

  it('fails the resource outright when a looksAlive passes deadlockTimeout, and aborts its signal', async () => {
    const rec = recordingType('rec', { looksAlive: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, deadlockTimeout: 2_000 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(monitor.getState('a')).toBe('failed');
    expect(of('callTimeout')).toMatchObject([{ entryPoint: 'looksAlive', timeoutMs: 2_000, at: 3_000 }]);
    expect(rec.calls('looksAlive')[0]?.aborted).toBe(true);
    expect(rec.calls('isAlive')).toHaveLength(0);
    // terminate waits abortGrace (1 000 ms by default) for the hung check to settle, then runs.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([4_000]);
    await monitor.close();
  });

  it('emits slowCall for a check slower than callBudget', async () => {
    const rec = recordingType('rec', { looksAlive: () => new Promise((r) => setTimeout(() => r(true), 350)) });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, callBudget: 300 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_350);
    expect(of('slowCall')).toEqual([{ event: 'slowCall', resource: 'a', at: 1_350, entryPoint: 'looksAlive', durationMs: 350, budgetMs: 300 }]);
    await monitor.close();
  });

  it('ignores a check that ends after the resource went offline', async () => {
    const gate = deferred<boolean>();
    const rec = recordingType('rec', { looksAlive: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: policy, abortGrace: 100 }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    const off = monitor.offline('a');
    await vi.advanceTimersByTimeAsync(100);
    await off;
    gate.resolve(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(of('check')).toEqual([]);
    expect(monitor.getState('a')).toBe('offline');
    await monitor.close();
  });
});

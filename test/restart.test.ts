import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from 'resmon';
import { oneResource, recordedMonitor, TestMonitor } from './helpers/monitor.js';
import { deferred, flaky } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const base = {
  looksAlivePollInterval: 0,
  isAlivePollInterval: 1_000,
  restartDelay: 500,
  restartThreshold: 2,
  restartPeriod: 60_000,
  retryPeriodOnFailure: 3_600_000,
} as const;

describe('restart policy', () => {
  it('restarts after exactly restartDelay, counted from the end of the failure terminate', async () => {
    const gate = deferred();
    const { state, rec } = flaky();
    rec.type.terminate = () => gate.promise;
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartAction: 'restart' } }, { name: 'a' });
    const { monitor, of, transitions } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000);
    state.broken = false;
    await vi.advanceTimersByTimeAsync(200);
    gate.resolve(); // terminate ends at 1200
    await vi.advanceTimersByTimeAsync(499);
    expect(rec.calls('online')).toHaveLength(1);
    expect(monitor.inspect('a').nextRestartAt).toBe(1_700);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls('online').map((s) => s.start)).toEqual([0, 1_700]);
    expect(monitor.getState('a')).toBe('online');
    expect(of('restartScheduled')).toEqual([{ event: 'restartScheduled', resource: 'a', at: 1_200, attempt: 1, delayMs: 500, retry: false }]);
    expect(transitions()).toEqual([
      '0 offline->online-pending',
      '0 online-pending->online',
      '1000 online->failed',
      '1700 failed->online-pending',
      '1700 online-pending->online',
    ]);
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 1, total: 1, stableAt: null });
    await monitor.close();
  });

  it('escalates once when the threshold is spent inside the window, and does not restart again', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartAction: 'restart-escalate' } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    // fail at 1000, restart at 1500 (online), fail at 2500, restart at 3000, fail at 4000: threshold (2) spent.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('online').map((s) => s.start)).toEqual([0, 1_500, 3_000]);
    expect(of('escalated')).toEqual([{ event: 'escalated', resource: 'a', at: 4_000, restarts: 2, periodMs: 60_000 }]);
    expect(monitor.getState('a')).toBe('failed');
    expect(monitor.inspect('a')).toMatchObject({ restarts: { inWindow: 2, total: 2 }, nextRestartAt: 4_000 + 3_600_000 });
    expect(of('restartScheduled').map((e) => [e.at, e.attempt, e.delayMs, e.retry])).toEqual([
      [1_000, 1, 500, false],
      [2_500, 2, 500, false],
      [4_000, 1, 3_600_000, true],
    ]);
    await monitor.close();
  });

  it("with 'restart' stays failed without escalating when the threshold is spent", async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartAction: 'restart', restartThreshold: 1 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('online')).toHaveLength(2);
    expect(of('escalated')).toEqual([]);
    expect(monitor.getState('a')).toBe('failed');
    await monitor.close();
  });

  it("with 'none' stays failed until someone calls online() or offline()", async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartAction: 'none' } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(100_000);
    expect(rec.calls('online')).toHaveLength(1);
    expect(of('restartScheduled')).toEqual([]);
    expect(monitor.inspect('a').nextRestartAt).toBeNull();
    state.broken = false;
    await monitor.online('a');
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });

  it('restarts again once the window has slid past the old restarts', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(
      rec.type,
      { defaults: { ...base, restartAction: 'restart-escalate', restartThreshold: 1, restartPeriod: 10_000, retryPeriodOnFailure: 10_000 } },
      { name: 'a' },
    );
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000); // fails at 1000
    state.broken = false;
    await vi.advanceTimersByTimeAsync(500); // restart 1 at 1500
    expect(monitor.inspect('a').restarts.inWindow).toBe(1);
    await vi.advanceTimersByTimeAsync(11_000); // now 12500: the restart at 1500 left the window at 11500
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 1, stableAt: null });
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000); // fails at 13500 (isAlive every 1000 from 1500)
    expect(of('escalated')).toEqual([]);
    expect(of('restartScheduled').at(-1)).toMatchObject({ at: 13_500, attempt: 1, delayMs: 500, retry: false });
    await monitor.close();
  });

  it('backs off by restartBackoff per restart in the window, caps at maxRestartDelay, and resets when the window empties', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(
      rec.type,
      {
        defaults: { ...base, restartAction: 'restart', restartThreshold: 10, restartDelay: 100, restartBackoff: 2, maxRestartDelay: 1_000, restartPeriod: 20_000, retryPeriodOnFailure: 20_000 },
      },
      { name: 'a' },
    );
    const { monitor, of } = recorded;
    state.refuse = true; // every online fails at once
    await monitor.online('a').catch(() => {});
    await vi.advanceTimersByTimeAsync(5_000);
    const delays = of('restartScheduled').map((e) => e.delayMs);
    expect(delays.slice(0, 7)).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
    // Let the window empty: stop failing, wait out the period, then fail once more.
    state.refuse = false;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(25_000);
    expect(monitor.inspect('a').restarts.inWindow).toBe(0);
    const before = of('restartScheduled').length;
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(of('restartScheduled').slice(before).map((e) => e.delayMs)).toEqual([100]);
    await monitor.close();
  });

  it('retries after retryPeriodOnFailure with a fresh window, and the retry does not count as a restart', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(
      rec.type,
      { defaults: { ...base, restartAction: 'restart-escalate', restartThreshold: 1, retryPeriodOnFailure: 100_000 } },
      { name: 'a' },
    );
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(2_500); // fail 1000, restart 1500, fail 2500 -> escalate, retry at 102500
    expect(of('escalated')).toHaveLength(1);
    expect(monitor.inspect('a').nextRestartAt).toBe(102_500);
    state.broken = false;
    await vi.advanceTimersByTimeAsync(100_000);
    expect(rec.calls('online').map((s) => s.start)).toEqual([0, 1_500, 102_500]);
    expect(monitor.getState('a')).toBe('online');
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 1, stableAt: null });
    // The window is fresh: the next failure restarts instead of escalating.
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(of('restartScheduled').at(-1)).toMatchObject({ retry: false, delayMs: 500 });
    expect(of('escalated')).toHaveLength(1);
    await monitor.close();
  });

  it('never retries when retryPeriodOnFailure is Infinity', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartThreshold: 0, retryPeriodOnFailure: Infinity } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(of('escalated')).toHaveLength(1);
    expect(of('restartScheduled')).toEqual([]);
    expect(monitor.inspect('a').nextRestartAt).toBeNull();
    await monitor.close();
  });

  it('offline() and terminate() cancel a scheduled restart or retry; close() cancels all', async () => {
    for (const cancel of ['offline', 'terminate', 'close'] as const) {
      const t0 = Date.now();
      const { state, rec } = flaky();
      await using monitor = new TestMonitor({ defaults: { ...base, restartAction: 'restart', restartDelay: 5_000 } });
      monitor.registerType(rec.type);
      monitor.addResource({ name: 'a', type: 'flaky' });
      await monitor.online('a');
      state.broken = true;
      await vi.advanceTimersByTimeAsync(1_000);
      expect(monitor.inspect('a').nextRestartAt).toBe(t0 + 1_000 + 5_000);
      if (cancel === 'close') await monitor.close();
      else {
        await monitor[cancel]('a');
        expect(monitor.inspect('a').nextRestartAt).toBeNull();
        expect(monitor.getState('a')).toBe('offline');
      }
      await vi.advanceTimersByTimeAsync(10_000);
      expect(rec.calls('online')).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      await monitor.close();
    }
  });

  it('online() on a failed resource starts at once and clears the spent window', async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(rec.type, { defaults: { ...base, restartAction: 'restart-escalate', restartThreshold: 1 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    state.broken = true;
    await vi.advanceTimersByTimeAsync(2_500); // escalated at 2500
    expect(of('escalated')).toHaveLength(1);
    state.broken = false;
    await monitor.online('a');
    expect(rec.calls('online').at(-1)?.start).toBe(2_500);
    expect(monitor.inspect('a')).toMatchObject({ state: 'online', nextRestartAt: null, restarts: { inWindow: 0, total: 1 } });
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(of('restartScheduled').at(-1)).toMatchObject({ at: 3_500, retry: false });
    await monitor.close();
  });

  it('does not restart after a failure caused by a ConfigError (bad properties do not heal by restarting)', async () => {
    await using recorded = recordedMonitor({ defaults: { ...base, restartAction: 'restart-escalate' } });
    const { monitor, of } = recorded;
    monitor.registerType({
      name: 'picky',
      online: () => Promise.reject(new ConfigError('properties.port', 'x', 'must be a number')),
      offline() {},
      terminate() {},
      isAlive: () => true,
    });
    monitor.addResource({ name: 'a', type: 'picky' });
    await expect(monitor.online('a')).rejects.toMatchObject({ code: 'ERR_RESMON_CONFIG' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(monitor.getState('a')).toBe('failed');
    expect(of('restartScheduled')).toEqual([]);
    await monitor.close();
  });

  it("follows the README's worked timeline", async () => {
    const { state, rec } = flaky();
    await using recorded = oneResource(
      rec.type,
      {
        defaults: { ...base, restartThreshold: 2, restartPeriod: 60_000, restartDelay: 500, restartBackoff: 2, retryPeriodOnFailure: 3_600_000 },
      },
      { name: 'a' },
    );
    const { monitor, of, transitions } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(999);
    state.broken = true;
    await vi.advanceTimersByTimeAsync(3_501); // t = 4 500
    expect(of('restartScheduled').map((e) => `${e.at} ${e.delayMs} ${e.retry}`)).toEqual(['1000 500 false', '2500 1000 false', '4500 3600000 true']);
    expect(of('escalated')).toMatchObject([{ at: 4_500, restarts: 2 }]);
    state.broken = false;
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(transitions().filter((t) => t.includes('online-pending->online'))).toEqual([
      '0 online-pending->online',
      '1500 online-pending->online',
      '3500 online-pending->online',
      '3604500 online-pending->online',
    ]);
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 2, stableAt: null });
    await monitor.close();
  });

  it('restarts 10,000 resources that fail in one tick, every one back online', async () => {
    // Real timers: this is about the monitor under load, not about exact times (the event-loop
    // delay meanwhile is measured by bench/, not asserted here).
    vi.useRealTimers();
    const reports: ((reason?: unknown) => void)[] = [];
    const type = {
      name: 'n',
      online(ctx: { reportFailure: (reason?: unknown) => void }) {
        reports.push(ctx.reportFailure);
      },
      offline() {},
      terminate() {},
      isAlive: () => true,
    };
    await using monitor = new TestMonitor({ defaults: { ...base, isAlivePollInterval: 60_000, restartAction: 'restart', restartDelay: 10 } });
    monitor.registerType(type);
    const names = Array.from({ length: 10_000 }, (_, i) => `r${i}`);
    for (const name of names) monitor.addResource({ name, type: 'n' });
    await Promise.all(names.map((n) => monitor.online(n)));
    for (const report of reports) report(new Error('all at once'));
    expect(monitor.snapshot().every((s) => s.state === 'failed')).toBe(true);
    await Promise.all(names.map((n) => monitor.waitFor(n, 'online')));
    const states = monitor.snapshot();
    expect(states.filter((s) => s.state === 'online')).toHaveLength(10_000);
    expect(states.every((s) => s.restarts.total === 1 && s.generation === 2)).toBe(true);
    await monitor.close();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isCallTimeoutError, type ResourceContext } from 'resmon';
import { oneResource, recordedMonitor } from './helpers/monitor.js';
import { recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 1_000, isAlivePollInterval: 5_000, restartAction: 'none', pendingTimeout: 1_500 } as const;

describe('deadlines', () => {
  it('fails online after pendingTimeout of silence, and each reportProgress resets that clock', async () => {
    let signal: AbortSignal | undefined;
    const rec = recordingType('rec', {
      online: (ctx) => {
        signal = ctx.signal;
        // Report at 1000, 2000, 3000, then fall silent.
        for (const t of [1_000, 2_000, 3_000]) setTimeout(() => ctx.reportProgress(`step ${t}`), t);
        return new Promise(() => {});
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of, transitions } = recorded;
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4_499);
    expect(monitor.getState('a')).toBe('online-pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(monitor.getState('a')).toBe('failed');
    expect(signal?.aborted).toBe(true);
    const error = await attempt;
    expect(isCallTimeoutError(error)).toBe(true);
    expect(of('progress').map((p) => `${p.at} ${p.entryPoint} ${p.message}`)).toEqual([
      '1000 online step 1000',
      '2000 online step 2000',
      '3000 online step 3000',
    ]);
    expect(of('callTimeout')).toMatchObject([{ entryPoint: 'online', timeoutMs: 1_500, at: 4_500 }]);
    expect(transitions()).toEqual(['0 offline->online-pending', '4500 online-pending->failed']);
    // terminate follows, after abortGrace since the online never settles.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([5_500]);
    await monitor.close();
  });

  it('keeps a resource pending as long as progress keeps coming (Windows semantics)', async () => {
    const rec = recordingType('rec', {
      online: (ctx) =>
        new Promise<void>((resolve) => {
          const tick = setInterval(() => ctx.reportProgress(), 1_000);
          setTimeout(() => {
            clearInterval(tick);
            resolve();
          }, 20_000);
        }),
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    const on = monitor.online('a');
    await vi.advanceTimersByTimeAsync(20_000);
    await on;
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });

  it('ignores reportProgress from a check', async () => {
    const rec = recordingType('rec', {
      looksAlive: (ctx) => {
        ctx.reportProgress('not pending');
        return true;
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(of('progress')).toEqual([]);
    await monitor.close();
  });

  it('terminates when offline makes no progress for pendingTimeout, and ends offline saying so', async () => {
    const rec = recordingType('rec', { offline: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: policy, abortGrace: 200 }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    const off = monitor.offline('a');
    await vi.advanceTimersByTimeAsync(1_700);
    await off;
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_700]);
    const last = of('stateChange').at(-1);
    expect(last).toMatchObject({ from: 'offline-pending', to: 'offline', at: 1_700 });
    expect(last?.reason).toMatch(/offline made no progress for 1500 ms.*terminated/);
    await monitor.close();
  });

  it('terminates when offline rejects, and ends offline', async () => {
    const rec = recordingType('rec', { offline: () => Promise.reject(new Error('stuck')) });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await monitor.offline('a');
    expect(rec.calls('terminate')).toHaveLength(1);
    expect(of('stateChange').at(-1)?.reason).toBe('offline failed: stuck; terminated');
    await monitor.close();
  });

  it('bounds open, terminate and close by deadlockTimeout', async () => {
    const rec = recordingType('rec', {
      open: () => new Promise(() => {}),
    });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, deadlockTimeout: 3_000 }, abortGrace: 0 }, { name: 'a' });
    const { monitor, of } = recorded;
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(isCallTimeoutError(await attempt)).toBe(true);
    expect(monitor.getState('a')).toBe('failed');
    expect(of('callTimeout')).toMatchObject([{ entryPoint: 'open', timeoutMs: 3_000 }]);
    // Never opened: nothing to terminate.
    expect(rec.calls('terminate')).toHaveLength(0);
    await monitor.close();

    const rec2 = recordingType('rec2', { terminate: () => new Promise(() => {}), close: () => new Promise(() => {}) });
    await using second = recordedMonitor({ defaults: { ...policy, deadlockTimeout: 3_000 }, abortGrace: 10 });
    second.monitor.registerType(rec2.type);
    second.monitor.addResource({ name: 'b', type: 'rec2' });
    await second.monitor.online('b');
    const removed = second.monitor.removeResource('b');
    await vi.advanceTimersByTimeAsync(6_010);
    await removed;
    // (The clock stands at 3 000 after the first part.) close waits abortGrace for the hung
    // terminate, then gets its own deadline.
    expect(rec2.calls('close').map((s) => s.start)).toEqual([6_010]);
    expect(second.of('callTimeout').map((e) => `${e.at} ${e.entryPoint}`)).toEqual(['6000 terminate', '9010 close']);
    await second.monitor.close();
  });

  it('emits slowCall for terminate, open and close beyond callBudget, never for online or offline', async () => {
    const slow = () => new Promise<void>((r) => setTimeout(r, 500));
    const rec = recordingType('rec', { open: slow, online: slow, offline: slow, terminate: slow, close: slow });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, callBudget: 300 } }, { name: 'a' });
    const { monitor, of } = recorded;
    const on = monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    await on;
    const t = monitor.terminate('a');
    await vi.advanceTimersByTimeAsync(500);
    await t;
    const removed = monitor.removeResource('a');
    await vi.advanceTimersByTimeAsync(500);
    await removed;
    expect(of('slowCall').map((e) => e.entryPoint)).toEqual(['open', 'terminate', 'close']);
    await monitor.close();
  });

  it('splits waits longer than setTimeout allows (a 30-day retryPeriodOnFailure)', async () => {
    const day = 24 * 3_600_000;
    const rec = recordingType('rec', { isAlive: () => false });
    await using recorded = oneResource(
      rec.type,
      {
        defaults: { ...policy, restartAction: 'restart', restartThreshold: 0, restartPeriod: 1_000, retryPeriodOnFailure: 30 * day },
      },
      { name: 'a' },
    );
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(monitor.inspect('a').nextRestartAt).toBe(5_000 + 30 * day);
    await vi.advanceTimersByTimeAsync(30 * day - 1);
    expect(rec.calls('online')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls('online')).toHaveLength(2);
    await monitor.close();
  });
});

describe('reportFailure', () => {
  it('fails an online resource at once, without waiting for a poll', async () => {
    let report: ResourceContext['reportFailure'] | undefined;
    const rec = recordingType('rec', {
      online: (ctx) => {
        report = ctx.reportFailure;
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(250);
    report?.(new Error('connection dropped'));
    expect(monitor.getState('a')).toBe('failed');
    expect(of('stateChange').at(-1)).toMatchObject({ at: 250, reason: 'reportFailure: connection dropped' });
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([250]);
    await monitor.close();
  });

  it('fails the attempt during online-pending; online() rejects with the reason', async () => {
    const rec = recordingType('rec', {
      online: (ctx) => {
        setTimeout(() => ctx.reportFailure(new Error('port taken')), 100);
        return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    expect(await attempt).toMatchObject({ message: 'port taken' });
    expect(monitor.getState('a')).toBe('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([100]);
    await monitor.close();
  });

  it('is ignored after termination and from an earlier generation', async () => {
    const reports: ResourceContext['reportFailure'][] = [];
    const rec = recordingType('rec', {
      online: (ctx) => {
        reports.push(ctx.reportFailure);
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    await monitor.terminate('a');
    reports[0]?.('late');
    expect(monitor.getState('a')).toBe('offline');
    await monitor.online('a');
    reports[0]?.('from generation 1');
    expect(monitor.getState('a')).toBe('online');
    reports[1]?.('now');
    expect(monitor.getState('a')).toBe('failed');
    expect(transitions()).toEqual([
      '0 offline->online-pending',
      '0 online-pending->online',
      '0 online->offline',
      '0 offline->online-pending',
      '0 online-pending->online',
      '0 online->failed',
    ]);
    await monitor.close();
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isStateError } from 'resmon';
import { oneResource, TestMonitor } from './helpers/monitor.js';
import { deferred, recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 100, isAlivePollInterval: 250, restartAction: 'restart', restartThreshold: 1000, restartDelay: 50 } as const;
const slow = (ms: number, value: unknown = undefined) => () => new Promise((r) => setTimeout(() => r(value), ms));

describe('DESIGN §5: what a plugin author may rely on', () => {
  it('1. no two entry points of a resource run at once (abandoned calls aside), under a storm of operations', async () => {
    let flip = 0;
    const rec = recordingType('rec', {
      online: slow(70),
      offline: slow(40),
      terminate: slow(30),
      looksAlive: () => new Promise((r) => setTimeout(() => r(++flip % 7 !== 0), 35)),
      isAlive: () => new Promise((r) => setTimeout(() => r(++flip % 5 !== 0), 45)),
    });
    await using monitor = new TestMonitor({ defaults: policy, abortGrace: 20 });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    monitor.addResource({ name: 'b', type: 'rec' });
    const ops = [
      () => monitor.online('a'),
      () => monitor.offline('a'),
      () => monitor.terminate('a'),
      () => monitor.online('b'),
      () => monitor.terminate('b'),
      () => monitor.offline('b'),
    ];
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      pending.push(ops[(i * 7) % ops.length]!().catch((e: unknown) => (isStateError(e) ? null : e)));
      await vi.advanceTimersByTimeAsync(13 + ((i * 31) % 57));
    }
    await vi.advanceTimersByTimeAsync(1_000);
    const close = monitor.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await close;
    expect((await Promise.all(pending)).filter((e) => e !== null && e !== undefined)).toEqual([]);
    expect(rec.spans.length).toBeGreaterThan(200);
    expect(rec.calls('terminate').length).toBeGreaterThan(10);
    expect(rec.overlaps()).toEqual([]);
  });

  it('2. terminate never queues behind a hung call: it aborts it, waits abortGrace, then runs', async () => {
    const late = deferred();
    const rec = recordingType('rec', { online: () => late.promise }); // ignores its signal
    await using recorded = oneResource(rec.type, { defaults: policy, abortGrace: 1_000 }, { name: 'a' });
    const { monitor, transitions } = recorded;
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    const t = monitor.terminate('a');
    expect(isStateError(await attempt)).toBe(true);
    expect(rec.calls('online')[0]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.calls('terminate')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_500]);
    await t;
    // The hung online resolves late: nothing changes.
    late.resolve();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(monitor.getState('a')).toBe('offline');
    expect(transitions()).toEqual(['0 offline->online-pending', '1500 online-pending->offline']);
    await monitor.close();
  });

  it('2. terminate runs as soon as the aborted call settles, if that is before abortGrace', async () => {
    const rec = recordingType('rec', {
      online: (ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => setTimeout(resolve, 30))),
    });
    await using monitor = new TestMonitor({ defaults: policy, abortGrace: 1_000 });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    const attempt = monitor.online('a').catch(() => {});
    await vi.advanceTimersByTimeAsync(100);
    const t = monitor.terminate('a');
    await vi.advanceTimersByTimeAsync(30);
    await t;
    await attempt;
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([130]);
    await monitor.close();
  });

  it('2. holds whatever triggers terminate: a deadline, offline(), close()', async () => {
    const rec = recordingType('rec', { isAlive: () => new Promise(() => {}), offline: () => new Promise(() => {}) });
    await using monitor = new TestMonitor({ defaults: { ...policy, looksAlivePollInterval: 0, deadlockTimeout: 1_000, pendingTimeout: 2_000, restartAction: 'none' }, abortGrace: 300 });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'deadline', type: 'rec' });
    await monitor.online('deadline');
    await vi.advanceTimersByTimeAsync(250 + 1_000 + 300);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_550]);

    monitor.addResource({ name: 'closing', type: 'rec' });
    await monitor.online('closing');
    const closed = monitor.close();
    await vi.advanceTimersByTimeAsync(2_000 + 300);
    await closed;
    // offline hung until pendingTimeout (2 000 ms), then terminate waited abortGrace (300 ms).
    expect(rec.calls('terminate').filter((s) => s.resource === 'closing').map((s) => s.start)).toEqual([1_550 + 2_300]);
  });

  it('3. checks of one resource never overlap or pile up, even when they take longer than their interval', async () => {
    const rec = recordingType('rec', { looksAlive: slow(250, true), isAlive: slow(400, true) });
    await using monitor = new TestMonitor({ defaults: { ...policy, looksAlivePollInterval: 100, isAlivePollInterval: 100 } });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.overlaps()).toEqual([]);
    // Each kind ran at most once per (its duration + its interval); none queued behind another of its kind.
    expect(rec.calls('looksAlive').length).toBeLessThanOrEqual(10_000 / 350);
    expect(rec.calls('isAlive').length).toBeLessThanOrEqual(10_000 / 500);
    const closed = monitor.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await closed;
  });

  it('4. different resources never wait on each other', async () => {
    const rec = recordingType('rec', {
      online: (ctx) => (ctx.resource === 'stuck' ? new Promise(() => {}) : undefined),
      isAlive: (ctx) => (ctx.resource === 'stuck' ? new Promise(() => {}) : true),
    });
    await using monitor = new TestMonitor({ defaults: { ...policy, looksAlivePollInterval: 0, isAlivePollInterval: 1_000 } });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'stuck', type: 'rec' });
    monitor.addResource({ name: 'fine', type: 'rec' });
    void monitor.online('stuck').catch(() => {});
    await monitor.online('fine');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(rec.calls('isAlive').filter((s) => s.resource === 'fine').map((s) => s.start)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
    expect(monitor.getState('stuck')).toBe('online-pending');
    const closed = monitor.close();
    await vi.advanceTimersByTimeAsync(5_000);
    await closed;
  });
});

describe('DESIGN §5.5: a misbehaving plugin never causes an unhandled rejection or a wrong state', () => {
  // vitest fails the run on any unhandled rejection or uncaught exception, so each case below
  // also checks that.
  const online = { ...policy, restartAction: 'none', looksAlivePollInterval: 0, isAlivePollInterval: 1_000 } as const;

  it('online throws synchronously: online() rejects with that error, the resource fails and is terminated', async () => {
    const boom = new Error('sync boom');
    const rec = recordingType('rec', {
      online: () => {
        throw boom;
      },
    });
    await using monitor = new TestMonitor({ defaults: online });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await expect(monitor.online('a')).rejects.toBe(boom);
    expect(monitor.getState('a')).toBe('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.calls('terminate')).toHaveLength(1);
    await monitor.close();
  });

  it('online rejects with a non-Error: online() rejects with a ResmonError that keeps it as cause', async () => {
    const rec = recordingType('rec', { online: () => Promise.reject('nope') });
    await using monitor = new TestMonitor({ defaults: online });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await expect(monitor.online('a')).rejects.toMatchObject({ code: 'ERR_RESMON', cause: 'nope' });
    expect(monitor.getState('a')).toBe('failed');
    await monitor.close();
  });

  it('a check returns a non-boolean: the resource fails', async () => {
    const rec = recordingType('rec', { isAlive: () => 1 });
    await using monitor = new TestMonitor({ defaults: online });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('a')).toBe('failed');
    await monitor.close();
  });

  it('a check never settles: the deadline fails the resource', async () => {
    const rec = recordingType('rec', { isAlive: () => new Promise(() => {}) });
    await using monitor = new TestMonitor({ defaults: { ...online, deadlockTimeout: 500 } });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(monitor.getState('a')).toBe('failed');
    const closed = monitor.close();
    await vi.advanceTimersByTimeAsync(1_000);
    await closed;
  });

  it('calls settle after they were abandoned, by resolving and by rejecting: nothing changes', async () => {
    const calls: ReturnType<typeof deferred<boolean>>[] = [];
    const rec = recordingType('rec', {
      isAlive: () => {
        const d = deferred<boolean>();
        calls.push(d);
        return d.promise;
      },
    });
    await using recorded = oneResource(rec.type, { defaults: { ...online, deadlockTimeout: 500 }, abortGrace: 100 }, { name: 'a' });
    const { monitor, transitions } = recorded;
    monitor.addResource({ name: 'b', type: 'rec' });
    await monitor.online('a');
    await monitor.online('b');
    await vi.advanceTimersByTimeAsync(1_600);
    expect(monitor.getState('a')).toBe('failed');
    calls[0]?.resolve(true);
    calls[1]?.reject(new Error('late'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('a')).toBe('failed');
    expect(monitor.getState('b')).toBe('failed');
    expect(transitions('a')).toEqual(['0 offline->online-pending', '0 online-pending->online', '1500 online->failed']);
    await monitor.close();
  });

  it('reportFailure after termination, and a terminate that throws: logged, no wrong state', async () => {
    let report: ((reason?: unknown) => void) | undefined;
    const errors: unknown[] = [];
    const rec = recordingType('rec', {
      online: (ctx) => {
        report = ctx.reportFailure;
      },
      terminate: () => {
        throw new Error('terminate exploded');
      },
    });
    await using monitor = new TestMonitor({
      defaults: online,
      logger: { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => errors.push(args) },
    });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await monitor.terminate('a');
    report?.(new Error('too late'));
    report?.();
    expect(monitor.getState('a')).toBe('offline');
    expect(JSON.stringify(errors)).toMatch(/terminate failed: terminate exploded/);
    await monitor.close();
  });

  it('a listener that throws does not break the monitor', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: online });
    monitor.on('stateChange', () => {
      throw new Error('listener bug');
    });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });
});

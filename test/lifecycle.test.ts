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

const fast = { looksAlivePollInterval: 1_000, isAlivePollInterval: 10_000, restartAction: 'none' } as const;

describe('a resource type written by a user', () => {
  it('goes online, is polled on both schedules, fails on a bad check, is terminated, and goes offline on request', async () => {
    let healthy = true;
    const rec = recordingType('web', { isAlive: () => healthy });
    await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'web' });
    const { monitor, transitions, of } = recorded;

    await monitor.online('web');
    expect(monitor.getState('web')).toBe('online');
    expect(rec.calls('open')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000]);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([10_000]);

    healthy = false;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([10_000, 20_000]);
    expect(monitor.getState('web')).toBe('failed');
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([20_000]);
    expect(of('check').filter((c) => !c.ok)).toMatchObject([{ kind: 'isAlive', reason: 'returned false', at: 20_000 }]);

    // No more polls once failed.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(rec.calls('isAlive')).toHaveLength(2);

    await monitor.offline('web');
    expect(monitor.getState('web')).toBe('offline');
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '20000 online->failed', '50000 failed->offline']);
    await monitor.close();
  });

  it('takes an online resource offline: stops polls, calls offline, ends offline', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(2_500);
    await monitor.offline('a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.calls('looksAlive')).toHaveLength(2);
    expect(rec.calls('offline')).toHaveLength(1);
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '2500 online->offline-pending', '2500 offline-pending->offline']);
    await monitor.close();
  });

  it('calls open once, before the first online only', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await monitor.offline('a');
    await monitor.online('a');
    expect(rec.calls('open')).toHaveLength(1);
    expect(rec.calls('online')).toHaveLength(2);
    expect(monitor.inspect('a').generation).toBe(2);
    await monitor.close();
  });

  it('passes the handle from open and the validated properties to every entry point', async () => {
    const seen: unknown[] = [];
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType<{ port: number }, { id: number }>({
      name: 't',
      validate: (p) => ({ port: Number((p as { port: string }).port) }),
      open: () => ({ id: 7 }),
      online: (ctx) => {
        seen.push(ctx.properties.port, ctx.handle.id, ctx.resource);
      },
      offline: () => {},
      terminate: () => {},
      isAlive: () => true,
    });
    monitor.addResource({ name: 'x', type: 't', properties: { port: '8080' } });
    await monitor.online('x');
    expect(seen).toEqual([8080, 7, 'x']);
    await monitor.close();
  });

  it('shares one attempt between concurrent online() calls, and one offline between concurrent offline() calls', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { online: () => gate.promise, offline: () => gate.promise });
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    const both = Promise.all([monitor.online('a'), monitor.online('a')]);
    gate.resolve();
    await both;
    expect(rec.calls('online')).toHaveLength(1);
    await Promise.all([monitor.offline('a'), monitor.offline('a')]);
    expect(rec.calls('offline')).toHaveLength(1);
    await monitor.close();
  });

  it('waits for offline-pending to finish before a new online attempt', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { offline: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    const off = monitor.offline('a');
    const on = monitor.online('a');
    await vi.advanceTimersByTimeAsync(500);
    expect(monitor.getState('a')).toBe('offline-pending');
    gate.resolve();
    await Promise.all([off, on]);
    expect(monitor.getState('a')).toBe('online');
    expect(transitions().slice(2)).toEqual(['0 online->offline-pending', '500 offline-pending->offline', '500 offline->online-pending', '500 online-pending->online']);
    await monitor.close();
  });

  it('rejects an online() whose attempt offline() abandoned with StateError, and takes the resource offline once online settles', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { online: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: fast, abortGrace: 1_000 }, { name: 'a' });
    const { monitor, transitions } = recorded;
    const on = monitor.online('a');
    const onError = on.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const off = monitor.offline('a');
    expect(isStateError(await onError)).toBe(true);
    expect(rec.calls('online')[0]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    gate.resolve();
    await off;
    expect(rec.calls('offline').map((s) => s.start)).toEqual([300]);
    expect(rec.calls('terminate')).toHaveLength(0);
    expect(transitions()).toEqual(['0 offline->online-pending', '100 online-pending->offline-pending', '300 offline-pending->offline']);
    await monitor.close();
  });

  it('terminates instead when an online abandoned by offline() has not settled after abortGrace', async () => {
    const rec = recordingType('rec', { online: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: fast, abortGrace: 1_000 }, { name: 'a' });
    const { monitor, transitions } = recorded;
    const on = monitor.online('a').catch(() => {});
    await vi.advanceTimersByTimeAsync(100);
    const off = monitor.offline('a');
    await vi.advanceTimersByTimeAsync(1_000);
    await off;
    await on;
    expect(rec.calls('offline')).toHaveLength(0);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_100]);
    expect(transitions()).toEqual(['0 offline->online-pending', '100 online-pending->offline-pending', '1100 offline-pending->offline']);
    await monitor.close();
  });

  it('moves a failed resource offline on offline(), after the failure terminate has finished', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { isAlive: () => false, terminate: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(monitor.getState('a')).toBe('failed');
    const off = monitor.offline('a');
    await vi.advanceTimersByTimeAsync(50);
    expect(monitor.getState('a')).toBe('failed');
    gate.resolve();
    await off;
    expect(transitions().slice(2)).toEqual(['10000 online->failed', '10050 failed->offline']);
    await monitor.close();
  });

  it('shares one offline between offline() calls on a failed resource, and schedules no restart for it', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { isAlive: () => false, terminate: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: { ...fast, restartAction: 'restart' } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10_000);
    const both = Promise.all([monitor.offline('a'), monitor.offline('a')]);
    await vi.advanceTimersByTimeAsync(10);
    gate.resolve();
    await both;
    expect(monitor.getState('a')).toBe('offline');
    expect(of('restartScheduled')).toEqual([]);
    await monitor.close();
  });

  it('terminate() from online calls terminate and changes state when it ends', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { terminate: () => gate.promise });
    await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    const t = monitor.terminate('a');
    await vi.advanceTimersByTimeAsync(30);
    expect(monitor.getState('a')).toBe('online');
    gate.resolve();
    await t;
    expect(transitions().slice(2)).toEqual(['30 online->offline']);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(rec.calls('looksAlive')).toHaveLength(0);
    await monitor.close();
  });

  it('terminate() on a resource never opened only cancels: no plugin call', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.terminate('a');
    expect(rec.spans).toHaveLength(0);
    expect(monitor.getState('a')).toBe('offline');
    await monitor.close();
  });

  it('removeResource terminates a resource that is not offline, then calls close, then forgets it', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.online('a');
    await monitor.removeResource('a');
    expect(rec.spans.map((s) => s.entryPoint)).toEqual(['open', 'online', 'terminate', 'close']);
    expect(() => monitor.getState('a')).toThrow(/no resource "a"/);
    expect(monitor.snapshot()).toEqual([]);
    await monitor.close();
  });

  it('waitFor resolves with inspect() once the state is reached, at once if it already is', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { online: () => gate.promise });
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    expect((await monitor.waitFor('a', 'offline')).state).toBe('offline');
    const waiting = monitor.waitFor('a', 'online');
    void monitor.online('a');
    await vi.advanceTimersByTimeAsync(70);
    gate.resolve();
    const status = await waiting;
    expect(status).toMatchObject({ name: 'a', state: 'online', since: 70, generation: 1 });
    await monitor.close();
  });

  it('waitFor rejects on its timeout with CallTimeoutError and on its signal with the reason', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    const timedOut = monitor.waitFor('a', 'online', { timeout: 500 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(500);
    expect(await timedOut).toMatchObject({ code: 'ERR_RESMON_CALL_TIMEOUT', timeoutMs: 500 });
    const controller = new AbortController();
    const aborted = monitor.waitFor('a', 'online', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('stop waiting'));
    expect(await aborted).toMatchObject({ message: 'stop waiting' });
    const closed = monitor.waitFor('a', 'online').catch((e: unknown) => e);
    await monitor.close();
    expect(await closed).toMatchObject({ code: 'ERR_RESMON_CLOSED' });
  });

  it('snapshot lists every resource in the order added, JSON-safe', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: fast });
    monitor.registerType(rec.type);
    for (const name of ['c', 'a', 'b']) monitor.addResource({ name, type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    const snap = monitor.snapshot();
    expect(snap.map((s) => s.name)).toEqual(['c', 'a', 'b']);
    expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
    expect(snap[1]).toEqual({
      name: 'a',
      type: 'rec',
      state: 'online',
      generation: 1,
      since: 0,
      lastChecks: { looksAlive: { ok: true, at: 1_000, durationMs: 0, reason: null, consecutiveFailures: 0 }, isAlive: null },
      restarts: { inWindow: 0, total: 0, stableAt: null },
      nextRestartAt: null,
      host: null,
      group: null,
      dependsOn: [],
      target: 'online',
    });
    await monitor.close();
  });

  it('lets terminate() cut a slow close() short, and refuses it once close() has finished', async () => {
    const rec = recordingType('rec', { offline: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: { ...fast, pendingTimeout: 60_000 }, abortGrace: 100 }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    const closing = monitor.close();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('a')).toBe('offline-pending');
    const hard = monitor.terminate('a');
    await vi.advanceTimersByTimeAsync(100); // abortGrace for the hung offline
    await hard;
    await closing;
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_100]);
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->offline-pending', '1100 offline-pending->offline']);
    await expect(monitor.terminate('a')).rejects.toMatchObject({ code: 'ERR_RESMON_CLOSED' });
  });

  it('supports await using', async () => {
    const rec = recordingType();
    {
      await using monitor = new TestMonitor({ defaults: fast });
      monitor.registerType(rec.type);
      monitor.addResource({ name: 'a', type: 'rec' });
      await monitor.online('a');
    }
    expect(rec.spans.map((s) => s.entryPoint)).toEqual(['open', 'online', 'offline', 'close']);
  });
});

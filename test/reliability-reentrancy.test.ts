import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { oneResource, recordedMonitor } from './helpers/monitor.js';
import { deferred, recordingType } from './helpers/recording.js';

/**
 * Issue 10 §1: any public method may be called from any listener at any moment, with the same
 * result as if it were called a microtask later.
 */

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const fast = { looksAlivePollInterval: 100, isAlivePollInterval: 1_000, restartAction: 'none' } as const;

/** One resource whose online keeps its context, so a listener can call its reportFailure later. */
function keepsOnlineContext() {
  const kept: { ctx: { reportFailure(reason?: unknown): void } | null } = { ctx: null };
  const rec = recordingType('rec', {
    online: (ctx) => {
      kept.ctx = ctx;
    },
  });
  return { ...oneResource(rec.type, { defaults: fast }), rec, kept };
}

describe('monitor calls made from a stateChange listener', () => {
  it('online() during online-pending resolves only once online, and rejects with the cause when the attempt fails', async () => {
    const online = deferred<void>();
    const rec = recordingType('rec', { online: () => online.promise });
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor } = recorded;
    let fromListener: Promise<string> | null = null;
    monitor.on('stateChange', (e) => {
      if (e.to === 'online-pending' && !fromListener) {
        fromListener = monitor.online('r').then(
          () => `resolved while ${monitor.getState('r')}`,
          (error: unknown) => `rejected: ${(error as Error).message}`,
        );
      }
    });
    const first = monitor.online('r').catch(() => {});
    await vi.advanceTimersByTimeAsync(10);
    let settled = false;
    void fromListener!.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10);
    expect(settled).toBe(false);
    online.reject(new Error('port in use'));
    await first;
    expect(await fromListener!).toBe('rejected: port in use');
    await monitor.close();
  });

  it('offline() on failed waits for the failure\'s terminate before it moves to offline', async () => {
    const terminate = deferred<void>();
    let healthy = true;
    const rec = recordingType('rec', { isAlive: () => healthy, terminate: () => terminate.promise });
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    let offline: Promise<void> | null = null;
    monitor.on('stateChange', (e) => {
      if (e.to === 'failed') offline = monitor.offline('r');
    });
    healthy = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(monitor.getState('r')).toBe('failed');
    expect(rec.calls('terminate')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(monitor.getState('r')).toBe('failed');
    terminate.resolve();
    await offline;
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '1000 online->failed', '1050 failed->offline']);
    await monitor.close();
  });

  it('offline() on online leaves no poll armed: no looksAlive in the next generation\'s online-pending', async () => {
    await using recorded = recordedMonitor({ defaults: fast });
    const { monitor } = recorded;
    let slow = false;
    const online = deferred<void>();
    const rec = recordingType('rec', { online: () => (slow ? online.promise : undefined) });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'r', type: 'rec' });
    let once = false;
    monitor.on('stateChange', (e) => {
      if (e.to === 'online' && !once) {
        once = true;
        void monitor.offline('r');
      }
    });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(0);
    expect(monitor.getState('r')).toBe('offline');
    slow = true;
    const second = monitor.online('r');
    await vi.advanceTimersByTimeAsync(500);
    expect(monitor.getState('r')).toBe('online-pending');
    online.resolve();
    await second;
    await vi.advanceTimersByTimeAsync(250);
    // Polls of the new generation only, from its online (t=500): none left over from the first.
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([600, 700]);
    expect(rec.calls('isAlive')).toEqual([]);
    await monitor.close();
  });

  it('terminate() on offline-pending, then close(): both resolve, the resource ends offline, and the monitor still works until closed', async () => {
    const offline = deferred<void>();
    const rec = recordingType('rec', { offline: () => offline.promise });
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    let terminated: Promise<void> | null = null;
    monitor.on('stateChange', (e) => {
      if (e.to === 'offline-pending') terminated = monitor.terminate('r');
    });
    const off = monitor.offline('r');
    await vi.advanceTimersByTimeAsync(10);
    const closed = monitor.close();
    await vi.advanceTimersByTimeAsync(2_000);
    await expect(terminated).resolves.toBeUndefined();
    await expect(off).resolves.toBeUndefined();
    await expect(closed).resolves.toBeUndefined();
    expect(monitor.getState('r')).toBe('offline');
    // The terminate superseded the offline: its call (if it had started) was abandoned, and
    // terminate ran once it settled or abortGrace (1 000 ms) passed.
    const all = transitions();
    expect(all.slice(0, 3)).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->offline-pending']);
    expect(all.slice(3)).toEqual([expect.stringMatching(/^(0|1000) offline-pending->offline$/)]);
    expect(rec.calls('offline').every((s) => s.aborted)).toBe(true);
    expect(rec.calls('terminate')).toHaveLength(1);
  });

  it('a listener call runs a microtask later: it sees the transition finished', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor } = recorded;
    const order: string[] = [];
    monitor.on('stateChange', (e) => {
      if (e.to !== 'online-pending') return;
      order.push('listener');
      monitor.online('r').then(() => order.push('online() from the listener resolved'), () => order.push('rejected'));
      queueMicrotask(() => order.push('a microtask later'));
    });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(0);
    expect(order).toEqual(['listener', 'a microtask later', 'online() from the listener resolved']);
    await monitor.close();
  });

  it('close() from a listener closes the monitor once its transition is done; later calls in the listener see it closed', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor } = recorded;
    let closed: Promise<void> | null = null;
    let after: Promise<unknown> | null = null;
    monitor.on('stateChange', (e) => {
      if (e.to === 'online' && !closed) {
        closed = monitor.close();
        after = monitor.online('r').catch((error: unknown) => error);
      }
    });
    await monitor.online('r');
    await closed;
    expect(String(await after)).toMatch(/MonitorClosedError/);
    expect(monitor.getState('r')).toBe('offline');
    expect(rec.calls('close')).toHaveLength(1);
  });

  it('a stored ctx.reportFailure called from a listener acts a microtask later, after the transition', async () => {
    await using fixture = keepsOnlineContext();
    const { monitor, transitions, kept } = fixture;
    monitor.on('stateChange', (e) => {
      if (e.to === 'online') kept.ctx?.reportFailure(new Error('seen by the listener'));
    });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(0);
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->failed']);
    // The failure stopped every poll: none was armed behind it (restartAction 'none': nothing else is scheduled).
    expect(vi.getTimerCount()).toBe(0);
    await monitor.close();
  });
});

describe('found on the way', () => {
  it('terminate() right after offline() does not queue behind the offline call (which never starts)', async () => {
    const rec = recordingType('rec', { offline: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: fast });
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    const off = monitor.offline('r');
    const term = monitor.terminate('r');
    await vi.advanceTimersByTimeAsync(0);
    await expect(term).resolves.toBeUndefined();
    await expect(off).resolves.toBeUndefined();
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->offline-pending', '0 offline-pending->offline']);
    expect(rec.calls('offline')).toEqual([]);
    await monitor.close();
  });
});

describe('found by the model suite with listener calls', () => {
  it('a terminate() superseded by a second terminate() resolves only once the resource is offline', async () => {
    const rec = recordingType('rec', { terminate: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: { ...fast, deadlockTimeout: 500 }, abortGrace: 100 });
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    let second: Promise<void> | null = null;
    monitor.on('callTimeout', () => {
      second ??= monitor.terminate('r');
    });
    let first: number | null = null;
    void monitor.terminate('r').then(() => (first = Date.now()));
    // The hung terminate passes its deadline at t=500: the listener's terminate() runs a second
    // terminate once the lane is free (t=600, abortGrace), which passes its deadline at t=1100.
    await vi.advanceTimersByTimeAsync(600);
    expect(monitor.getState('r')).toBe('online');
    expect(first).toBeNull();
    await vi.advanceTimersByTimeAsync(1_000);
    await second;
    expect(first).toBe(1_100);
    expect(monitor.getState('r')).toBe('offline');
    expect(transitions().at(-1)).toBe('1100 online->offline');
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([0, 600]);
    await monitor.close();
  });

  it('a terminate() superseded twice (by a terminate that is itself superseded) resolves only once the resource is offline', async () => {
    const rec = recordingType('rec', { terminate: () => new Promise(() => {}) });
    await using recorded = oneResource(rec.type, { defaults: { ...fast, deadlockTimeout: 500 }, abortGrace: 100 });
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    let more = 2;
    monitor.on('callTimeout', () => {
      if (more-- > 0) void monitor.terminate('r');
    });
    let first: number | null = null;
    void monitor.terminate('r').then(() => (first = Date.now()));
    // Terminate calls at 0, 600 and 1200 (each passes its deadline, the lane frees abortGrace later).
    await vi.advanceTimersByTimeAsync(1_600);
    expect(first).toBeNull();
    expect(monitor.getState('r')).toBe('online');
    await vi.advanceTimersByTimeAsync(200);
    expect(first).toBe(1_700);
    expect(transitions().at(-1)).toBe('1700 online->offline');
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([0, 600, 1_200]);
    await monitor.close();
  });

  it('online() right after the resource went online and failed starts a new attempt instead of joining the finished one', async () => {
    await using fixture = keepsOnlineContext();
    const { monitor, transitions, kept } = fixture;
    let again: Promise<void> | null = null;
    monitor.on('stateChange', (e) => {
      if (e.to === 'online' && !again) kept.ctx?.reportFailure(new Error('gone at once'));
      if (e.to === 'failed' && !again) again = monitor.online('r');
    });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(0);
    await again;
    expect(monitor.getState('r')).toBe('online');
    expect(transitions()).toEqual([
      '0 offline->online-pending',
      '0 online-pending->online',
      '0 online->failed',
      '0 failed->online-pending',
      '0 online-pending->online',
    ]);
    await monitor.close();
  });
});

describe('found by the model suite (checks only while online)', () => {
  it('a passing check that ends just as a queued isAlive fails the resource does not arm a poll into the next online period', async () => {
    let onlines = 0;
    let looks = 0;
    const rec = recordingType('rec', {
      online: () => (onlines++ === 0 ? undefined : new Promise<void>((resolve) => setTimeout(resolve, 120))),
      looksAlive: () => (looks++ === 0 ? new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 120)) : true),
      isAlive: () => false,
    });
    await using recorded = oneResource(
      rec.type,
      {
        defaults: { looksAlivePollInterval: 100, isAlivePollInterval: 150, restartAction: 'restart', restartDelay: 50, restartThreshold: 1 },
      },
    );
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(400);
    // looksAlive 100-220; the isAlive due at 150 waited for it, ran at 220 and failed the resource;
    // the restart at 270 went online at 390: its first looksAlive is due at 490, none before.
    expect(transitions()).toEqual([
      '0 offline->online-pending',
      '0 online-pending->online',
      '220 online->failed',
      '270 failed->online-pending',
      '390 online-pending->online',
    ]);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([100]);
    await monitor.close();
  });
});

describe('every asynchronous operation called from a listener starts a microtask later', () => {
  it('setProperties, setPolicy, control, controlType, setDependencies, onlineGroup and offlineGroup included', async () => {
    const rec = recordingType('rec');
    await using recorded = recordedMonitor({ defaults: fast });
    const { monitor } = recorded;
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'r', type: 'rec', group: 'g' } as never);
    const settle = vi.spyOn(monitor as unknown as { settle(): Promise<void> | undefined }, 'settle');
    const ops: (() => Promise<unknown>)[] = [
      () => monitor.setProperties('r', {}),
      () => monitor.setPolicy('r', { callBudget: 10 }),
      () => monitor.control('r', 'get-status'),
      () => monitor.controlType('rec', 'nope'),
      () => monitor.setDependencies('r', []),
      () => monitor.onlineGroup('g'),
      () => monitor.offlineGroup('g'),
    ];
    const waited: boolean[] = [];
    let fired = false;
    monitor.on('stateChange', (e) => {
      if (e.to !== 'online' || fired) return;
      fired = true;
      for (const op of ops) {
        const before = settle.mock.calls.length;
        void op().catch(() => {});
        waited.push(settle.mock.calls.length === before + 1);
      }
    });
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(10);
    expect(waited).toEqual(ops.map(() => true));
    // Outside a listener, nothing waits.
    const before = settle.mock.calls.length;
    await monitor.setPolicy('r', { callBudget: 20 });
    expect(settle.mock.calls.length).toBe(before);
    await monitor.close();
  });
});

describe('a diagnostics_channel subscriber is a listener too', () => {
  it('a stored ctx.reportFailure called from a resmon:stateChange subscriber acts after the transition', async () => {
    const { subscribe, unsubscribe } = await import('node:diagnostics_channel');
    await using fixture = keepsOnlineContext();
    const { monitor, transitions, kept } = fixture;
    const subscriber = (message: unknown) => {
      const e = message as { resource: string; to: string };
      if (e.resource === 'r' && e.to === 'online') kept.ctx?.reportFailure(new Error('seen by a subscriber'));
    };
    subscribe('resmon:stateChange', subscriber);
    try {
      await monitor.online('r');
      await vi.advanceTimersByTimeAsync(0);
      expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '0 online->failed']);
      // No poll was armed behind the failure (restartAction 'none': nothing else is scheduled).
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      unsubscribe('resmon:stateChange', subscriber);
    }
    await monitor.close();
  });
});

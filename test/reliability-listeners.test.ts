import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isMonitorClosedError, type StateChangeEvent } from 'resmon';
import { recordingType } from './helpers/recording.js';
import { TestMonitor } from './helpers/monitor.js';

/** Issue 10 §4: every listener gets every event; a closed monitor answers read-only calls. */

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function capturingLogger() {
  const errors: unknown[][] = [];
  const noop = () => {};
  return { errors, logger: { debug: noop, info: noop, warn: noop, error: (...args: unknown[]) => void errors.push(args) } };
}

describe('listeners', () => {
  it('a listener that throws does not stop the listeners after it; the throw is logged', async () => {
    const { errors, logger } = capturingLogger();
    await using monitor = new TestMonitor({ logger });
    monitor.registerType(recordingType().type);
    monitor.addResource({ name: 'r', type: 'rec' });
    const seen: string[] = [];
    const boom = new Error('listener bug');
    monitor.on('stateChange', (e) => seen.push(`first ${e.to}`));
    monitor.on('stateChange', () => {
      throw boom;
    });
    monitor.on('stateChange', (e) => seen.push(`third ${e.to}`));
    monitor.once('stateChange', (e) => seen.push(`once ${e.to}`));
    await monitor.online('r');
    expect(seen).toEqual(['first online-pending', 'third online-pending', 'once online-pending', 'first online', 'third online']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toEqual([{ err: boom, event: 'stateChange' }, 'a "stateChange" listener threw; the monitor carries on']);
    await monitor.close();
  });

  it('a listener that throws a hostile value, with a logger that throws on it, breaks nothing', async () => {
    await using monitor = new TestMonitor({
      logger: {
        debug() {},
        info() {},
        warn() {},
        error() {
          throw new Error('logger broke');
        },
      },
    });
    monitor.registerType(recordingType().type);
    monitor.addResource({ name: 'r', type: 'rec' });
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const seen: string[] = [];
    monitor.on('stateChange', () => {
      throw proxy;
    });
    monitor.on('stateChange', (e) => seen.push(e.to));
    await monitor.online('r');
    expect(seen).toEqual(['online-pending', 'online']);
    await monitor.close();
  });

  it('a listener added or removed during an event takes effect from the next event', async () => {
    await using monitor = new TestMonitor();
    monitor.registerType(recordingType().type);
    monitor.addResource({ name: 'r', type: 'rec' });
    const seen: string[] = [];
    const late = (e: StateChangeEvent) => seen.push(`late ${e.to}`);
    const second = (e: StateChangeEvent) => seen.push(`second ${e.to}`);
    monitor.on('stateChange', (e) => {
      seen.push(`first ${e.to}`);
      if (e.to === 'online-pending') {
        monitor.on('stateChange', late);
        monitor.off('stateChange', second);
      }
    });
    monitor.on('stateChange', second);
    await monitor.online('r');
    expect(seen).toEqual(['first online-pending', 'second online-pending', 'first online', 'late online']);
    await monitor.close();
  });
});

describe('after close()', () => {
  it('getState, inspect and snapshot return the final states; every other operation throws MonitorClosedError', async () => {
    await using monitor = new TestMonitor();
    const rec = recordingType();
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    monitor.addResource({ name: 'b', type: 'rec' });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10);
    await monitor.close();

    expect(monitor.getState('a')).toBe('offline');
    expect(monitor.inspect('a')).toMatchObject({ name: 'a', type: 'rec', state: 'offline', generation: 1, since: 10, nextRestartAt: null });
    expect(monitor.snapshot().map((s) => [s.name, s.state, s.generation])).toEqual([
      ['a', 'offline', 1],
      ['b', 'offline', 0],
    ]);
    // A copy: mutating what inspect() returned does not change the next answer.
    monitor.inspect('a').state = 'online';
    expect(monitor.inspect('a').state).toBe('offline');

    const rejects = async (p: () => Promise<unknown>) => {
      const error = await p().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMonitorClosedError(error), String(error)).toBe(true);
    };
    const throws = (f: () => unknown) => {
      let error: unknown = null;
      try {
        f();
      } catch (e) {
        error = e;
      }
      expect(isMonitorClosedError(error), String(error)).toBe(true);
    };
    await rejects(() => monitor.online('a'));
    await rejects(() => monitor.offline('a'));
    await rejects(() => monitor.terminate('a'));
    await rejects(() => monitor.removeResource('a'));
    await rejects(() => monitor.waitFor('a', 'online'));
    await rejects(() => monitor.waitFor('a', 'offline'));
    throws(() => monitor.addResource({ name: 'c', type: 'rec' }));
    throws(() => monitor.registerType({ ...rec.type, name: 'other' }));
    // A name that was never there is still unknown.
    expect(() => monitor.getState('zzz')).toThrow(/no resource "zzz"/);
    await expect(monitor.close()).resolves.toBeUndefined();
  });
});

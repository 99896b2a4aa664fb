import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isConfigError, type ResourceContext } from 'resmon';
import { describeValue, reasonOf, toError } from '../src/errors.js';
import { oneResource, recordedMonitor, TestMonitor } from './helpers/monitor.js';
import { HOSTILE_KINDS, hostile } from './helpers/hostile.js';
import { recordingType } from './helpers/recording.js';

/**
 * Issue 10 §2: whatever a plugin throws, rejects with, returns or reports, and whatever
 * validate() throws, the monitor describes it without throwing, keeps its state right, and
 * leaves no unhandled rejection.
 */

const crashes: unknown[] = [];
const onCrash = (reason: unknown) => void crashes.push(reason);
beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  crashes.length = 0;
  process.on('unhandledRejection', onCrash);
});
afterEach(async () => {
  vi.useRealTimers();
  // Let any stray rejection surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onCrash);
  expect(crashes).toEqual([]);
});

const fast = { looksAlivePollInterval: 0, isAlivePollInterval: 100, restartAction: 'none', deadlockTimeout: 1_000, pendingTimeout: 1_000 } as const;

/** A logger that, like pino's error serializer, reads `err.message` and `err.stack`. */
function readingLogger() {
  const lines: string[] = [];
  const line = (...args: unknown[]) => {
    const [first, msg] = args;
    const err = (first as { err?: { message?: unknown; stack?: unknown } } | undefined)?.err;
    if (err !== undefined && typeof err === 'object' && err !== null) lines.push(`${String(err.message)} ${String(err.stack)}`);
    lines.push(String(msg ?? first));
  };
  return { lines, logger: { debug: line, info: line, warn: line, error: line } };
}

describe('describing a foreign value never throws', () => {
  for (const kind of HOSTILE_KINDS) {
    it(kind, () => {
      const value = hostile(kind);
      expect(typeof describeValue(value)).toBe('string');
      expect(typeof reasonOf(value)).toBe('string');
      expect(toError(value, 'online rejected') instanceof Error).toBe(true);
      expect(isConfigError(value)).toBe(false);
    });
  }
});

describe('hostile values from plugins', () => {
  for (const kind of HOSTILE_KINDS) {
    it(`online rejecting with ${kind}: online() rejects with an Error, the resource fails, close() resolves`, async () => {
      const { logger } = readingLogger();
      const rec = recordingType('rec', { online: () => Promise.reject(hostile(kind)) });
      await using recorded = oneResource(rec.type, { defaults: fast, logger });
      const { monitor, transitions } = recorded;
      const error = await monitor.online('r').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).not.toBeNull();
      expect(typeof reasonOf(error)).toBe('string');
      expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->failed']);
      await expect(monitor.close()).resolves.toBeUndefined();
    });

    it(`isAlive throwing or returning ${kind}: the resource fails (polling does not just stop)`, async () => {
      let mode: 'ok' | 'throw' | 'return' = 'ok';
      const rec = recordingType('rec', {
        isAlive: () => {
          if (mode === 'throw') throw hostile(kind);
          return mode === 'return' ? hostile(kind) : true;
        },
      });
      await using recorded = oneResource(rec.type, { defaults: fast }, { name: 'a' });
      const { monitor, transitions, of } = recorded;
      await monitor.online('a');
      mode = 'throw';
      await vi.advanceTimersByTimeAsync(100);
      expect(monitor.getState('a')).toBe('failed');
      await monitor.online('a');
      mode = 'return';
      await vi.advanceTimersByTimeAsync(100);
      expect(monitor.getState('a')).toBe('failed');
      expect(transitions().filter((t) => t.endsWith('failed'))).toHaveLength(2);
      for (const e of of('check').filter((c) => !c.ok)) expect(typeof e.reason).toBe('string');
      expect(JSON.parse(JSON.stringify(monitor.inspect('a')))).toEqual(monitor.inspect('a'));
      await expect(monitor.close()).resolves.toBeUndefined();
    });

    it(`offline, terminate and close rejecting with ${kind}: the resource still ends offline, close() resolves`, async () => {
      const { logger } = readingLogger();
      const rec = recordingType('rec', {
        offline: () => Promise.reject(hostile(kind)),
        terminate: () => Promise.reject(hostile(kind)),
        close: () => Promise.reject(hostile(kind)),
      });
      await using recorded = oneResource(rec.type, { defaults: fast, logger });
      const { monitor } = recorded;
      await monitor.online('r');
      await monitor.offline('r');
      expect(monitor.getState('r')).toBe('offline');
      await monitor.online('r');
      await monitor.terminate('r');
      expect(monitor.getState('r')).toBe('offline');
      await monitor.online('r');
      await expect(monitor.close()).resolves.toBeUndefined();
      expect(monitor.getState('r')).toBe('offline');
    });

    it(`ctx.reportFailure(${kind}) never throws into the plugin and fails the resource`, async () => {
      let ctx: ResourceContext | null = null;
      const rec = recordingType('rec', {
        online: (c) => {
          ctx = c;
        },
      });
      await using recorded = oneResource(rec.type, { defaults: fast, logger: readingLogger().logger });
      const { monitor } = recorded;
      await monitor.online('r');
      expect(() => ctx!.reportFailure(hostile(kind))).not.toThrow();
      expect(monitor.getState('r')).toBe('failed');
      expect(() => ctx!.reportProgress(hostile(kind) as string)).not.toThrow();
      await expect(monitor.close()).resolves.toBeUndefined();
    });

    it(`reportFailure(${kind}) during online-pending: online() rejects with an Error`, async () => {
      const rec = recordingType('rec', {
        online: (c) => {
          c.reportFailure(hostile(kind));
          return new Promise(() => {});
        },
      });
      await using recorded = oneResource(rec.type, { defaults: { ...fast, pendingTimeout: 100 } });
      const { monitor } = recorded;
      const error = await monitor.online('r').then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      await vi.advanceTimersByTimeAsync(2_000);
      await expect(monitor.close()).resolves.toBeUndefined();
    });

    it(`validate() throwing ${kind} becomes a ConfigError`, async () => {
      await using monitor = new TestMonitor();
      monitor.registerType({
        ...recordingType().type,
        validate: () => {
          throw hostile(kind);
        },
      });
      let thrown: unknown = null;
      try {
        monitor.addResource({ name: 'r', type: 'rec', properties: { port: 1 } });
      } catch (error) {
        thrown = error;
      }
      expect(isConfigError(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(/^resource "r": properties were rejected by type "rec": /);
      expect(monitor.snapshot()).toEqual([]);
    });
  }

  it('a check returning a thenable whose then getter throws fails the check', async () => {
    let bad = false;
    await using recorded = recordedMonitor({ defaults: fast });
    const { monitor, of } = recorded;
    monitor.registerType({
      name: 'raw',
      online() {},
      offline() {},
      terminate() {},
      isAlive: () =>
        (bad
          ? {
              get then() {
                throw new Error('then getter');
              },
            }
          : true) as boolean,
    });
    monitor.addResource({ name: 'r', type: 'raw' });
    await monitor.online('r');
    bad = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(monitor.getState('r')).toBe('failed');
    expect(of('check').at(-1)).toMatchObject({ ok: false, reason: 'threw: then getter' });
    await monitor.close();
  });

  it('a logger that throws never breaks a transition', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const rec = recordingType('rec', { isAlive: () => false, terminate: () => Promise.reject(new Error('stuck')) });
    await using recorded = oneResource(
      rec.type,
      {
        defaults: fast,
        logger: { debug: throwing, info: throwing, warn: throwing, error: throwing },
      },
    );
    const { monitor, transitions } = recorded;
    await monitor.online('r');
    await vi.advanceTimersByTimeAsync(100);
    await monitor.offline('r');
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '100 online->failed', '100 failed->offline']);
    await expect(monitor.close()).resolves.toBeUndefined();
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY, type ResourceContext } from 'resmon';
import { ConfigFileError } from '../src/config/file.js';
import { openConfig } from '../src/config/open.js';
import { oneResource } from './helpers/monitor.js';
import { recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A type whose checks answer what `health` says at the moment they run. */
function scripted() {
  const health = { looks: true as unknown, is: true as unknown };
  const rec = recordingType('scripted', {
    looksAlive: () => health.looks,
    isAlive: () => health.is,
  });
  return { health, rec };
}

const polls = { looksAlivePollInterval: 300, isAlivePollInterval: 1_000, restartAction: 'none' } as const;

describe('isAliveFailureThreshold', () => {
  it('fails only at the n-th failed isAlive in a row, checking again after looksAlivePollInterval, at the millisecond', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 3 } }, { name: 'a' });
    const { monitor, of, transitions } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(999);
    health.is = false;
    await vi.advanceTimersByTimeAsync(1); // isAlive at 1000 fails (1 of 3)
    expect(monitor.getState('a')).toBe('online');
    expect(monitor.inspect('a').lastChecks.isAlive).toEqual({ ok: false, at: 1_000, durationMs: 0, reason: 'returned false', consecutiveFailures: 1 });
    await vi.advanceTimersByTimeAsync(299);
    expect(rec.calls('isAlive')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // 1300: 2 of 3
    expect(monitor.getState('a')).toBe('online');
    expect(monitor.inspect('a').lastChecks.isAlive?.consecutiveFailures).toBe(2);
    await vi.advanceTimersByTimeAsync(299);
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(1); // 1600: 3 of 3
    expect(monitor.getState('a')).toBe('failed');
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([1_000, 1_300, 1_600]);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([1_600]);
    expect(of('check').filter((c) => c.kind === 'isAlive')).toEqual(
      [1_000, 1_300, 1_600].map((at, i) => ({
        event: 'check',
        resource: 'a',
        at,
        kind: 'isAlive',
        ok: false,
        durationMs: 0,
        reason: 'returned false',
        consecutiveFailures: i + 1,
      })),
    );
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '1600 online->failed']);
    expect(of('stateChange').at(-1)?.reason).toBe('isAlive returned false (3 in a row)');
    expect(monitor.inspect('a').lastChecks.isAlive?.consecutiveFailures).toBe(3);
    await monitor.close();
  });

  it('counts a throw or a non-boolean like false, and one passing isAlive resets the count and the schedule', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 3 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    health.is = 'yes';
    await vi.advanceTimersByTimeAsync(1_000); // 1000: non-boolean, 1
    rec.type.isAlive = () => {
      throw new Error('probe timed out');
    };
    await vi.advanceTimersByTimeAsync(300); // 1300: threw, 2
    rec.type.isAlive = () => true;
    await vi.advanceTimersByTimeAsync(300); // 1600: passes, 0
    expect(monitor.inspect('a').lastChecks.isAlive).toMatchObject({ ok: true, at: 1_600, reason: null, consecutiveFailures: 0 });
    rec.type.isAlive = () => false;
    await vi.advanceTimersByTimeAsync(999);
    expect(of('check').filter((c) => c.kind === 'isAlive')).toHaveLength(3); // back on the full interval
    await vi.advanceTimersByTimeAsync(1); // 2600: 1
    await vi.advanceTimersByTimeAsync(300); // 2900: 2
    rec.type.isAlive = () => true;
    await vi.advanceTimersByTimeAsync(300); // 3200: passes
    await vi.advanceTimersByTimeAsync(1_000); // 4200: passes
    expect(of('check').filter((c) => c.kind === 'isAlive').map((c) => `${c.at} ${c.consecutiveFailures}${c.reason ? ` ${c.reason.replace(/ \(.*\)$/, '')}` : ''}`)).toEqual([
      '1000 1 returned a non-boolean',
      '1300 2 threw: probe timed out',
      '1600 0',
      '2600 1 returned false',
      '2900 2 returned false',
      '3200 0',
      '4200 0',
    ]);
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });

  it('checks again after min(isAlivePollInterval, looksAlivePollInterval || isAlivePollInterval)', async () => {
    const starts = async (policy: object, withLooks = true) => {
      const { health, rec } = scripted();
      if (!withLooks) delete (rec.type as { looksAlive?: unknown }).looksAlive;
      await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 10, ...policy } }, { name: 'a' });
      const { monitor } = recorded;
      await monitor.online('a');
      health.is = false;
      await vi.advanceTimersByTimeAsync(10_000 - (Date.now() % 10_000));
      const out = rec.calls('isAlive').map((s) => s.start % 10_000);
      await monitor.close();
      return out.slice(0, 4);
    };
    expect(await starts({})).toEqual([1_000, 1_300, 1_600, 1_900]);
    expect(await starts({ looksAlivePollInterval: 0 })).toEqual([1_000, 2_000, 3_000, 4_000]);
    expect(await starts({ looksAlivePollInterval: 5_000 })).toEqual([1_000, 2_000, 3_000, 4_000]);
    // A type without looksAlive: the policy's looksAlivePollInterval still sets the sooner check.
    expect(await starts({}, false)).toEqual([1_000, 1_300, 1_600, 1_900]);
  });

  it('after a failed looksAlive, a failed isAlive below the threshold keeps the resource online and checks again sooner', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 2 } }, { name: 'a' });
    const { monitor, of, transitions } = recorded;
    await monitor.online('a');
    health.looks = false;
    health.is = false;
    await vi.advanceTimersByTimeAsync(300); // looksAlive fails at 300 -> isAlive at once fails (1 of 2)
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(299);
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(1); // 600: isAlive again (2 of 2)
    expect(monitor.getState('a')).toBe('failed');
    expect(of('check').map((c) => `${c.at} ${c.kind} ${c.consecutiveFailures}`)).toEqual([
      '300 looksAlive 1',
      '300 isAlive 1',
      '600 isAlive 2',
    ]);
    expect(transitions()).toEqual(['0 offline->online-pending', '0 online-pending->online', '600 online->failed']);
    await monitor.close();
  });

  it('while isAlive is failing, a failed looksAlive does not call isAlive at once: the counted checks stay spaced', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 3 } }, { name: 'a' });
    const { monitor, of, transitions } = recorded;
    await monitor.online('a');
    health.looks = false;
    health.is = false;
    await vi.advanceTimersByTimeAsync(899);
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(1);
    expect(of('check').map((c) => `${c.at} ${c.kind} ${c.consecutiveFailures}`)).toEqual([
      '300 looksAlive 1',
      '300 isAlive 1', // at once, as the looksAlive failed while isAlive was passing
      '600 isAlive 2',
      '600 looksAlive 2', // no isAlive at once: the next one is already armed at 900
      '900 isAlive 3',
    ]);
    expect(transitions().at(-1)).toBe('900 online->failed');
    await monitor.close();
  });

  for (const kind of ['isAlive', 'looksAlive'] as const) {
    it(`never delays a deadlocked check: a hung ${kind} fails the resource at its deadline`, async () => {
      const rec = recordingType('hung', { [kind]: () => new Promise(() => {}) });
      await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 5, deadlockTimeout: 2_000 } }, { name: 'a' });
      const { monitor, transitions, of } = recorded;
      await monitor.online('a');
      const start = kind === 'isAlive' ? 1_000 : 300;
      await vi.advanceTimersByTimeAsync(start + 1_999);
      expect(monitor.getState('a')).toBe('online');
      await vi.advanceTimersByTimeAsync(1);
      expect(transitions().at(-1)).toBe(`${start + 2_000} online->failed`);
      expect(of('check').at(-1)).toMatchObject({ kind, ok: false, reason: 'passed deadlockTimeout (2000 ms)', consecutiveFailures: 1 });
      await Promise.all([monitor.close(), vi.advanceTimersByTimeAsync(5_000)]);
    });
  }

  it('never delays reportFailure or a failed online', async () => {
    let ctx: ResourceContext | null = null;
    const rec = recordingType('reporting', {
      online: (c) => {
        ctx = c;
      },
    });
    await using recorded = oneResource(rec.type, { defaults: { ...polls, isAliveFailureThreshold: 5 } }, { name: 'a' });
    const { monitor, transitions } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_234);
    (ctx as unknown as ResourceContext).reportFailure('gone');
    expect(transitions().at(-1)).toBe('1234 online->failed');

    rec.type.online = () => Promise.reject(new Error('no'));
    await expect(monitor.online('a')).rejects.toThrow('no');
    expect(transitions().slice(-2)).toEqual(['1234 failed->online-pending', '1234 online-pending->failed']);
    await monitor.close();
  });

  it('starts the count afresh in each online period', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: { ...polls, looksAlivePollInterval: 0, isAliveFailureThreshold: 3 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    health.is = false;
    await vi.advanceTimersByTimeAsync(2_000); // 1000, 2000: 2 of 3
    await monitor.offline('a');
    expect(monitor.inspect('a').lastChecks.isAlive?.consecutiveFailures).toBe(2);
    await monitor.online('a');
    expect(monitor.inspect('a').lastChecks.isAlive).toBeNull();
    await vi.advanceTimersByTimeAsync(2_000); // 3000, 4000: 1, 2 of 3
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(1_000); // 5000: 3 of 3
    expect(monitor.getState('a')).toBe('failed');
    expect(of('check').map((c) => `${c.at} ${c.consecutiveFailures}`)).toEqual(['1000 1', '2000 2', '3000 1', '4000 2', '5000 3']);
    await monitor.close();
  });

  it('with the default of 1 fails at the first failed isAlive, as Windows does', async () => {
    const { health, rec } = scripted();
    await using recorded = oneResource(rec.type, { defaults: polls }, { name: 'a' });
    const { monitor, transitions, of } = recorded;
    await monitor.online('a');
    health.is = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(transitions().at(-1)).toBe('1000 online->failed');
    expect(of('stateChange').at(-1)?.reason).toBe('isAlive returned false');
    expect(of('check').at(-1)).toMatchObject({ kind: 'isAlive', ok: false, consecutiveFailures: 1 });
    await monitor.close();
  });
});

/** A type whose resource the test fails by hand (reportFailure), at the exact millisecond it wants. */
function failable() {
  const contexts = new Map<string, ResourceContext>();
  const rec = recordingType('failable', {
    online: (ctx) => {
      contexts.set(ctx.resource, ctx);
    },
  });
  /** Fails the resource now, and lets its terminate end (so the restart is scheduled now). */
  const fail = async (name: string) => {
    contexts.get(name)?.reportFailure('broken');
    await vi.advanceTimersByTimeAsync(0);
  };
  return { rec, fail };
}

const restarts = {
  looksAlivePollInterval: 0,
  isAlivePollInterval: 60_000,
  restartAction: 'restart-escalate',
  restartThreshold: 5,
  restartPeriod: 600_000,
  restartDelay: 500,
  restartBackoff: 2,
  retryPeriodOnFailure: 3_600_000,
} as const;

describe('stableAfter', () => {
  it('empties the restart window once online that long, so the back-off starts again from restartDelay', async () => {
    const { rec, fail } = failable();
    await using recorded = oneResource(rec.type, { defaults: { ...restarts, stableAfter: 10_000 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 0, stableAt: 10_000 });
    await vi.advanceTimersByTimeAsync(1_000);
    await fail('a'); // 1000: restart 1 in 500
    await vi.advanceTimersByTimeAsync(500); // online at 1500
    await vi.advanceTimersByTimeAsync(1_000);
    await fail('a'); // 2500: restart 2 in 1000
    await vi.advanceTimersByTimeAsync(1_000); // online at 3500
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 2, total: 2, stableAt: 13_500 });
    await vi.advanceTimersByTimeAsync(9_999); // 13499
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 2, total: 2, stableAt: 13_500 });
    await vi.advanceTimersByTimeAsync(1); // 13500: stable
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 2, stableAt: 13_500 });
    expect(JSON.parse(JSON.stringify(monitor.inspect('a')))).toEqual(monitor.inspect('a'));
    await vi.advanceTimersByTimeAsync(1_000);
    await fail('a'); // 14500: restart 1 again, 500
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 2, stableAt: 13_500 });
    expect(of('restartScheduled').map((e) => `${e.at} ${e.attempt} ${e.delayMs}`)).toEqual(['1000 1 500', '2500 2 1000', '14500 1 500']);
    await monitor.close();
  });

  it('forgives at exactly came-online + stableAfter, not a millisecond earlier', async () => {
    const { rec, fail } = failable();
    await using recorded = oneResource(rec.type, { defaults: { ...restarts, stableAfter: 5_000 } }, { name: 'early' });
    const { monitor, of } = recorded;
    monitor.addResource({ name: 'exact', type: 'failable' });
    await Promise.all([monitor.online('early'), monitor.online('exact')]);
    await vi.advanceTimersByTimeAsync(1_000);
    await fail('early');
    await fail('exact'); // 1000: both restart at 1500
    await vi.advanceTimersByTimeAsync(500);
    expect(monitor.inspect('early').restarts).toEqual({ inWindow: 1, total: 1, stableAt: 6_500 });
    await vi.advanceTimersByTimeAsync(4_999); // 6499
    await fail('early');
    await vi.advanceTimersByTimeAsync(1); // 6500
    await fail('exact');
    const scheduled = of('restartScheduled').filter((e) => e.at > 1_000);
    expect(scheduled.map((e) => `${e.resource} ${e.at} ${e.attempt} ${e.delayMs}`)).toEqual(['early 6499 2 1000', 'exact 6500 1 500']);
    expect(monitor.inspect('early').restarts.stableAt).toBeNull();
    expect(monitor.inspect('exact').restarts.stableAt).toBe(6_500);
    await monitor.close();
  });

  it('makes a spent threshold whole again: a stable resource restarts instead of escalating', async () => {
    const { rec, fail } = failable();
    await using recorded = oneResource(rec.type, { defaults: { ...restarts, restartThreshold: 1, stableAfter: 30_000 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await fail('a'); // 0: restart 1 at 500
    await vi.advanceTimersByTimeAsync(500);
    await vi.advanceTimersByTimeAsync(30_000); // 30500: stable
    await fail('a');
    expect(of('escalated')).toEqual([]);
    expect(of('restartScheduled').map((e) => `${e.at} ${e.attempt} ${e.retry}`)).toEqual(['0 1 false', '30500 1 false']);
    await vi.advanceTimersByTimeAsync(500); // online at 31000
    await vi.advanceTimersByTimeAsync(29_999);
    await fail('a'); // 60999: not stable, threshold spent
    expect(of('escalated').map((e) => `${e.at} ${e.restarts}`)).toEqual(['60999 1']);
    await monitor.close();
  });

  it('also forgives when the stable period ends with offline(): a later failure is not backed off', async () => {
    const { rec, fail } = failable();
    await using recorded = oneResource(rec.type, { defaults: { ...restarts, stableAfter: 2_000 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await fail('a'); // 0: restart 1 at 500
    await vi.advanceTimersByTimeAsync(500);
    await fail('a'); // 500: restart 2 at 1500
    await vi.advanceTimersByTimeAsync(1_000);
    await vi.advanceTimersByTimeAsync(2_000); // 3500: stable
    await monitor.offline('a');
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 0, total: 2, stableAt: 3_500 });
    await monitor.online('a');
    await fail('a');
    expect(of('restartScheduled').map((e) => `${e.at} ${e.attempt} ${e.delayMs}`)).toEqual(['0 1 500', '500 2 1000', '3500 1 500']);
    await monitor.close();
  });

  it('counts the online period only until terminate() is called, even while its terminate still runs', async () => {
    const { rec, fail } = failable();
    rec.type.terminate = () => new Promise<void>((resolve) => setTimeout(resolve, 5_000));
    await using recorded = oneResource(rec.type, { defaults: { ...restarts, stableAfter: 2_000 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await fail('a'); // 0: terminate runs until 5000
    await vi.advanceTimersByTimeAsync(5_500); // restart 1: online at 5500
    await vi.advanceTimersByTimeAsync(1_999);
    const stopping = monitor.terminate('a'); // 7499: 1 ms short of stable
    await vi.advanceTimersByTimeAsync(3_000); // still online (terminate runs), long past 7500
    expect(monitor.getState('a')).toBe('online');
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 1, total: 1, stableAt: null });
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
    await monitor.online('a');
    await fail('a'); // 12499: its terminate ends at 17499, and the window still holds restart 1
    await vi.advanceTimersByTimeAsync(5_000);
    expect(of('restartScheduled').map((e) => `${e.at} ${e.attempt} ${e.delayMs}`)).toEqual(['5000 1 500', '17499 2 1000']);
    await Promise.all([monitor.close(), vi.advanceTimersByTimeAsync(10_000)]);
  });

  it('is off at 0: only the sliding window ages restarts out, and stableAt stays null', async () => {
    const { rec, fail } = failable();
    await using recorded = oneResource(rec.type, { defaults: restarts }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await fail('a');
    await vi.advanceTimersByTimeAsync(500);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 1, total: 1, stableAt: null });
    await fail('a');
    expect(of('restartScheduled').map((e) => `${e.at} ${e.attempt} ${e.delayMs}`)).toEqual(['0 1 500', '100500 2 1000']);
    await monitor.close();
  });
});

describe('validation of both fields', () => {
  it('has Windows behaviour by default', () => {
    expect(DEFAULT_POLICY).toMatchObject({ isAliveFailureThreshold: 1, stableAfter: 0 });
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'resmon-hysteresis-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const problems = async (policy: string): Promise<string> => {
    const file = path.join(dir, 'resmon.yaml');
    writeFileSync(file, `defaults: { restartDelay: 10 }\nresources:\n  - { name: t, type: tcp, properties: { port: 1 }, policy: ${policy} }\n`);
    try {
      const opened = await openConfig(file, { mode: 'validate' });
      const status = opened.monitor.inspect('t');
      await opened.monitor.close();
      return `ok ${JSON.stringify(status.restarts)}`;
    } catch (error) {
      if (!(error instanceof ConfigFileError)) throw error;
      return error.errors.map((e) => e.message).join('\n');
    }
  };

  it('takes both from a config file, and `resmon validate` names the path, the value and the rule', async () => {
    vi.useRealTimers();
    expect(await problems('{ isAliveFailureThreshold: 3, stableAfter: 60000 }')).toBe('ok {"inWindow":0,"total":0,"stableAt":null}');
    expect(await problems('{ isAliveFailureThreshold: 0 }')).toMatch(
      /resmon\.yaml:3:\d+: resources\[0\]\.policy\.isAliveFailureThreshold must be an integer >= 1 \(got 0\)/,
    );
    expect(await problems('{ isAliveFailureThreshold: 2.5 }')).toMatch(/resources\[0\]\.policy\.isAliveFailureThreshold must be an integer >= 1 \(got 2\.5\)/);
    expect(await problems('{ stableAfter: -1 }')).toMatch(/resources\[0\]\.policy\.stableAfter must be a number >= 0 \(got -1\)/);
    expect(await problems('{ stableAfter: .inf }')).toMatch(/resources\[0\]\.policy\.stableAfter must be a number >= 0 \(got Infinity\)/);
  });
});

/**
 * Counterexamples the model-based suite (model-reliability.test.ts) shrank to, as plain tests:
 * first those that pin down how the model reads the contract where its text leaves room, then
 * the core bugs it found (all fixed in 1e2c927). The one that froze the process is checked in a
 * child process, in test/integration/model-regressions-process.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResourceMonitor, type ResourceType } from 'resmon';
import { deferred, never, recordingType } from './helpers/recording.js';
import { closeMonitor } from './helpers/monitor.js';

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

function monitorWith(type: ResourceType, options: ConstructorParameters<typeof ResourceMonitor>[0] = {}) {
  const m = new ResourceMonitor(options);
  const events: string[] = [];
  m.on('stateChange', (e) => events.push(`${e.at} ${e.from}->${e.to}`));
  m.on('restartScheduled', (e) => events.push(`${e.at} restart in ${e.delayMs}${e.retry ? ' (retry)' : ''}`));
  m.registerType(type);
  m.addResource({ name: 'a', type: type.name });
  return { m, events, [Symbol.asyncDispose]: () => closeMonitor(m) };
}

it('starts a restart with restartDelay 0 as soon as the failure\'s terminate has ended', async () => {
  let first = true;
  const rec = recordingType('rec', {
    online: () => {
      if (first) {
        first = false;
        throw new Error('no');
      }
    },
  });
  await using recorded = monitorWith(rec.type, { defaults: { restartDelay: 0, restartThreshold: 1 } });
  const { m, events } = recorded;
  await expect(m.online('a')).rejects.toThrow('no');
  await vi.advanceTimersByTimeAsync(1);
  expect(events).toEqual([
    '0 offline->online-pending',
    '0 online-pending->failed',
    '0 restart in 0',
    '0 failed->online-pending',
    '0 online-pending->online',
  ]);
  expect(rec.calls().map((c) => c.entryPoint)).toEqual(['open', 'online', 'terminate', 'online']);
  await m.close();
});

it('calls open again after an open that reported failure and resolved late, and terminates nothing in between', async () => {
  let opens = 0;
  const rec = recordingType('rec', {
    open: (ctx) => {
      opens++;
      if (opens > 1) return { n: opens };
      setTimeout(() => ctx.reportFailure(new Error('open failed')), 10);
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => setTimeout(() => resolve({ n: 1 }), 5)));
    },
  });
  await using recorded = monitorWith(rec.type, { defaults: { restartDelay: 20 } });
  const { m, events } = recorded;
  const attempt = expect(m.online('a')).rejects.toThrow('open failed');
  await vi.advanceTimersByTimeAsync(100);
  await attempt;
  // The abandoned open's handle does not count (DESIGN §5.1): the restart opens again.
  expect(opens).toBe(2);
  expect(rec.calls('terminate')).toHaveLength(0);
  expect(events).toEqual(['0 offline->online-pending', '10 online-pending->failed', '10 restart in 20', '30 failed->online-pending', '30 online-pending->online']);
  await m.close();
});

it('counts the restart delay from the end of the failure\'s terminate, while an earlier abandoned call still settles', async () => {
  const gate = deferred();
  let terminates = 0;
  const rec = recordingType('rec', {
    online: (ctx) => {
      setTimeout(() => ctx.reportFailure('gone'), 10);
      return never();
    },
    terminate: () => (++terminates === 1 ? gate.promise : undefined),
  });
  await using recorded = monitorWith(rec.type, {
    abortGrace: 100,
    defaults: { restartDelay: 50, restartThreshold: 1, deadlockTimeout: 300, retryPeriodOnFailure: Number.POSITIVE_INFINITY },
  });
  const { m, events } = recorded;
  const attempt = expect(m.online('a')).rejects.toThrow('gone');
  await vi.advanceTimersByTimeAsync(2_000);
  await attempt;
  // online aborted at 10; terminate after abortGrace at 110; it hangs until its deadline at 410.
  expect(rec.calls('terminate')[0]?.start).toBe(110);
  expect(events.slice(0, 4)).toEqual(['0 offline->online-pending', '10 online-pending->failed', '410 restart in 50', '460 failed->online-pending']);
  gate.resolve();
  await m.close();
});

it('schedules no restart when close() comes during a failure, and leaves nothing scheduled', async () => {
  const gate = deferred();
  const rec = recordingType('rec', { online: () => Promise.reject(new Error('down')), terminate: () => gate.promise });
  await using recorded = monitorWith(rec.type, { defaults: { restartDelay: 10 } });
  const { m, events } = recorded;
  await expect(m.online('a')).rejects.toThrow('down');
  const closing = m.close();
  await vi.advanceTimersByTimeAsync(5);
  gate.resolve();
  await closing;
  expect(events).toEqual(['0 offline->online-pending', '0 online-pending->failed', '5 failed->offline']);
  expect(vi.getTimerCount()).toBe(0);
  expect(rec.calls('online')).toHaveLength(1);
});

function monitorWithStates(type: ResourceType, options: ConstructorParameters<typeof ResourceMonitor>[0] = {}) {
  const m = new ResourceMonitor(options);
  const states: string[] = [];
  m.on('stateChange', (e) => states.push(`${e.at} ${e.from}->${e.to}`));
  m.registerType(type);
  m.addResource({ name: 'a', type: type.name });
  return { m, states, [Symbol.asyncDispose]: () => closeMonitor(m) };
}

describe('core bugs the model suite found (fixed in 1e2c927)', () => {
  it('ends terminate() offline even when the terminate entry point reports failure', async () => {
    const rec = recordingType('rec', {
      terminate: (ctx) => {
        ctx.reportFailure(new Error('the process died'));
        return new Promise((r) => setTimeout(r, 50));
      },
    });
    await using recorded = monitorWithStates(rec.type, { defaults: { restartDelay: 10 } });
    const { m, states } = recorded;
    await m.online('a');
    const t = m.terminate('a');
    await vi.advanceTimersByTimeAsync(100);
    await t;
    // DESIGN §3: any | terminate() | offline. Was: online -> failed, then a restart.
    expect(states).toEqual(['0 offline->online-pending', '0 online-pending->online', '50 online->offline']);
    expect(m.getState('a')).toBe('offline');
    await m.close();
  });

  it('makes online() during terminate() wait for it, then start a new attempt', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { terminate: () => gate.promise });
    await using recorded = monitorWithStates(rec.type);
    const { m, states } = recorded;
    await m.online('a');
    const t = m.terminate('a');
    let onlineDone = false;
    const o = m.online('a').then(() => {
      onlineDone = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    // DESIGN §2: online() during a terminate waits for it. Was: resolves at once (the state still says online).
    expect(onlineDone).toBe(false);
    gate.resolve();
    await t;
    await o;
    expect(rec.calls('online')).toHaveLength(2);
    expect(m.inspect('a').generation).toBe(2);
    expect(states.at(-1)).toMatch(/online-pending->online$/);
    await m.close();
  });

  it('does not call offline after terminate when offline() comes during terminate(), and ends offline', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { terminate: () => gate.promise });
    await using recorded = monitorWithStates(rec.type);
    const { m } = recorded;
    await m.online('a');
    const t = m.terminate('a');
    const off = m.offline('a');
    gate.resolve();
    await vi.advanceTimersByTimeAsync(2_000);
    await t;
    await off;
    // Was: offline() moved the resource to offline-pending and called offline after terminate.
    expect(rec.calls('offline')).toHaveLength(0);
    expect(m.getState('a')).toBe('offline');
    await m.close();
  });

  it('does not count a synchronous open that reported failure: the next attempt opens again', async () => {
    let opens = 0;
    const rec = recordingType('rec', {
      open: (ctx) => {
        opens++;
        if (opens === 1) ctx.reportFailure(new Error('could not open'));
        return { n: opens };
      },
    });
    await using recorded = monitorWithStates(rec.type, { defaults: { restartAction: 'none' } });
    const { m } = recorded;
    await expect(m.online('a')).rejects.toThrow('could not open');
    await m.online('a');
    // §5.1: nothing an abandoned call returns counts. Was: open ran once; the abandoned open's handle is used.
    expect(opens).toBe(2);
    const onlineCtx = rec.calls('online');
    expect(onlineCtx).toHaveLength(1);
    await m.close();
  });

  it('runs terminate after abortGrace, not pendingTimeout, when online reports failure from inside', async () => {
    const rec = recordingType('rec', {
      online: (ctx) => {
        ctx.reportFailure(new Error('boom'));
        return never();
      },
    });
    await using recorded = monitorWithStates(rec.type, { abortGrace: 100, defaults: { pendingTimeout: 10_000, restartAction: 'none' } });
    const { m } = recorded;
    const p = m.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(200);
    // §5.2: terminate waits at most abortGrace for the abandoned online. Was: it starts at 10 100 ms.
    expect(rec.calls('terminate')).toHaveLength(1);
    expect(rec.calls('terminate')[0]?.start).toBe(100);
    await p;
    await vi.advanceTimersByTimeAsync(20_000);
    await m.close();
  });

  it('leaves nothing scheduled after close() when a hung terminate was abandoned', async () => {
    const rec = recordingType('rec', { isAlive: () => false, terminate: () => never() });
    delete (rec.type as { close?: unknown }).close;
    await using recorded = monitorWithStates(rec.type, {
      abortGrace: 1_000,
      defaults: { restartAction: 'none', deadlockTimeout: 100, isAlivePollInterval: 50, looksAlivePollInterval: 0 },
    });
    const { m } = recorded;
    await m.online('a');
    await vi.advanceTimersByTimeAsync(200); // isAlive false at 50, terminate hangs, abandoned at 150
    await m.close();
    // Was: the lane's abortGrace timer for the abandoned terminate is still armed.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves offline() only once the resource is offline, even when terminate() supersedes it', async () => {
    const gate = deferred();
    const rec = recordingType('rec', {
      offline: (ctx) => new Promise((r) => ctx.signal.addEventListener('abort', () => setTimeout(r, 10_000))),
      terminate: () => gate.promise,
    });
    await using recorded = monitorWithStates(rec.type, { abortGrace: 100 });
    const { m } = recorded;
    await m.online('a');
    let offlineDone = false;
    const off = m.offline('a').then(() => {
      offlineDone = true;
    });
    await vi.advanceTimersByTimeAsync(10);
    const t = m.terminate('a');
    await vi.advanceTimersByTimeAsync(500);
    // Was: offline() resolved while the resource is offline-pending and terminate still runs.
    expect(m.getState('a')).toBe('offline-pending');
    expect(offlineDone).toBe(false);
    gate.resolve();
    await t;
    await off;
    await vi.advanceTimersByTimeAsync(20_000);
    await m.close();
  });

  it('disposes a resource once when close() comes during removeResource()', async () => {
    const gate = deferred();
    const rec = recordingType('rec', { terminate: () => gate.promise });
    await using recorded = monitorWithStates(rec.type);
    const { m } = recorded;
    await m.online('a');
    const rm = m.removeResource('a');
    const closing = m.close();
    gate.resolve();
    await vi.advanceTimersByTimeAsync(2_000);
    await rm;
    await closing;
    // Was: both dispose the resource: offline or terminate run again, close is called while the other disposal runs.
    expect(rec.calls('terminate')).toHaveLength(1);
    expect(rec.calls('offline')).toHaveLength(0);
    expect(rec.calls('close')).toHaveLength(1);
  });
});

it('resolves a terminate() superseded twice in a row (by terminate() calls from callTimeout listeners) only once the resource is offline', async () => {
  let calls = 0;
  const rec = recordingType('rec', {
    // The first two terminate calls hang past deadlockTimeout; the third returns.
    terminate: () => (++calls <= 2 ? never() : undefined),
  });
  await using recorded = monitorWith(rec.type, { abortGrace: 0, defaults: { deadlockTimeout: 200, restartAction: 'none' } });
  const { m, events } = recorded;
  let again = 2;
  m.on('callTimeout', () => {
    if (again-- > 0) void m.terminate('a');
  });
  await m.online('a');
  let resolvedIn: string | null = null;
  const first = m.terminate('a').then(() => {
    resolvedIn = m.getState('a');
  });
  await vi.advanceTimersByTimeAsync(1_000);
  await first;
  expect(resolvedIn).toBe('offline');
  expect(events.at(-1)).toMatch(/online->offline$/);
  await m.close();
});

it('makes close() wait for a terminate() that a stateChange listener started during it, and leaves no deadline timer', async () => {
  const release = deferred();
  let terminates = 0;
  const rec = recordingType('rec', {
    // The first terminate (the failure's) returns; the listener's waits to be released.
    terminate: () => (++terminates === 1 ? undefined : release.promise),
  });
  const { open: _o, close: _c, ...type } = rec.type; // no close entry point: nothing else holds close() up
  await using recorded = monitorWith(type, { abortGrace: 100, defaults: { deadlockTimeout: 200, restartAction: 'none' } });
  const { m } = recorded;
  m.on('stateChange', (e) => {
    if (e.to === 'offline') void m.terminate('a').catch(() => {});
  });
  await m.online('a');
  type.isAlive = () => false;
  const fail = m.waitFor('a', 'failed');
  await vi.advanceTimersByTimeAsync(60_000);
  await fail;
  let closed = false;
  const closing = m.close().then(() => {
    closed = true;
  });
  await vi.advanceTimersByTimeAsync(50);
  expect(rec.calls('terminate')).toHaveLength(2);
  expect(closed).toBe(false);
  release.resolve();
  await vi.advanceTimersByTimeAsync(0);
  await closing;
  expect(vi.getTimerCount()).toBe(0);
});

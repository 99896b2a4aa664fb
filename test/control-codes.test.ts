import {
  DEFAULT_PROCESSING,
  isCallTimeoutError,
  isConfigError,
  isMonitorClosedError,
  isStateError,
  isUnknownTypeError,
  type ResourceContext,
  type ResourceType,
} from 'resmon';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { oneResource, recordedMonitor, TestMonitor } from './helpers/monitor.js';
import { deferred, never, recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 1_000, isAlivePollInterval: 5_000, restartAction: 'none', deadlockTimeout: 2_000 } as const;

/** A recording type whose control never settles; `seen.signal` is the signal its last call got. */
function hangingControl() {
  const rec = recordingType();
  const seen: { signal: AbortSignal | null } = { signal: null };
  const type: ResourceType = {
    ...rec.type,
    control: (ctx: ResourceContext) => {
      seen.signal = ctx.signal;
      return never();
    },
  };
  return { rec, type, seen };
}

describe('control', () => {
  it("answers the monitor's own codes when the type has no control: get-properties, get-policy, get-status", async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a', properties: { port: 1 }, policy: { callBudget: 42 } });
    const { monitor } = recorded;
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 1 });
    expect(await monitor.control('a', 'get-policy')).toMatchObject({ callBudget: 42, isAlivePollInterval: 5_000, deadlockTimeout: 2_000 });
    await monitor.online('a');
    expect(await monitor.control('a', 'get-status')).toEqual(monitor.inspect('a'));
    await monitor.close();
  });

  it('rejects an unknown code with a ConfigError naming it, and a code that is not a non-empty string', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    const error = await monitor.control('a', 'rotate-logs').catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/control\("a"\): code is not a control code that type "rec" or the monitor knows .*\(got "rotate-logs"\)/);
    await expect(monitor.control('a', '')).rejects.toThrow(/code must be a non-empty string/);
    await expect(monitor.control('a', 7 as never)).rejects.toSatisfy(isConfigError);
    await expect(monitor.control('nope', 'get-status')).rejects.toThrow(/no resource "nope"/);
    await monitor.close();
  });

  it("routes a code to the type's control first: its answer, or DEFAULT_PROCESSING for the monitor's codes", async () => {
    const seen: string[] = [];
    const rec = recordingType();
    const type: ResourceType = {
      ...rec.type,
      control(ctx, code, input) {
        seen.push(`${ctx.resource} ${code} ${JSON.stringify(input)} handle=${JSON.stringify(ctx.handle)}`);
        if (code === 'rotate-logs') return { rotated: (input as { keep: number }).keep };
        if (code === 'get-status') return 'mine';
        return DEFAULT_PROCESSING;
      },
    };
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'rec', properties: { port: 1 } });
    expect(await monitor.control('a', 'rotate-logs', { keep: 3 })).toEqual({ rotated: 3 });
    expect(await monitor.control('a', 'get-status')).toBe('mine');
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 1 });
    await expect(monitor.control('a', 'frobnicate')).rejects.toThrow(/code is not a control code that type "rec" or the monitor knows/);
    await monitor.online('a');
    await monitor.control('a', 'rotate-logs', { keep: 1 });
    expect(seen).toEqual([
      'a rotate-logs {"keep":3} handle=undefined',
      'a get-status undefined handle=undefined',
      'a get-properties undefined handle=undefined',
      'a frobnicate undefined handle=undefined',
      'a rotate-logs {"keep":1} handle={"opened":true}',
    ]);
    await monitor.close();
  });

  it("rejects with the control's own error", async () => {
    const rec = recordingType();
    await using recorded = oneResource(
      {
        ...rec.type,
        control: () => {
          throw new TypeError('input.keep must be a number');
        },
      },
      { defaults: policy },
      { name: 'a' },
    );
    const { monitor } = recorded;
    await expect(monitor.control('a', 'rotate-logs', {})).rejects.toThrow(TypeError);
    await monitor.close();
  });

  it('runs on the lane: waits for the call in flight, and checks wait for it', async () => {
    const slow = deferred<boolean>();
    const order: string[] = [];
    const rec = recordingType('rec', { isAlive: () => (order.push(`${Date.now()} isAlive`), slow.promise) });
    await using recorded = oneResource(
      {
        ...rec.type,
        control: () => {
          order.push(`${Date.now()} control`);
          return new Promise((resolve) => setTimeout(() => resolve('done'), 500));
        },
      },
      { defaults: { ...policy, looksAlivePollInterval: 0 } },
      { name: 'a' },
    );
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    const answer = monitor.control('a', 'x');
    await vi.advanceTimersByTimeAsync(100);
    slow.resolve(true);
    await vi.advanceTimersByTimeAsync(600);
    expect(await answer).toBe('done');
    expect(order).toEqual(['5000 isAlive', '5100 control']);
    expect(rec.overlaps()).toEqual([]);
    await monitor.close();
  });

  it('a control past deadlockTimeout is abandoned: its signal aborts, CallTimeoutError, callTimeout event; the resource stays online', async () => {
    const { type, seen } = hangingControl();
    await using recorded = oneResource(type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    const answer = monitor.control('a', 'x').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await answer;
    expect(isCallTimeoutError(error)).toBe(true);
    expect((error as Error).message).toMatch(/control\("x"\) passed deadlockTimeout \(2000 ms\)/);
    expect(seen.signal?.aborted).toBe(true);
    expect(of('callTimeout').map((e) => [e.at, e.entryPoint])).toEqual([[2_000, 'control']]);
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(1_000);
    await monitor.close();
  });

  it('terminate abandons a control in flight (StateError), without waiting for it beyond abortGrace', async () => {
    const { rec, type, seen } = hangingControl();
    await using recorded = oneResource(type, { defaults: policy, abortGrace: 300 }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    const answer = monitor.control('a', 'x').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    const terminated = monitor.terminate('a');
    const error = await answer;
    expect(isStateError(error)).toBe(true);
    expect((error as Error).message).toMatch(/control\("x"\) was abandoned/);
    expect(seen.signal?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(300);
    await terminated;
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([400]);
    expect(monitor.getState('a')).toBe('offline');
    await monitor.close();
  });

  it('a control may report a failure: the resource fails as from any other entry point', async () => {
    const rec = recordingType();
    await using recorded = oneResource(
      { ...rec.type, control: (ctx: ResourceContext) => ctx.reportFailure(new Error('lost the lease')) },
      { defaults: policy },
      { name: 'a' },
    );
    const { monitor } = recorded;
    await monitor.online('a');
    await expect(monitor.control('a', 'check-lease')).rejects.toSatisfy(isStateError);
    expect(monitor.getState('a')).toBe('failed');
    await monitor.close();
  });

  it('slow control calls emit slowCall with entryPoint control', async () => {
    const rec = recordingType();
    await using recorded = oneResource(
      { ...rec.type, control: () => new Promise((resolve) => setTimeout(() => resolve(1), 250)) },
      { defaults: { ...policy, callBudget: 100 } },
      { name: 'a' },
    );
    const { monitor, of } = recorded;
    const answer = monitor.control('a', 'x');
    await vi.advanceTimersByTimeAsync(250);
    expect(await answer).toBe(1);
    expect(of('slowCall').map((e) => [e.entryPoint, e.durationMs, e.budgetMs])).toEqual([['control', 250, 100]]);
    await monitor.close();
  });

  it('rejects with MonitorClosedError after close', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: policy });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    await monitor.close();
    await expect(monitor.control('a', 'get-status')).rejects.toSatisfy(isMonitorClosedError);
    await expect(monitor.controlType('rec', 'get-status')).rejects.toSatisfy(isMonitorClosedError);
  });
});

describe('controlType', () => {
  it("answers get-policy (the type's resolved defaults) and get-status (its resources) without typeControl", async () => {
    const rec = recordingType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType({ ...rec.type, defaults: { restartDelay: 900 } });
    monitor.registerType({ ...rec.type, name: 'other' });
    monitor.addResource({ name: 'a', type: 'rec' });
    monitor.addResource({ name: 'b', type: 'other' });
    monitor.addResource({ name: 'c', type: 'rec' });
    expect(await monitor.controlType('rec', 'get-policy')).toMatchObject({ restartDelay: 900, isAlivePollInterval: 5_000 });
    expect(((await monitor.controlType('rec', 'get-status')) as { name: string }[]).map((s) => s.name)).toEqual(['a', 'c']);
    await expect(monitor.controlType('rec', 'get-properties')).rejects.toThrow(/controlType\("rec"\): code is not a control code/);
    await expect(monitor.controlType('nope', 'get-status')).rejects.toSatisfy(isUnknownTypeError);
    await monitor.close();
  });

  it("calls typeControl with the code, input and a context; DEFAULT_PROCESSING falls back to the monitor's codes", async () => {
    const seen: string[] = [];
    const rec = recordingType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType({
      ...rec.type,
      typeControl(code, input, ctx) {
        seen.push(`${ctx.type} ${code} ${JSON.stringify(input)} ${ctx.signal.aborted}`);
        return code === 'list-signals' ? ['SIGTERM', 'SIGINT'] : DEFAULT_PROCESSING;
      },
    });
    expect(await monitor.controlType('rec', 'list-signals', { all: true })).toEqual(['SIGTERM', 'SIGINT']);
    expect(await monitor.controlType('rec', 'get-policy')).toMatchObject({ deadlockTimeout: 2_000 });
    await expect(monitor.controlType('rec', 'what')).rejects.toSatisfy(isConfigError);
    expect(seen).toEqual(['rec list-signals {"all":true} false', 'rec get-policy undefined false', 'rec what undefined false']);
    await monitor.close();
  });

  it('bounds typeControl by deadlockTimeout (its signal aborts) and runs one call per type at a time', async () => {
    const signals: AbortSignal[] = [];
    const starts: number[] = [];
    const rec = recordingType();
    await using recorded = recordedMonitor({ defaults: policy, abortGrace: 100 });
    const { monitor } = recorded;
    monitor.registerType({
      ...rec.type,
      typeControl: (_code, _input, ctx) => {
        starts.push(Date.now());
        signals.push(ctx.signal);
        return never();
      },
    });
    const first = monitor.controlType('rec', 'x').catch((e: unknown) => e);
    const second = monitor.controlType('rec', 'y').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(isCallTimeoutError(await first)).toBe(true);
    expect(signals[0]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(isCallTimeoutError(await second)).toBe(true);
    expect(starts).toEqual([0, 2_100]);
    await vi.advanceTimersByTimeAsync(100);
    await monitor.close();
  });

  it('close abandons a typeControl in flight', async () => {
    let signal: AbortSignal | null = null;
    const rec = recordingType();
    await using monitor = new TestMonitor({ defaults: policy, abortGrace: 0 });
    monitor.registerType({
      ...rec.type,
      typeControl: (_code, _input, ctx) => {
        signal = ctx.signal;
        return never();
      },
    });
    const answer = monitor.controlType('rec', 'x').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    await monitor.close();
    expect(signal!.aborted).toBe(true);
    expect((await answer) as Error).toBeInstanceOf(Error);
  });
});

describe('reportsFailures', () => {
  it('a type that reports failures itself is not polled with looksAlive; isAlive still polls', async () => {
    const rec = recordingType();
    await using recorded = oneResource({ ...rec.type, reportsFailures: true }, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls('looksAlive')).toHaveLength(0);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_000, 10_000]);
    await monitor.setPolicy('a', { looksAlivePollInterval: 500 });
    await vi.advanceTimersByTimeAsync(2_000);
    expect(rec.calls('looksAlive')).toHaveLength(0);
    await monitor.close();
  });

  it('must be a boolean', async () => {
    const rec = recordingType();
    await using monitor = new TestMonitor();
    expect(() => monitor.registerType({ ...rec.type, reportsFailures: 'yes' as never })).toThrow(/type\.reportsFailures must be a boolean/);
  });
});

describe('slowCall for online and offline', () => {
  /** A clock whose time the plugin can move while it blocks the event loop. */
  function steppedClock() {
    let extra = 0;
    return {
      clock: { now: () => Date.now() + extra, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as never) },
      block: (ms: number) => {
        extra += ms;
      },
    };
  }

  it('a synchronous online or offline that blocks longer than callBudget emits slowCall', async () => {
    const { clock, block } = steppedClock();
    const rec = recordingType('rec', { online: () => block(400), offline: () => block(350) });
    await using recorded = oneResource(rec.type, { clock, defaults: { ...policy, callBudget: 300 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await monitor.offline('a');
    expect(of('slowCall').map((e) => [e.entryPoint, e.durationMs, e.budgetMs])).toEqual([
      ['online', 400, 300],
      ['offline', 350, 300],
    ]);
    await monitor.close();
  });

  it('an online that blocks before returning its promise counts only the blocking part; a long asynchronous online is fine', async () => {
    const { clock, block } = steppedClock();
    const rec = recordingType('rec', {
      online: () => {
        block(120);
        return new Promise<void>((resolve) => setTimeout(resolve, 5_000));
      },
    });
    await using recorded = oneResource(rec.type, { clock, defaults: { ...policy, callBudget: 100 } }, { name: 'a' });
    const { monitor, of } = recorded;
    const online = monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    await online;
    expect(of('slowCall').map((e) => [e.entryPoint, e.durationMs])).toEqual([['online', 120]]);
    await monitor.close();
  });

  it('an asynchronous online that takes long emits no slowCall', async () => {
    const rec = recordingType('rec', { online: () => new Promise<void>((resolve) => setTimeout(resolve, 5_000)) });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, callBudget: 100 } }, { name: 'a' });
    const { monitor, of } = recorded;
    const online = monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    await online;
    expect(of('slowCall')).toEqual([]);
    await monitor.close();
  });
});

describe('reportProgress checkpoint', () => {
  it('carries the checkpoint number on the progress event (a non-number is left out)', async () => {
    const rec = recordingType('rec', {
      online: (ctx) => {
        ctx.reportProgress('starting', 0);
        ctx.reportProgress(undefined, 1);
        ctx.reportProgress('no checkpoint');
        ctx.reportProgress('bad', Number.NaN);
      },
    });
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    expect(of('progress').map(({ message, checkpoint }) => ({ message, checkpoint }))).toEqual([
      { message: 'starting', checkpoint: 0 },
      { message: undefined, checkpoint: 1 },
      { message: 'no checkpoint', checkpoint: undefined },
      { message: 'bad', checkpoint: undefined },
    ]);
    expect(of('progress').map((e) => 'checkpoint' in e)).toEqual([true, true, false, false]);
    await monitor.close();
  });
});

describe('control calls and the lane (cases the model suite found)', () => {
  it('close() abandons a hung control of a resource that never came online, and leaves no timer armed', async () => {
    const rec = recordingType();
    const { close: _c, ...type } = rec.type;
    await using monitor = new TestMonitor({ defaults: policy, abortGrace: 300 });
    monitor.registerType({ ...type, control: () => never() });
    monitor.addResource({ name: 'a', type: 'rec' });
    const answer = monitor.control('a', 'x').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    await monitor.close();
    expect(isMonitorClosedError(await answer)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a control queued behind a resolving online runs once the resource is online: a failure it reports fails an online resource', async () => {
    const started = deferred();
    const rec = recordingType('rec', { online: () => started.promise });
    await using recorded = oneResource(
      { ...rec.type, control: (ctx: ResourceContext) => ctx.reportFailure(new Error('lost')) },
      { defaults: policy },
      { name: 'a' },
    );
    const { monitor, transitions } = recorded;
    const online = monitor.online('a');
    await vi.advanceTimersByTimeAsync(10);
    const answer = monitor.control('a', 'x').catch((e: unknown) => e);
    started.resolve();
    await online;
    await answer;
    expect(transitions('a')).toEqual(['0 offline->online-pending', '10 online-pending->online', '10 online->failed']);
    await monitor.close();
  });

  it('terminate does not wait behind a control that was handed the lane but had not started when the failure came', async () => {
    const online = deferred();
    const rec = recordingType('rec', { online: () => online.promise });
    await using recorded = recordedMonitor({ defaults: policy, abortGrace: 100 });
    const { monitor } = recorded;
    let controlled = 0;
    monitor.registerType({ ...rec.type, control: () => (controlled++, never()) });
    monitor.addResource({ name: 'a', type: 'rec' });
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    const answer = monitor.control('a', 'x').catch((e: unknown) => e);
    online.reject(new Error('bind failed'));
    await attempt;
    expect(isStateError(await answer)).toBe(true);
    expect(controlled).toBe(0);
    expect(rec.calls('terminate').map((s) => s.start)).toEqual([10]);
    await monitor.close();
  });

  it('a failure reported before the online call of a type without open started has nothing to terminate', async () => {
    const rec = recordingType();
    const { open: _o, ...type } = rec.type;
    const slow = deferred();
    await using recorded = recordedMonitor({ defaults: { ...policy, restartAction: 'restart', restartDelay: 50 } });
    const { monitor, of } = recorded;
    monitor.registerType({
      ...type,
      control: (ctx: ResourceContext, code: string) => (code === 'slow' ? slow.promise : ctx.reportFailure(new Error('gone'))),
    });
    monitor.addResource({ name: 'a', type: 'rec' });
    void monitor.control('a', 'slow').catch(() => {});
    void monitor.control('a', 'report').catch(() => {});
    await vi.advanceTimersByTimeAsync(10);
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(40);
    slow.resolve(); // the second control runs during online-pending, before the online call
    await attempt;
    expect(rec.calls('online')).toEqual([]);
    expect(rec.calls('terminate')).toEqual([]);
    expect(of('stateChange').map((e) => `${e.at} ${e.to}`)).toEqual(['10 online-pending', '50 failed']);
    expect(of('restartScheduled').map((e) => e.at)).toEqual([50]);
    await vi.advanceTimersByTimeAsync(3_000);
    await monitor.close();
  });
});

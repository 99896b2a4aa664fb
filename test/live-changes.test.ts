import { isCallTimeoutError, isConfigError, type ResourceContext, type ResourceType } from 'resmon';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { oneResource, recordedMonitor } from './helpers/monitor.js';
import { deferred, never, recordingType } from './helpers/recording.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 1_000, isAlivePollInterval: 5_000, restartAction: 'none', deadlockTimeout: 2_000 } as const;

type Props = { port: number };

/** A recording type with typed properties (port must be a positive integer) and a log of what each call saw. */
function portType(extra: Partial<ResourceType<Props>> = {}) {
  const seen: string[] = [];
  const rec = recordingType('port', {
    online: (ctx) => void seen.push(`${Date.now()} online ${(ctx.properties as Props).port}`),
    isAlive: (ctx) => {
      seen.push(`${Date.now()} isAlive ${(ctx.properties as Props).port}`);
      return true;
    },
  });
  const type: ResourceType<Props> = {
    ...(rec.type as unknown as ResourceType<Props>),
    validate(p) {
      const port = (p as { port?: unknown } | null)?.port;
      if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) throw new Error(`port must be a positive integer, got ${String(port)}`);
      return { port };
    },
    ...extra,
  };
  return { type, rec, seen };
}

describe('setProperties', () => {
  it('validates first: a rejection is a ConfigError naming the properties and changes nothing', async () => {
    const { type, seen } = portType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    const error = await monitor.setProperties('a', { port: -3 }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/setProperties\("a"\): properties were rejected by type "port": port must be a positive integer, got -3/);
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 1 });
    await monitor.online('a');
    expect(seen).toEqual(['0 online 1']);
    await monitor.close();
  });

  it('offline: applied at once, and the next online sees the validated properties', async () => {
    const { type, seen } = portType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    expect(await monitor.setProperties('a', { port: 2 })).toBe('applied');
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 2 });
    await monitor.online('a');
    expect(seen).toEqual(['0 online 2']);
    await monitor.close();
  });

  it('online with applyProperties: one call with (next, previous) while ctx.properties is still previous; later calls see next', async () => {
    const applied: string[] = [];
    const { type, rec, seen } = portType({
      applyProperties: (ctx, next, previous) => {
        applied.push(`${Date.now()} ctx ${ctx.properties.port} next ${next.port} previous ${previous.port}`);
      },
    });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    await vi.advanceTimersByTimeAsync(500);
    expect(await monitor.setProperties('a', { port: 2 })).toBe('applied');
    expect(applied).toEqual(['5500 ctx 1 next 2 previous 1']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen).toEqual(['0 online 1', '5000 isAlive 1', '10000 isAlive 2']);
    expect(monitor.getState('a')).toBe('online');
    expect(rec.overlaps()).toEqual([]);
    await monitor.close();
  });

  it("online, applyProperties returns 'stored': the running instance keeps the old properties until the next online", async () => {
    const { type, seen } = portType({ applyProperties: () => 'stored' as const });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    expect(await monitor.setProperties('a', { port: 2 })).toBe('stored');
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 2 });
    await vi.advanceTimersByTimeAsync(5_000);
    await monitor.offline('a');
    await monitor.online('a');
    expect(seen).toEqual(['0 online 1', '5000 isAlive 1', '5000 online 2']);
    await monitor.close();
  });

  it("online without applyProperties: 'stored', effective at the next online (also a restart after a failure)", async () => {
    let healthy = true;
    const { type, seen } = portType();
    await using recorded = recordedMonitor({ defaults: { ...policy, restartAction: 'restart', restartDelay: 100 } });
    const { monitor } = recorded;
    monitor.registerType({ ...type, isAlive: (ctx) => (seen.push(`${Date.now()} isAlive ${ctx.properties.port}`), healthy) });
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    expect(await monitor.setProperties('a', { port: 2 })).toBe('stored');
    healthy = false;
    await vi.advanceTimersByTimeAsync(5_000);
    healthy = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(monitor.getState('a')).toBe('online');
    expect(seen).toEqual(['0 online 1', '5000 isAlive 1', '5100 online 2']);
    await monitor.close();
  });

  it('a rejected applyProperties rejects with its error and leaves the old properties in force', async () => {
    const { type, seen } = portType({
      applyProperties: () => {
        throw new Error('cannot rebind while clients are connected');
      },
    });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    await expect(monitor.setProperties('a', { port: 2 })).rejects.toThrow('cannot rebind while clients are connected');
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 1 });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(seen).toEqual(['0 online 1', '5000 isAlive 1']);
    expect(monitor.getState('a')).toBe('online');
    await monitor.close();
  });

  it('an applyProperties past deadlockTimeout is abandoned: CallTimeoutError, callTimeout event, old properties in force, still online', async () => {
    let signal: AbortSignal | null = null;
    const { type, seen } = portType({
      applyProperties: (ctx) => {
        signal = ctx.signal;
        return never();
      },
    });
    await using recorded = recordedMonitor({ defaults: { ...policy, isAlivePollInterval: 60_000 } });
    const { monitor, of } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    const outcome = monitor.setProperties('a', { port: 2 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(2_000);
    const error = await outcome;
    expect(isCallTimeoutError(error)).toBe(true);
    expect((error as Error).message).toMatch(/applyProperties passed deadlockTimeout \(2000 ms\).*old properties stay in force/);
    expect(signal!.aborted).toBe(true);
    expect(of('callTimeout').map((e) => [e.at, e.entryPoint, e.timeoutMs])).toEqual([[2_000, 'applyProperties', 2_000]]);
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 1 });
    expect(monitor.getState('a')).toBe('online');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toEqual(['0 online 1', '60000 isAlive 1']);
    await monitor.close();
  });

  it('applyProperties waits for the call in flight on the lane (never runs at the same time as a check)', async () => {
    const slow = deferred<boolean>();
    const order: string[] = [];
    const { type, rec } = portType({
      applyProperties: () => void order.push(`${Date.now()} apply`),
    });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType({
      ...type,
      isAlive: (ctx: ResourceContext<Props>) => {
        order.push(`${Date.now()} isAlive ${ctx.properties.port}`);
        return slow.promise.then((v) => (order.push(`${Date.now()} isAlive done`), v));
      },
    });
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    const outcome = monitor.setProperties('a', { port: 2 });
    await vi.advanceTimersByTimeAsync(300);
    expect(order).toEqual(['5000 isAlive 1']);
    slow.resolve(true);
    expect(await outcome).toBe('applied');
    expect(order).toEqual(['5000 isAlive 1', '5300 isAlive done', '5300 apply']);
    expect(rec.overlaps()).toEqual([]);
    await monitor.close();
  });

  it("a change whose applyProperties was still queued when the resource failed is 'stored' for the next online", async () => {
    const slow = deferred<boolean>();
    let applies = 0;
    const { type, seen } = portType({ applyProperties: () => void applies++ });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType({ ...type, isAlive: (ctx) => (seen.push(`${Date.now()} isAlive ${ctx.properties.port}`), slow.promise) });
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    const outcome = monitor.setProperties('a', { port: 2 });
    slow.resolve(false);
    expect(await outcome).toBe('stored');
    expect(applies).toBe(0);
    expect(monitor.getState('a')).toBe('failed');
    await monitor.online('a');
    expect(seen).toEqual(['0 online 1', '5000 isAlive 1', '5000 online 2']);
    await monitor.close();
  });

  it("online-pending: 'stored'; the attempt in progress keeps the old properties", async () => {
    const started = deferred();
    const { type, seen } = portType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType({ ...type, online: (ctx) => (seen.push(`online ${ctx.properties.port}`), started.promise) });
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    const online = monitor.online('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(await monitor.setProperties('a', { port: 2 })).toBe('stored');
    started.resolve();
    await online;
    await monitor.offline('a');
    await monitor.online('a');
    expect(seen).toEqual(['online 1', 'online 2']);
    await monitor.close();
  });

  it('later changes win over earlier ones whatever order their outcomes arrive in', async () => {
    const { type, seen } = portType({ applyProperties: (_ctx, next) => (next.port === 2 ? 'stored' : undefined) });
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await monitor.online('a');
    const [first, second] = await Promise.all([monitor.setProperties('a', { port: 2 }), monitor.setProperties('a', { port: 3 })]);
    expect([first, second]).toEqual(['stored', 'applied']);
    expect(await monitor.control('a', 'get-properties')).toEqual({ port: 3 });
    await monitor.offline('a');
    await monitor.online('a');
    expect(seen).toEqual(['0 online 1', '0 online 3']);
    await monitor.close();
  });

  it('rejects for an unknown resource, a resource being removed, and a closed monitor', async () => {
    const { type } = portType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'port', properties: { port: 1 } });
    await expect(monitor.setProperties('nope', { port: 2 })).rejects.toThrow(/no resource "nope"/);
    const removing = monitor.removeResource('a');
    await expect(monitor.setProperties('a', { port: 2 })).rejects.toThrow(/being removed/);
    await removing;
    await monitor.close();
    await expect(monitor.setProperties('a', { port: 2 })).rejects.toThrow(/closed/);
  });
});

describe('setPolicy', () => {
  it('re-arms both poll schedules from now with the new intervals', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(2_500);
    await monitor.setPolicy('a', { isAlivePollInterval: 3_000, looksAlivePollInterval: 2_000 });
    await vi.advanceTimersByTimeAsync(6_500);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([1_000, 2_000, 4_500, 6_500, 8_500]);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_500, 8_500]);
    await monitor.close();
  });

  it('turns looksAlive off and on again (0, then an interval)', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_500);
    await monitor.setPolicy('a', { looksAlivePollInterval: 0 });
    await vi.advanceTimersByTimeAsync(3_000);
    await monitor.setPolicy('a', { looksAlivePollInterval: 500 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.calls('looksAlive').map((s) => s.start)).toEqual([1_000, 5_000, 5_500]);
    await monitor.close();
  });

  it('a check running when the policy changes is armed with the new interval when it ends (no pile-up)', async () => {
    const slow = deferred<boolean>();
    let first = true;
    const rec = recordingType('rec', {
      isAlive: () => {
        if (!first) return true;
        first = false;
        return slow.promise;
      },
    });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, looksAlivePollInterval: 0 } }, { name: 'a' });
    const { monitor } = recorded;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(5_000);
    await monitor.setPolicy('a', { isAlivePollInterval: 1_000 });
    await vi.advanceTimersByTimeAsync(1_500);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_000]);
    slow.resolve(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.calls('isAlive').map((s) => s.start)).toEqual([5_000, 7_500]);
    expect(rec.overlaps()).toEqual([]);
    await monitor.close();
  });

  it('validates the merged result as addResource does; a ConfigError changes nothing', async () => {
    const rec = recordingType();
    await using recorded = oneResource(rec.type, { defaults: policy }, { name: 'a', policy: { restartPeriod: 10_000, retryPeriodOnFailure: 20_000 } });
    const { monitor } = recorded;
    const before = await monitor.control('a', 'get-policy');
    await expect(monitor.setPolicy('a', { isAlivePollInterval: 0 })).rejects.toThrow(/policy\.isAlivePollInterval must be a number > 0/);
    await expect(monitor.setPolicy('a', { restartPeriod: 30_000 })).rejects.toThrow(/retryPeriodOnFailure .*must be >= restartPeriod \(30000\)/);
    await expect(monitor.setPolicy('a', { pollIntervall: 5 } as never)).rejects.toThrow(/policy\.pollIntervall is not a policy field/);
    await expect(monitor.setPolicy('a', 'fast' as never)).rejects.toSatisfy(isConfigError);
    expect(await monitor.control('a', 'get-policy')).toEqual(before);
    await monitor.close();
  });

  it('merges into the own layer; a field set to undefined falls back to the type and monitor defaults', async () => {
    const rec = recordingType();
    await using recorded = oneResource(
      { ...rec.type, defaults: { restartDelay: 700 } },
      { defaults: policy },
      { name: 'a', policy: { restartDelay: 100, callBudget: 10 } },
    );
    const { monitor } = recorded;
    await monitor.setPolicy('a', { restartDelay: 200 });
    expect(await monitor.control('a', 'get-policy')).toMatchObject({ restartDelay: 200, callBudget: 10, isAlivePollInterval: 5_000 });
    await monitor.setPolicy('a', { restartDelay: undefined });
    expect(await monitor.control('a', 'get-policy')).toMatchObject({ restartDelay: 700, callBudget: 10 });
    await monitor.close();
  });

  it('keeps the restart window: a lower restartThreshold applies from the next failure', async () => {
    let healthy = true;
    const rec = recordingType('rec', { isAlive: () => healthy });
    await using recorded = oneResource(
      rec.type,
      {
        defaults: { ...policy, looksAlivePollInterval: 0, restartAction: 'restart', restartThreshold: 3, restartDelay: 100, restartPeriod: 60_000 },
      },
      { name: 'a' },
    );
    const { monitor, of } = recorded;
    await monitor.online('a');
    healthy = false;
    await vi.advanceTimersByTimeAsync(5_000); // fails; restart 1 scheduled
    healthy = true;
    await vi.advanceTimersByTimeAsync(100); // restart 1 runs
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 1, total: 1, stableAt: null });
    await monitor.setPolicy('a', { restartThreshold: 1 });
    expect(monitor.inspect('a').restarts).toEqual({ inWindow: 1, total: 1, stableAt: null });
    healthy = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(of('restartScheduled').map((e) => [e.attempt, e.retry])).toEqual([
      [1, false],
      [1, true],
    ]);
    expect(of('escalated')).toHaveLength(0);
    await monitor.close();
  });

  it('new deadlines apply to the calls that start afterwards', async () => {
    const rec = recordingType('rec', { isAlive: () => never() });
    await using recorded = oneResource(rec.type, { defaults: { ...policy, looksAlivePollInterval: 0 } }, { name: 'a' });
    const { monitor, of } = recorded;
    await monitor.online('a');
    await monitor.setPolicy('a', { deadlockTimeout: 700 });
    await vi.advanceTimersByTimeAsync(5_700);
    expect(of('callTimeout').map((e) => [e.at, e.entryPoint, e.timeoutMs])).toEqual([[5_700, 'isAlive', 700]]);
    expect(monitor.getState('a')).toBe('failed');
    await vi.advanceTimersByTimeAsync(1_000); // terminate waits abortGrace for the hung isAlive
    await monitor.close();
  });

  it('refuses to change separateMonitor, and separateMonitor: true on an inline type is a ConfigError', async () => {
    const rec = recordingType();
    await using recorded = recordedMonitor({ defaults: policy });
    const { monitor } = recorded;
    monitor.registerType(rec.type);
    monitor.registerType({ ...rec.type, name: 'sep', defaults: { separateMonitor: true } });
    expect(() => monitor.addResource({ name: 'x', type: 'rec', policy: { separateMonitor: true } })).toThrow(
      /resource "x": policy\.separateMonitor applies to hosted types only/,
    );
    expect(() => monitor.addResource({ name: 'y', type: 'sep' })).toThrow(/policy\.separateMonitor applies to hosted types only/);
    expect(() => monitor.addResource({ name: 'x', type: 'rec' })).not.toThrow();
    await expect(monitor.setPolicy('x', { separateMonitor: true })).rejects.toThrow(/setPolicy\("x"\): policy\.separateMonitor/);
    await monitor.close();
  });

  it('a monitor-wide separateMonitor default does not make inline resources fail', async () => {
    const rec = recordingType();
    await using recorded = recordedMonitor({ defaults: { ...policy, separateMonitor: true } });
    const { monitor } = recorded;
    monitor.registerType(rec.type);
    expect(() => monitor.addResource({ name: 'a', type: 'rec' })).not.toThrow();
    await monitor.close();
  });
});

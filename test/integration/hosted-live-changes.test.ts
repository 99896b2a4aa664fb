/**
 * Live changes and control codes across the isolation boundary (DESIGN §11): setProperties
 * validated in the host, applyProperties and control run there on the resource's handle, the
 * answers cloned back, a non-cloneable answer a clear error (the host survives), typeControl in a
 * host of the type. Real worker threads and child processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isCallTimeoutError, isConfigError, ResourceMonitor, type ResourceMonitorEvents } from 'resmon';

const LIVE = new URL('../fixtures/hosted/live.ts', import.meta.url);

let monitors: ResourceMonitor[] = [];
afterEach(async () => {
  await Promise.all(monitors.map((m) => m.close()));
  monitors = [];
});

async function setup(kind: 'worker' | 'process') {
  const monitor = new ResourceMonitor({
    abortGrace: 200,
    defaults: { looksAlivePollInterval: 50, isAlivePollInterval: 100, deadlockTimeout: 10_000, pendingTimeout: 10_000, restartAction: 'none' },
  });
  monitors.push(monitor);
  const checks: Parameters<ResourceMonitorEvents['check']>[0][] = [];
  monitor.on('check', (e) => checks.push(e));
  const progress: Parameters<ResourceMonitorEvents['progress']>[0][] = [];
  monitor.on('progress', (e) => progress.push(e));
  await monitor.registerType({ module: LIVE, exportName: 'live', isolation: kind });
  monitor.addResource({ name: 'r', type: 'live', properties: { port: 1 } });
  await monitor.online('r');
  return { monitor, checks, progress };
}

describe.each(['worker', 'process'] as const)('hosted (%s)', (kind) => {
  it('setProperties: validated in the host (a ConfigError changes nothing), applied there, later calls see the new properties', async () => {
    const { monitor } = await setup(kind);
    const error = await monitor.setProperties('r', { port: -1 }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/port must be a positive integer \(got -1\)/);
    expect(await monitor.control('r', 'echo')).toEqual({ input: undefined, port: 1, applied: [] });
    expect(await monitor.setProperties('r', { port: 2 })).toBe('applied');
    expect(await monitor.control('r', 'echo', { at: new Date(0), tags: new Map([['a', 1]]) })).toEqual({
      input: { at: new Date(0), tags: new Map([['a', 1]]) },
      port: 2,
      applied: [2],
    });
    expect(await monitor.control('r', 'get-properties')).toEqual({ port: 2 });
  });

  it("setProperties 'stored': the running instance keeps the old properties until the next online; a refusal keeps them", async () => {
    const { monitor } = await setup(kind);
    expect(await monitor.setProperties('r', { port: 3, mode: 'stored' })).toBe('stored');
    expect(((await monitor.control('r', 'echo')) as { port: number }).port).toBe(1);
    await expect(monitor.setProperties('r', { port: 4, mode: 'refuse' })).rejects.toThrow(/port 4 refused: clients are connected/);
    await monitor.offline('r');
    await monitor.online('r');
    expect(((await monitor.control('r', 'echo')) as { port: number }).port).toBe(3);
    expect(await monitor.control('r', 'get-properties')).toEqual({ port: 3, mode: 'stored' });
  });

  it('an applyProperties past deadlockTimeout rejects with CallTimeoutError; the host and the resource carry on', async () => {
    const { monitor } = await setup(kind);
    await monitor.setPolicy('r', { deadlockTimeout: 300 });
    const error = await monitor.setProperties('r', { port: 5, mode: 'hang' }).catch((e: unknown) => e);
    expect(isCallTimeoutError(error)).toBe(true);
    expect(monitor.getState('r')).toBe('online');
    expect(((await monitor.control('r', 'echo')) as { port: number }).port).toBe(1);
  });

  it('control: an answer that cannot be cloned is a clear error, not a host crash; errors keep their name', async () => {
    const { monitor } = await setup(kind);
    const host = monitor.inspect('r').host;
    await expect(monitor.control('r', 'function')).rejects.toThrow(/control\("function"\) of "r" returned a value that cannot cross to the monitor/);
    const thrown = (await monitor.control('r', 'throw').catch((e: unknown) => e)) as Error;
    expect([thrown.name, thrown.message]).toEqual(['RangeError', 'bad input for throw']);
    await expect(monitor.control('r', 'nope')).rejects.toThrow(/code is not a control code that type "live" or the monitor knows/);
    expect(await monitor.control('r', 'get-status')).toMatchObject({ name: 'r', state: 'online', host });
    await expect(monitor.control('r', 'echo', () => 1)).rejects.toSatisfy(isConfigError);
    expect(monitor.inspect('r').host).toBe(host);
    expect(monitor.getState('r')).toBe('online');
  });

  it('controlType runs in a host of the type; DEFAULT_PROCESSING gives the monitor codes; a non-cloneable answer is an error', async () => {
    const { monitor } = await setup(kind);
    const where = (await monitor.controlType('live', 'where', [1, 2])) as { pid: number; threadId: number; type: string; input: unknown };
    expect(where.type).toBe('live');
    expect(where.input).toEqual([1, 2]);
    if (kind === 'process') expect(where.pid).not.toBe(process.pid);
    else expect(where.threadId).not.toBe(0);
    expect(await monitor.controlType('live', 'get-policy')).toMatchObject({ deadlockTimeout: 10_000 });
    await expect(monitor.controlType('live', 'symbol')).rejects.toThrow(/returned a value that cannot cross to the monitor/);
    expect(monitor.getState('r')).toBe('online');
  });

  it('reportsFailures and progress checkpoints cross: looksAlive is not polled, isAlive is', async () => {
    const { monitor, checks, progress } = await setup(kind);
    expect(progress.map(({ entryPoint, message, checkpoint }) => ({ entryPoint, message, checkpoint }))).toEqual([
      { entryPoint: 'online', message: 'bound', checkpoint: 1 },
    ]);
    await new Promise<void>((resolve) => {
      const on = () => {
        if (checks.filter((c) => c.kind === 'isAlive').length >= 3) {
          monitor.off('check', on);
          resolve();
        }
      };
      monitor.on('check', on);
    });
    expect(checks.filter((c) => c.kind === 'looksAlive')).toEqual([]);
  });
});

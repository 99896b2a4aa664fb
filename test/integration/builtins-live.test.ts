/**
 * Live changes of the built-in `process` type (real child processes): a change of what the
 * process was started with is stored for the next online, the rest applies at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createProcessType, type ProcessProperties, ResourceMonitor } from 'resmon';
import { fixture, freePort, until } from '../fixtures/servers/procs.js';

const node = process.execPath;
const monitors: ResourceMonitor[] = [];
afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});

function setup(properties: ProcessProperties) {
  const type = createProcessType();
  const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 60_000, restartAction: 'none' } });
  monitors.push(monitor);
  monitor.registerType(type);
  monitor.addResource({ name: 'p', type: 'process', properties });
  return { monitor, output: () => type.output('p')! };
}

const printer = (greeting: string): ProcessProperties => ({
  command: node,
  args: ['-e', 'console.log("hello " + process.env.GREETING + " " + process.argv[1]); setInterval(() => {}, 1000)', greeting],
  env: { GREETING: greeting },
});

describe('process type: setProperties', () => {
  it("env and args changes are 'stored': the running process keeps them, the next online starts with the new ones", async () => {
    const { monitor, output } = setup(printer('one'));
    await monitor.online('p');
    await until(() => output().stdout.includes('hello one one'), 'the first greeting');
    const pid = output().pid;
    expect(await monitor.setProperties('p', printer('two'))).toBe('stored');
    expect(output().pid).toBe(pid);
    expect(output().running).toBe(true);
    await monitor.offline('p');
    await monitor.online('p');
    await until(() => output().stdout.includes('hello two two'), 'the second greeting');
    expect(output().pid).not.toBe(pid);
  });

  it('stopTimeout applies at once: the next offline kills a process that ignores SIGTERM after the new timeout', async () => {
    const port = await freePort();
    const base: ProcessProperties = {
      command: node,
      args: [fixture('http-server.mjs')],
      env: { PORT: String(port), IGNORE_TERM: '1' },
      readiness: { tcp: { port }, interval: 20 },
      stopTimeout: 60_000,
    };
    const { monitor, output } = setup(base);
    await monitor.online('p');
    const pid = output().pid;
    expect(await monitor.setProperties('p', { ...base, stopTimeout: 200, outputLines: 5 })).toBe('applied');
    expect(output().pid).toBe(pid);
    const started = Date.now();
    await monitor.offline('p');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(output().lastExit).toMatchObject({ signal: 'SIGKILL' });
  });

  it('a new health probe applies at once: the next isAlive uses it', async () => {
    const port = await freePort();
    const base: ProcessProperties = {
      command: node,
      args: [fixture('http-server.mjs')],
      env: { PORT: String(port) },
      readiness: { tcp: { port }, interval: 20 },
      health: { tcp: { port } },
    };
    const { monitor } = setup(base);
    const checks: { ok: boolean; reason?: string }[] = [];
    monitor.on('check', (e) => checks.push(e));
    await monitor.online('p');
    const closed = await freePort();
    expect(await monitor.setProperties('p', { ...base, health: { tcp: { port: closed, timeout: 500 } } })).toBe('applied');
    await monitor.setPolicy('p', { isAlivePollInterval: 50 });
    await until(() => checks.length > 0, 'an isAlive check');
    expect(checks[0]).toMatchObject({ ok: false });
    expect(checks[0]?.reason).toMatch(new RegExp(`127\\.0\\.0\\.1:${closed}`));
  });
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigError, isDuplicateError, isMonitorClosedError, ResourceMonitor } from 'resmon';
import { SCRIPTED } from '../contract.suite.js';
import { scripted } from '../fixtures/hosted/scripted.js';

const fixture = (file: string) => fileURLToPath(new URL(`../fixtures/hosted/${file}`, import.meta.url));

let monitor: ResourceMonitor;
afterEach(async () => {
  await monitor?.close();
});

describe.each(['worker', 'process'] as const)('registering a type in a %s host', (isolation) => {
  it('rejects with a ConfigError naming the module when the module throws as it loads', async () => {
    monitor = new ResourceMonitor();
    const error = await monitor.registerType({ module: fixture('throws-on-load.ts'), isolation }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ field: 'module' });
    expect((error as Error).message).toContain('this module fails to load');
    expect((error as Error).message).toContain(`in a ${isolation} host`);
  });

  it('rejects with a ConfigError when the export is not a valid resource type', async () => {
    monitor = new ResourceMonitor();
    const error = await monitor.registerType({ module: fixture('not-a-type.ts'), isolation }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/type\.isAlive must be a function/);
  });

  it('rejects with a ConfigError when the module has no such export', async () => {
    monitor = new ResourceMonitor();
    const error = await monitor.registerType({ module: SCRIPTED, exportName: 'nothing', isolation }).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/exportName is not exported by .*\(its exports: default, scripted, scripted2\) \(got "nothing"\)/);
  });

  it('registers the type by the name it exports, with its defaults, and refuses a second one of that name', async () => {
    monitor = new ResourceMonitor();
    await monitor.registerType({ module: SCRIPTED, exportName: 'scripted', isolation });
    monitor.addResource({ name: 'a', type: 'scripted' });
    expect(monitor.inspect('a').host).toMatch(new RegExp(`^${isolation}-\\d+$`));
    const error = await monitor.registerType({ module: new URL(`file://${SCRIPTED}`), isolation }).catch((e: unknown) => e);
    expect(isDuplicateError(error)).toBe(true);
  });
});

describe('registerType() with a module spec', () => {
  it('imports an inline module into the monitor itself', async () => {
    monitor = new ResourceMonitor();
    await monitor.registerType({ module: SCRIPTED, exportName: 'scripted2', isolation: 'inline' });
    monitor.addResource({ name: 'a', type: 'scripted-2' });
    await monitor.online('a');
    expect(monitor.inspect('a').host).toBeNull();
  });

  it('keeps the synchronous overload for plugin objects', () => {
    monitor = new ResourceMonitor();
    expect(monitor.registerType(scripted)).toBeUndefined();
  });

  it.each([
    [{ module: 'some-package', isolation: 'worker' }, 'module'],
    [{ module: SCRIPTED, isolation: 'thread' }, 'isolation'],
    [{ module: SCRIPTED, isolation: 'worker', exportName: '' }, 'exportName'],
    [{ module: SCRIPTED, isolation: 'worker', resourceLimits: { maxOldGenerationSizeMb: -1 } }, 'resourceLimits.maxOldGenerationSizeMb'],
    [{ module: SCRIPTED, isolation: 'worker', resourceLimits: { heap: 1 } }, 'resourceLimits.heap'],
    [{ module: SCRIPTED, isolation: 'worker', execArgv: [1] }, 'execArgv'],
    [{ module: SCRIPTED, isolation: 'worker', priority: 1 }, 'priority'],
  ])('rejects a bad spec %o with a ConfigError naming %s', async (spec, field) => {
    monitor = new ResourceMonitor();
    const error = await (monitor.registerType(spec as never) as unknown as Promise<void>).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect(error).toMatchObject({ field });
  });

  it('rejects after close() with MonitorClosedError', async () => {
    monitor = new ResourceMonitor();
    await monitor.close();
    const error = await monitor.registerType({ module: SCRIPTED, isolation: 'worker' }).catch((e: unknown) => e);
    expect(isMonitorClosedError(error)).toBe(true);
  });
});

describe('close()', () => {
  it('ends every worker and child process: nothing outlives it, nor a failed registration', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture('exit-after-close.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 45_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { failures: string[]; pids: number[]; hosts: string[] };
    expect(report.failures).toEqual(['ConfigError', 'ConfigError', 'ConfigError', 'ConfigError']);
    expect(new Set(report.hosts).size).toBe(4);
    expect(report.pids.length).toBeGreaterThanOrEqual(2);
    for (const pid of report.pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);
});

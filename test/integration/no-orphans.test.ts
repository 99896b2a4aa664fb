// Nothing is left behind, however the owner of `process` resources ends (a SIGKILL, a signal it
// does not handle, `resmon run` losing its terminal), and a grandchild that left the process group
// is stopped with it. Real processes, each test bounded in time.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProcessType, ResourceMonitor } from 'resmon';
import { runJson } from '../fixtures/servers/cli.js';
import { allGone, fixture, isGone, until } from '../fixtures/servers/procs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-orphans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const started: ChildProcess[] = [];
const pidsToReap: number[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const pid of pidsToReap.splice(0)) if (!isGone(pid)) process.kill(pid, 'SIGKILL');
});

/** Starts the owner fixture; resolves with its child's pids and its watchdog's pid once the resource is online. */
async function owner(): Promise<{ child: ChildProcess; pids: number[]; watchdog: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture('owner.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  const lines = createInterface({ input: child.stdout! });
  let pids: number[] = [];
  let watchdog = 0;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the owner did not report its pids in 15 s')), 15_000);
    lines.on('line', (line) => {
      if (line.startsWith('pids ')) pids = line.slice(5).split(' ').map(Number);
      if (line.startsWith('watchdog ')) {
        watchdog = Number(line.slice(9));
        clearTimeout(timer);
        resolve();
      }
    });
  });
  pidsToReap.push(...pids);
  return { child, pids, watchdog };
}

/** Resolves with the ms it took for every pid to be gone (rejects after `limit` ms). */
async function goneWithin(pids: number[], limit: number): Promise<number> {
  const start = Date.now();
  await until(() => pids.every(isGone), `pids ${pids.join(', ')} to be gone`, limit);
  return Date.now() - start;
}

describe('the owner of process resources dies', () => {
  it('SIGKILL: its children and grandchildren (ignoring SIGTERM) end within 2 s, and so does the watchdog', async () => {
    const { child, pids, watchdog } = await owner();
    expect(pids).toHaveLength(2);
    expect(watchdog).toBeGreaterThan(0);
    expect(pids.every((pid) => !isGone(pid))).toBe(true);
    child.kill('SIGKILL');
    await goneWithin([...pids, watchdog], 2_000);
  });

  it('an unhandled SIGTERM: the same', async () => {
    const { child, pids } = await owner();
    child.kill('SIGTERM');
    await goneWithin(pids, 2_000);
  });

  it('an unhandled SIGHUP (its terminal closed): the same', async () => {
    const { child, pids } = await owner();
    child.kill('SIGHUP');
    await goneWithin(pids, 2_000);
  });
});

describe('a grandchild that leaves the process group', () => {
  const monitors: ResourceMonitor[] = [];
  afterEach(async () => {
    await Promise.all(monitors.splice(0).map((m) => m.close()));
  });

  async function detachedFamily(env: Record<string, string>) {
    const type = createProcessType();
    const monitor = new ResourceMonitor();
    monitors.push(monitor);
    monitor.registerType(type);
    monitor.addResource({
      name: 'p',
      type: 'process',
      properties: { command: process.execPath, args: [fixture('forker.mjs')], env: { GRANDCHILD_DETACHED: '1', ...env }, stopTimeout: 500 },
    });
    await monitor.online('p');
    await until(() => type.output('p')!.stdout.some((l) => l.startsWith('pids ')), 'the forker pids');
    const pids = type.output('p')!.stdout.find((l) => l.startsWith('pids '))!.slice(5).split(' ').map(Number);
    pidsToReap.push(...pids);
    return { monitor, pids };
  }

  it('is stopped by offline with the stop signal', async () => {
    const { monitor, pids } = await detachedFamily({});
    await monitor.offline('p');
    await allGone(pids);
  });

  it('is SIGKILLed with the group when it ignores the stop signal', async () => {
    const { monitor, pids } = await detachedFamily({ GRANDCHILD_IGNORE_TERM: '1' });
    await monitor.offline('p');
    await allGone(pids);
  });

  it('is killed by terminate', async () => {
    const { monitor, pids } = await detachedFamily({ GRANDCHILD_IGNORE_TERM: '1', PARENT_IGNORE_TERM: '1' });
    await monitor.terminate('p');
    await allGone(pids);
  });
});

describe('resmon run killed with SIGKILL', () => {
  it('its processes and their grandchildren end within 2 s (the watchdog)', async () => {
    const config = path.join(dir, 'killed.yaml');
    writeFileSync(
      config,
      [
        'resources:',
        '  - name: family',
        '    type: process',
        '    properties:',
        `      command: ${JSON.stringify(process.execPath)}`,
        `      args: [${JSON.stringify(fixture('forker.mjs'))}]`,
        '      env: { GRANDCHILD_IGNORE_TERM: "1", PARENT_IGNORE_TERM: "1" }',
        '',
      ].join('\n'),
    );
    const run = runJson(config);
    await run.next(run.state('family', 'online'), 'family online');
    const pids = String((await run.next((l) => l.event === 'log' && String(l.msg).startsWith('pids '), 'the forker pids')).msg)
      .split(' ')
      .slice(1)
      .map(Number);
    pidsToReap.push(...pids);
    run.child.kill('SIGKILL');
    await run.exited;
    await goneWithin(pids, 2_000);
  });
});

describe('the owner of a process host dies', () => {
  it("SIGKILL: the host terminates its plugin's resources (and what they started) and exits", async () => {
    // The plugin starts its program with a plain spawn: nothing of resmon's tracks it; only the
    // plugin's terminate, which the host runs when its IPC channel closes, stops it.
    const child = spawn(process.execPath, ['--import', 'tsx', fixture('hosted-owner.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.push(child);
    const lines = createInterface({ input: child.stdout! });
    const pids = await new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the owner did not report its pids in 15 s')), 15_000);
      lines.on('line', (line) => {
        if (!line.startsWith('pids ')) return;
        clearTimeout(timer);
        resolve(line.slice(5).split(' ').map(Number));
      });
    });
    pidsToReap.push(...pids);
    expect(pids).toHaveLength(2);
    expect(pids.every((pid) => !isGone(pid))).toBe(true);
    child.kill('SIGKILL');
    await goneWithin(pids, 3_000);
  });
});

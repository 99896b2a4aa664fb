/**
 * Isolation (DESIGN §7): what a plugin that hangs or dies does to its host, to the resources
 * sharing it, and to everyone else. Real worker threads and child processes, real timers, small
 * policies; every wait is on an event.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigError, type ResourcePolicy } from 'resmon';
import { fresh, scriptedMonitor } from '../contract.suite.js';
import { scripted2, type ScriptedProperties, type Step } from '../fixtures/hosted/scripted.js';

const HEAP_LIMIT = fileURLToPath(new URL('../fixtures/hosted/heap-limit.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'resmon-hosted-'));
const once = (name: string) => join(dir, `${name}-${Math.random().toString(36).slice(2)}`);

type Kind = 'worker' | 'process';
const INTERVAL = 200;

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.map((c) => c()));
  closers = [];
});

/**
 * A monitor with, besides the resource under test (`victim`, in the shared host of `kind`):
 * `mate` in the same host, `apart` in a host of its own (separateMonitor) and `local`, inline.
 */
/**
 * Deadlines that a host's start-up (a second or so for a TypeScript host under load) fits in;
 * a test about a deadlock gives its victim a tight one.
 */
const ROOMY: Partial<ResourcePolicy> = { deadlockTimeout: 10_000, pendingTimeout: 10_000 };

async function scene(kind: Kind, victimSteps: Step[], victimPolicy: Partial<ResourcePolicy> = {}) {
  const policy: Partial<ResourcePolicy> = {
    ...ROOMY,
    looksAlivePollInterval: 0,
    isAlivePollInterval: INTERVAL,
    restartDelay: 50,
    restartThreshold: 5,
  };
  const m = await scriptedMonitor(kind, policy);
  closers.push(() => m.monitor.close());
  m.monitor.registerType(scripted2);
  const names = { victim: fresh('victim'), mate: fresh('mate'), apart: fresh('apart'), local: fresh('local') };
  m.monitor.addResource({ name: names.mate, type: 'scripted' });
  m.monitor.addResource({ name: names.apart, type: 'scripted', policy: { separateMonitor: true } });
  m.monitor.addResource({ name: names.local, type: 'scripted-2' });
  await Promise.all([names.mate, names.apart, names.local].map((n) => m.monitor.online(n)));
  // The victim joins the running shared host; its steps run after a first passing check, once
  // (a file marks them done, across host restarts).
  const properties: ScriptedProperties = { steps: { isAlive: [{ do: 'ok' }, ...victimSteps] } };
  m.monitor.addResource({ name: names.victim, type: 'scripted', properties, policy: victimPolicy });
  await m.monitor.online(names.victim);
  return { ...m, names };
}

type Scene = Awaited<ReturnType<typeof scene>>;
/** Where the first event matching `match` is in the order the monitor emitted them (-1: none). */
const position = (m: Scene, match: (e: Scene['events'][number]) => boolean) => m.events.findIndex(match);
/** The positions of `resource`'s check events, in order. */
const checkPositions = (m: Scene, resource: string) =>
  m.events.flatMap((e, i) => (e.event === 'check' && e.resource === resource ? [i] : []));

describe.each(['worker', 'process'] as const)('a %s host', (kind) => {
  it('kills a host stuck in a synchronous loop in isAlive, fails and restarts its resources, and moves the stuck one into a host of its own', async () => {
    // restartDelay: the victim restarts in a new host of its own, which has that long to start.
    const m = await scene(kind, [{ do: 'spin', once: once('spin') }], { deadlockTimeout: 500, restartDelay: 2_000 });
    const { victim, mate, apart, local } = m.names;
    const before = { victim: m.monitor.inspect(victim).host, mate: m.monitor.inspect(mate).host, apart: m.monitor.inspect(apart).host };
    expect(before.victim).toBe(before.mate);
    expect(before.apart).not.toBe(before.victim);

    const exited = new Promise<Record<string, unknown>>((resolve) => m.monitor.once('hostExit', (e) => resolve({ ...e })));
    const failed = await m.monitor.waitFor(victim, 'failed', { timeout: 15_000 });
    expect(failed.lastChecks.isAlive?.reason).toBe('passed deadlockTimeout (500 ms)');
    const exit = await exited;
    expect(exit).toMatchObject({ resource: victim, host: before.victim });
    expect((exit.resources as string[]).sort()).toEqual([mate, victim].sort());
    expect(exit.reason).toContain(`isAlive of "${victim}" passed deadlockTimeout (500 ms)`);
    if (kind === 'process') expect(exit.signal).toBe('SIGKILL');

    // Both resources of the dead host fail and come back; the stuck one in a host of its own.
    await m.until(() => m.of('stateChange', mate).some((e) => e.to === 'failed'), 'the mate to fail');
    await m.monitor.waitFor(victim, 'online', { timeout: 15_000 });
    await m.monitor.waitFor(mate, 'online', { timeout: 15_000 });
    const after = { victim: m.monitor.inspect(victim).host, mate: m.monitor.inspect(mate).host };
    expect(after.victim).not.toBe(before.victim);
    expect(after.mate).not.toBe(before.victim);
    expect(after.victim).not.toBe(after.mate);
    expect(m.monitor.inspect(victim).generation).toBe(2);

    // The inline resource and the one in another host never noticed: online throughout, every
    // check passed, and they were polled while the victim's isAlive was stuck (between its last
    // passing check and its failure) and after its host was killed.
    const stuckFrom = position(m, (e) => e.event === 'check' && e.resource === victim && e.ok === true);
    const failedAt = position(m, (e) => e.event === 'check' && e.resource === victim && e.ok === false);
    const killedAt = position(m, (e) => e.event === 'hostExit');
    expect(stuckFrom).toBeGreaterThanOrEqual(0);
    expect(failedAt).toBeGreaterThan(stuckFrom);
    await m.until(() => [apart, local].every((r) => checkPositions(m, r).filter((i) => i > killedAt).length >= 2), 'polls after the kill');
    for (const other of [apart, local]) {
      expect(m.of('stateChange', other).map((e) => e.to)).toEqual(['online-pending', 'online']);
      expect(m.of('check', other).every((e) => e.ok === true)).toBe(true);
      expect(checkPositions(m, other).some((i) => i > stuckFrom && i < failedAt), `${other} polled while the victim was stuck`).toBe(true);
    }
    expect(m.of('hostExit')).toHaveLength(1);
  }, 30_000);

  it('handles process.exit() inside a plugin as the host dying', async () => {
    const m = await scene(kind, [{ do: 'exit', code: 7, once: once('exit') }]);
    const { victim, mate, apart, local } = m.names;
    await m.monitor.waitFor(victim, 'failed', { timeout: 15_000 });
    const [exit] = m.of('hostExit');
    expect(exit).toMatchObject({ code: 7 });
    expect(exit?.reason).toContain('exited with code 7');
    await m.monitor.waitFor(victim, 'online', { timeout: 15_000 });
    await m.monitor.waitFor(mate, 'online', { timeout: 15_000 });
    expect(m.of('stateChange', mate).map((e) => e.to)).toEqual(['online-pending', 'online', 'failed', 'online-pending', 'online']);
    for (const other of [apart, local]) expect(m.monitor.getState(other)).toBe('online');
  }, 30_000);

  it('handles an uncaught exception thrown from a timer inside a plugin as the host dying', async () => {
    const m = await scene(kind, [{ do: 'timerThrow', message: 'boom from a timer', ms: 20, once: once('timer') }]);
    const { victim, apart, local } = m.names;
    const exited = new Promise<Record<string, unknown>>((resolve) => m.monitor.once('hostExit', (e) => resolve({ ...e })));
    await m.monitor.waitFor(victim, 'failed', { timeout: 15_000 });
    expect((await exited).reason).toContain('boom from a timer');
    expect(m.monitor.inspect(victim).lastChecks.isAlive?.ok).toBe(true);
    expect(m.of('stateChange', victim).find((e) => e.to === 'failed')?.reason).toContain('boom from a timer');
    await m.monitor.waitFor(victim, 'online', { timeout: 15_000 });
    for (const other of [apart, local]) expect(m.monitor.getState(other)).toBe('online');
  }, 30_000);

  it('stops a plugin that passes its heap limit by ending its host, not the embedder', async () => {
    // In a child process whose stderr is captured: a process host's out-of-memory death prints
    // V8's native report there, which belongs in this test's assertions, not in the suite's output.
    const child = spawn(process.execPath, ['--import', 'tsx', HEAP_LIMIT, kind], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    const seen = JSON.parse(stdout) as { apart: boolean; exits: string[][]; leaky: string[]; mate: string[] };
    expect(seen.apart).toBe(true);
    expect(seen.exits).toEqual([['leaky']]);
    expect(seen.leaky).toEqual(['online-pending', 'online', 'failed', 'online-pending', 'online']);
    expect(seen.mate).toEqual(['online-pending', 'online']);
    if (kind === 'process') expect(stderr).toMatch(/heap/i);
  }, 40_000);

  it('treats a malformed message from a host as that host failing', async () => {
    const m = await scene(kind, [{ do: 'garbage', once: once('garbage') }]);
    const { victim, mate, local } = m.names;
    await m.monitor.waitFor(victim, 'failed', { timeout: 15_000 });
    const [exit] = m.of('hostExit');
    expect(exit?.reason).toContain('broke the host protocol');
    expect(m.log.lines.some((l) => l.level === 'error' && l.message.includes('broke the host protocol'))).toBe(true);
    await m.monitor.waitFor(victim, 'online', { timeout: 15_000 });
    await m.monitor.waitFor(mate, 'online', { timeout: 15_000 });
    expect(m.monitor.getState(local)).toBe('online');
  }, 30_000);

  it('runs the type validate in the host: invalid properties fail the first call with a ConfigError', async () => {
    const m = await scriptedMonitor(kind, { ...ROOMY, restartAction: 'none' });
    closers.push(() => m.monitor.close());
    const r = fresh('invalid');
    m.monitor.addResource({ name: r, type: 'scripted', properties: { invalid: true } });
    const error = await m.monitor.online(r).catch((e: unknown) => e);
    expect(isConfigError(error)).toBe(true);
    expect((error as Error).message).toContain('were rejected by type "scripted": invalid is set');
    expect(() => m.monitor.addResource({ name: fresh('fn'), type: 'scripted', properties: { f: () => 1 } })).toThrow(/structured-cloneable/);
  });

  it('gives separateMonitor resources hosts of their own, and stops a host when its last resource is removed', async () => {
    const m = await scriptedMonitor(kind, ROOMY);
    closers.push(() => m.monitor.close());
    const [a, b, c] = [fresh('a'), fresh('b'), fresh('c')];
    m.monitor.addResource({ name: a, type: 'scripted' });
    m.monitor.addResource({ name: b, type: 'scripted' });
    m.monitor.addResource({ name: c, type: 'scripted', policy: { separateMonitor: true } });
    await Promise.all([a, b, c].map((n) => m.monitor.online(n)));
    const hosts = [a, b, c].map((n) => m.monitor.inspect(n).host);
    expect(hosts[0]).toBe(hosts[1]);
    expect(hosts[2]).not.toBe(hosts[0]);
    const pidOf = (name: string) => m.log.lines.find((l) => l.fields.resource === name && l.fields.call === 'online')?.fields.pid as number;
    await m.monitor.removeResource(a);
    await m.monitor.removeResource(b);
    if (kind === 'process') {
      // The shared host ended with its last resource; the separate one lives on.
      expect(() => process.kill(pidOf(a), 0)).toThrow();
      expect(process.kill(pidOf(c), 0)).toBe(true);
    }
    const d = fresh('d');
    m.monitor.addResource({ name: d, type: 'scripted' });
    await m.monitor.online(d);
    expect(m.monitor.inspect(d).host).not.toBe(hosts[0]);
    expect(m.of('hostExit')).toHaveLength(0);
  });
});

describe('a process host', () => {
  it('survives a crashing native call in a plugin: only the child dies, on its signal', async () => {
    const m = await scene('process', [{ do: 'kill', once: once('segv') }]);
    const { victim, apart, local } = m.names;
    await m.monitor.waitFor(victim, 'failed', { timeout: 15_000 });
    expect(m.of('hostExit')[0]).toMatchObject({ signal: 'SIGSEGV', code: null });
    await m.monitor.waitFor(victim, 'online', { timeout: 15_000 });
    for (const other of [apart, local]) expect(m.monitor.getState(other)).toBe('online');
  }, 30_000);
});

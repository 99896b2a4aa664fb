/**
 * Isolation (DESIGN §7): what a plugin that hangs or dies does to its host, to the resources
 * sharing it, and to everyone else. Real worker threads and child processes, real timers, small
 * policies; every wait is on an event.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigError, type ResourcePolicy } from 'resmon';
import { fresh, SCRIPTED, scriptedMonitor } from '../contract.suite.js';
import { scripted2, type ScriptedProperties, type Step } from '../fixtures/hosted/scripted.js';

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

/** Check event times of `resource`. */
const checkTimes = (m: Awaited<ReturnType<typeof scene>>, resource: string) => m.of('check', resource).map((e) => e.at as number);

function maxGap(times: number[]): number {
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

describe.each(['worker', 'process'] as const)('a %s host', (kind) => {
  it('kills a host stuck in a synchronous loop in isAlive, fails and restarts its resources, and moves the stuck one into a host of its own', async () => {
    // restartDelay: the victim restarts in a new host of its own, which has that long to start.
    const m = await scene(kind, [{ do: 'spin', once: once('spin') }], { deadlockTimeout: 500, restartDelay: 2_000 });
    const { victim, mate, apart, local } = m.names;
    const before = { victim: m.monitor.inspect(victim).host, mate: m.monitor.inspect(mate).host, apart: m.monitor.inspect(apart).host };
    expect(before.victim).toBe(before.mate);
    expect(before.apart).not.toBe(before.victim);

    const exited = new Promise<Record<string, unknown>>((resolve) => m.monitor.once('hostExit', (e) => resolve({ ...e, seen: Date.now() })));
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

    // The inline resource and the one in another host never noticed: online throughout, polled on time.
    const seen = exit.seen as number;
    await m.until(() => checkTimes(m, local).filter((t) => t > seen).length >= 2, 'polls after the kill');
    for (const other of [apart, local]) {
      expect(m.of('stateChange', other).map((e) => e.to)).toEqual(['online-pending', 'online']);
      const times = checkTimes(m, other);
      expect(times.filter((t) => t > seen - 500 && t <= seen).length).toBeGreaterThanOrEqual(1);
      expect(maxGap(times)).toBeLessThanOrEqual(3 * INTERVAL);
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
    const m = await scriptedMonitor(kind, { ...ROOMY, looksAlivePollInterval: 0, isAlivePollInterval: INTERVAL, restartDelay: 50 });
    closers.push(() => m.monitor.close());
    await m.monitor.registerType({ module: SCRIPTED, exportName: 'scripted2', isolation: kind, resourceLimits: { maxOldGenerationSizeMb: 48 } });
    const leaky = fresh('leaky');
    const mate = fresh('mate');
    m.monitor.addResource({ name: mate, type: 'scripted' });
    m.monitor.addResource({ name: leaky, type: 'scripted-2', properties: { steps: { isAlive: [{ do: 'leak', once: once('leak') }] } } });
    await Promise.all([m.monitor.online(leaky), m.monitor.online(mate)]);
    expect(m.monitor.inspect(leaky).host).not.toBe(m.monitor.inspect(mate).host);
    await m.monitor.waitFor(leaky, 'failed', { timeout: 20_000 });
    const [exit] = m.of('hostExit');
    expect(exit?.resources).toEqual([leaky]);
    await m.monitor.waitFor(leaky, 'online', { timeout: 20_000 });
    expect(m.of('stateChange', mate).map((e) => e.to)).toEqual(['online-pending', 'online']);
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

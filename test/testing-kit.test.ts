import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isConfigError, ResourceMonitor, type ResourceType } from 'resmon';
import {
  CASE_NAMES,
  verifyResourceType,
  createFakeClock,
  describeResourceType,
  formatReport,
  recordCalls,
} from 'resmon/testing';
import { verifyTypeMain } from '../src/cli/verify-type.js';
import { main } from '../src/cli/main.js';
import offlineLeavesUp from './fixtures/broken-types/offline-leaves-up.js';
import { tcpServerType } from './fixtures/broken-types/tcp-server-type.js';
import { TestMonitor } from './helpers/monitor.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/broken-types/${name}`, import.meta.url));

/** An in-memory type whose entry points resolve at once, for the fake-clock tests. */
function memoryType(name = 'memory', isAlive: () => boolean | Promise<boolean> = () => true): ResourceType {
  return { name, online() {}, offline() {}, terminate() {}, looksAlive: () => true, isAlive };
}

describe('describeResourceType', () => {
  it('registers one describe block named after the type and one test per conformance case, in order', () => {
    const blocks: string[] = [];
    const tests: string[] = [];
    describeResourceType(tcpServerType(), { properties: { port: 0 } }, {
      describe: (name, fn) => {
        blocks.push(name);
        fn();
      },
      it: (name) => void tests.push(name),
    });
    expect(blocks).toEqual(['resource type "tcp-server" meets the resmon contract']);
    expect(tests).toEqual([...CASE_NAMES]);
  });

  it('fails the test of a broken case with its reason, passes the others, and honours only', async () => {
    const tests = new Map<string, () => Promise<void>>();
    describeResourceType(offlineLeavesUp, { properties: { port: 0 }, only: ['offline', 'validate'] }, {
      describe: (_name, fn) => fn(),
      it: (name, fn) => void tests.set(name, fn),
    });
    expect([...tests.keys()]).toEqual(CASE_NAMES.filter((n) => n.includes('offline') || n.includes('validate')));
    expect(tests.size).toBe(6);
    await expect(tests.get('offline takes the resource down: isAlive is false')?.()).rejects.toThrow(
      'offline takes the resource down: isAlive is false: isAlive returned true after offline: the resource is still up',
    );
    await expect(tests.get('online, offline, then online again brings it back up')?.()).resolves.toBeUndefined();
  });

  it('reports a malformed type when its first test runs, not while the tests are collected', async () => {
    const tests: (() => Promise<void>)[] = [];
    const broken = { name: 'no-entry-points' } as unknown as ResourceType;
    expect(() => describeResourceType(broken, {}, { describe: (_n, fn) => fn(), it: (_n, fn) => void tests.push(fn) })).not.toThrow();
    await expect(tests[0]?.()).rejects.toSatisfy(isConfigError);
  });
});

describe('verifyResourceType options', () => {
  it('rejects unknown or negative limits and a non-function breakResource with a ConfigError naming the field', async () => {
    const type = tcpServerType();
    await expect(verifyResourceType(type, { limits: { deadlock: 5 } as never })).rejects.toThrow(/options\.limits\.deadlock is not a limit/);
    await expect(verifyResourceType(type, { limits: { abortGrace: -1 } })).rejects.toThrow(/options\.limits\.abortGrace must be a finite number >= 0/);
    await expect(verifyResourceType(type, { breakResource: 'kill' as never })).rejects.toSatisfy(isConfigError);
    await expect(verifyResourceType(type, { invalidProperties: 'x' as never })).rejects.toThrow(/options\.invalidProperties/);
  });

  it('runs the type under the monitor with options.policy: a probe that fails once passes with isAliveFailureThreshold 2', async () => {
    // The first isAlive after each online fails, the next passes (a slow first probe).
    const flakyFirstProbe = (): ResourceType => {
      let probes = 0;
      return { ...memoryType('flaky-first-probe'), online: () => void (probes = 0), isAlive: () => ++probes > 1 };
    };
    const only = ['runs under a ResourceMonitor'];
    const strict = await verifyResourceType(flakyFirstProbe(), { only });
    expect(strict.cases[0]?.reason).toMatch(/did not stay online under the monitor: .*online -> failed \(isAlive returned false\)/);
    const tolerant = await verifyResourceType(flakyFirstProbe(), { only, policy: { isAliveFailureThreshold: 2 } });
    expect(tolerant.passed, formatReport(tolerant)).toBe(true);
    await expect(verifyResourceType(flakyFirstProbe(), { only, policy: { isAliveFailureThreshold: 0 } })).rejects.toThrow(
      /options\.policy\.isAliveFailureThreshold must be an integer >= 1 \(got 0\)/,
    );
    await expect(verifyResourceType(flakyFirstProbe(), { only, policy: { stableAftr: 5 } as never })).rejects.toThrow(/options\.policy\.stableAftr is not a policy field/);
  });

  it('skips the validate cases of a type without validate, and says why', async () => {
    const { validate: _v, ...noValidate } = tcpServerType('no-validate');
    const report = await verifyResourceType(noValidate as ResourceType, { properties: { port: 0 }, only: ['validate'] });
    expect(report.cases.map((c) => [c.skipped, c.reason])).toEqual([
      [true, 'the type has no validate()'],
      [true, 'the type has no validate()'],
    ]);
    expect(formatReport(report)).toMatch(/PASS: 0\/0 cases passed, 2 skipped in \d+ ms$/);
  });

  it('records every call of a case with its duration and outcome', async () => {
    const report = await verifyResourceType(tcpServerType(), { properties: { port: 0 }, only: ['online, offline, then online'] });
    const calls = report.cases[0]?.durations.map((d) => `${d.entryPoint}:${d.outcome}`);
    expect(calls).toEqual(['open:ok', 'online:ok', 'offline:ok', 'online:ok', 'isAlive:ok', 'looksAlive:ok', 'terminate:ok', 'close:ok']);
    expect(report.cases[0]?.durations.every((d) => d.ms >= 0)).toBe(true);
  });
});

describe('createFakeClock', () => {
  let monitor: ResourceMonitor | null = null;
  afterEach(async () => {
    await monitor?.close();
    monitor = null;
  });

  it('drives the monitor: polls run when the clock is advanced, not before', async () => {
    const clock = createFakeClock(1_000);
    const rec = recordCalls(memoryType(), { now: clock.now });
    monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 100, isAlivePollInterval: 250 } });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'memory' });
    await monitor.online('a');
    // Both polls wait on the monitor's one poll timer.
    expect(clock.pending()).toBe(1);
    await clock.advance(99);
    expect(rec.of('looksAlive')).toHaveLength(0);
    await clock.advance(1);
    expect(rec.of('looksAlive').map((c) => c.start)).toEqual([1_100]);
    await clock.advance(150);
    expect(rec.of('looksAlive').map((c) => c.start)).toEqual([1_100, 1_200]);
    expect(rec.of('isAlive').map((c) => c.start)).toEqual([1_250]);
    expect(monitor.inspect('a').lastChecks.isAlive).toMatchObject({ ok: true, at: 1_250 });
    expect(clock.now()).toBe(1_250);
  });

  it('runs a failure, its terminate and the restart on fake time', async () => {
    const clock = createFakeClock();
    let healthy = true;
    const rec = recordCalls(memoryType('flaky', () => healthy), { now: clock.now });
    monitor = new ResourceMonitor({ clock, defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 100, restartDelay: 40 } });
    const states: string[] = [];
    monitor.on('stateChange', (e) => states.push(`${e.at} ${e.to}`));
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'flaky' });
    await monitor.online('a');
    healthy = false;
    await clock.advance(100);
    healthy = true;
    await clock.advance(40);
    expect(states).toEqual(['0 online-pending', '0 online', '100 failed', '140 online-pending', '140 online']);
    expect(rec.of('terminate').map((c) => c.start)).toEqual([100]);
    expect(rec.overlaps()).toEqual([]);
  });

  it('runAll runs timers until none is left; advance rejects a negative time', async () => {
    const clock = createFakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 30);
    const t = clock.setTimeout(() => fired.push(-1), 10);
    clock.clearTimeout(t);
    clock.setTimeout(() => clock.setTimeout(() => fired.push(clock.now()), 5), 20);
    await clock.runAll();
    expect(fired).toEqual([25, 30]);
    expect(clock.pending()).toBe(0);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});

describe('recordCalls', () => {
  it('logs each call with its times, outcome and abandonment, and passes results through', async () => {
    const clock = createFakeClock();
    const type: ResourceType = {
      name: 'rec',
      online: (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted')))),
      offline() {},
      terminate() {},
      isAlive: () => true,
    };
    const rec = recordCalls(type, { now: clock.now });
    expect(rec.type.name).toBe('rec');
    expect(rec.type.looksAlive).toBeUndefined();
    await using monitor = new TestMonitor({ clock, abortGrace: 50 });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    const attempt = monitor.online('a').catch((e: unknown) => e);
    await clock.advance(10);
    await monitor.offline('a');
    await attempt;
    expect(rec.of('online')).toEqual([
      { entryPoint: 'online', resource: 'a', start: 0, end: 10, outcome: 'error', error: new Error('aborted'), abortedAt: 10 },
    ]);
    expect(rec.of('offline')).toMatchObject([{ start: 10, end: 10, outcome: 'ok', value: undefined, abortedAt: null }]);
    expect(rec.overlaps()).toEqual([]);
    rec.clear();
    expect(rec.calls).toEqual([]);
    await monitor.close();
  });

  it('finds two calls of one resource that overlap without an abandonment', async () => {
    let release!: () => void;
    const type: ResourceType = {
      name: 'rec',
      online: () => new Promise<void>((resolve) => (release = resolve)),
      offline() {},
      terminate() {},
      isAlive: () => true,
    };
    let tick = 0;
    const rec = recordCalls(type, { now: () => tick++ });
    const ctx = { resource: 'a', signal: new AbortController().signal } as never;
    const first = rec.type.online(ctx);
    await rec.type.isAlive(ctx);
    release();
    await first;
    expect(rec.overlaps().map(([a, b]) => [a.entryPoint, b.entryPoint])).toEqual([['online', 'isAlive']]);
  });
});

describe('resmon verify-type', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
  };
  const props = (value: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'resmon-verify-type-'));
    const file = join(dir, 'props.json');
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return file;
  };

  it('prints the report and exits 0 for a conforming type (its breakResource export is used)', async () => {
    const o = io();
    const code = await verifyTypeMain([fixture('well-behaved.ts'), '--properties', props({ port: 0 })], o.io);
    expect(code).toBe(0);
    expect(o.out.join('')).toContain('✓ after breakResource, isAlive turns false');
    expect(o.out.join('')).toMatch(/PASS: 13\/13 cases passed/);
  });

  it("takes the module's conformanceOptions export (control codes, a refused change, the hook)", async () => {
    const o = io();
    const code = await verifyTypeMain([fixture('with-options.ts'), '--json'], o.io);
    expect(code).toBe(0);
    const cases = JSON.parse(o.out.join('')).cases as { name: string; passed: boolean; skipped: boolean }[];
    const byStart = (start: string) => cases.find((c) => c.name.startsWith(start));
    for (const start of ['control answers its codes', 'a change applyProperties refuses', 'after breakResource']) {
      expect(byStart(start), start).toMatchObject({ passed: true, skipped: false });
    }
  });

  it('exits 2 when conformanceOptions is not an object, or has a field verifyResourceType rejects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resmon-verify-type-'));
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, `export default { name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true };\nexport const conformanceOptions = 3;\n`);
    const o = io();
    expect(await verifyTypeMain([bad], o.io)).toBe(2);
    expect(o.err.join('')).toMatch(/exports conformanceOptions as 3; it must be an object/);
    const limits = join(dir, 'limits.mjs');
    writeFileSync(limits, `export default { name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true };\nexport const conformanceOptions = { limits: { bogus: 1 } };\n`);
    const o2 = io();
    expect(await verifyTypeMain([limits], o2.io)).toBe(2);
    expect(o2.err.join('')).toMatch(/options\.limits\.bogus/);
  });

  it('exits 1 for a type that fails a case, through the resmon dispatcher; --json prints the report', async () => {
    const o = io();
    const spy = { out: o.io.out, err: o.io.err };
    const original = process.stdout.write.bind(process.stdout);
    const chunks: string[] = [];
    process.stdout.write = ((s: string) => {
      chunks.push(s);
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['verify-type', fixture('offline-leaves-up.ts'), '--properties', props({ port: 0 }), '--json'], spy);
    } finally {
      process.stdout.write = original;
    }
    expect(code).toBe(1);
    const report = JSON.parse(chunks.join(''));
    expect(report.passed).toBe(false);
    expect(report.cases.filter((c: { passed: boolean }) => !c.passed).map((c: { name: string }) => c.name)).toEqual([
      'offline takes the resource down: isAlive is false',
    ]);
  });

  it('exits 2 for bad usage, a module that does not load, a missing export and an unreadable properties file', async () => {
    for (const [argv, message] of [
      [[], /expected one module, got 0/],
      [['/nowhere/type.js'], /cannot load \/nowhere\/type\.js/],
      [[fixture('tcp-server-type.ts')], /has no resource type export; name one with --export <name>/],
      [[fixture('well-behaved.ts'), '--export', 'nope'], /has no resource type exported as "nope" \(exports: (breakResource, default|default, breakResource)\)/],
      [[fixture('well-behaved.ts'), '--properties', props('{ not json')], /cannot read the properties file/],
      [['--bogus'], /Unknown option '--bogus'/],
    ] as const) {
      const o = io();
      expect(await verifyTypeMain([...argv], o.io)).toBe(2);
      expect(o.err.join('')).toMatch(message);
    }
  });
});

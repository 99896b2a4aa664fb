import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ResourceStatus } from 'resmon';
import { JsonView } from '../src/cli/json-view.js';
import { formatDuration, renderFrame } from '../src/cli/table.js';
import { TableView } from '../src/cli/table-view.js';
import { recordingType } from './helpers/recording.js';
import { TestMonitor } from './helpers/monitor.js';

const status = (over: Partial<ResourceStatus>): ResourceStatus => ({
  name: 'web',
  type: 'process',
  state: 'online',
  generation: 1,
  since: 0,
  lastChecks: { looksAlive: null, isAlive: null },
  restarts: { inWindow: 0, total: 0, stableAt: null },
  nextRestartAt: null,
  host: null,
  group: null,
  dependsOn: [],
  target: 'online',
  ...over,
});

describe('the status table', () => {
  it('formats durations the way a person reads them', () => {
    expect([0, 999, 59_000, 61_000, 3_600_000 + 7 * 60_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration)).toEqual([
      '0s',
      '0s',
      '59s',
      '1m01s',
      '1h07m',
      '3d04h',
    ]);
  });

  it('shows state, since, the last checks with their durations, restarts, the next restart and progress', () => {
    const now = 100_000;
    const lines = renderFrame(
      {
        title: 'resmon.yaml',
        status: 'Ctrl-C: stop',
        now,
        recent: ['00:01:40 web: online -> failed (isAlive threw: boom)'],
        notes: new Map([
          ['db', { progress: 'waiting for tcp 127.0.0.1:5432 (try 3): refused', reason: 'online() called' }],
          ['web', { reason: 'isAlive threw: boom' }],
        ]),
        statuses: [
          status({
            state: 'failed',
            since: now - 2_000,
            lastChecks: {
              looksAlive: { ok: true, at: now - 3_000, durationMs: 0.4, reason: null, consecutiveFailures: 0 },
              isAlive: { ok: false, at: now - 2_000, durationMs: 2_001, reason: 'boom', consecutiveFailures: 1 },
            },
            restarts: { inWindow: 1, total: 4, stableAt: null },
            nextRestartAt: now + 4_500,
          }),
          status({ name: 'db', type: 'tcp', state: 'online-pending', since: now - 65_000 }),
        ],
      },
      { columns: 200, rows: 40, color: false },
    );
    expect(lines).toEqual([
      'resmon: resmon.yaml: 2 resources, 00:01:40 UTC',
      'Ctrl-C: stop',
      '',
      'NAME  TYPE     STATE           SINCE  LOOKSALIVE  ISALIVE      RESTARTS (TOTAL)  NEXT RESTART  INFO',
      'web   process  failed          2s     ok 0ms      FAIL 2001ms  1 (4)             in 5s         isAlive threw: boom',
      'db    tcp      online-pending  1m05s  -           -            0 (0)             -             waiting for tcp 127.0.0.1:5432 (try 3): refused',
      '',
      'RECENT',
      '00:01:40 web: online -> failed (isAlive threw: boom)',
    ]);
  });

  it('fits every line in the terminal width and the frame in its height', () => {
    const lines = renderFrame(
      {
        title: 'a-config-file-with-a-long-name.yaml',
        status: 'x',
        now: 0,
        recent: Array.from({ length: 30 }, (_, i) => `event ${i} ${'-'.repeat(100)}`),
        notes: new Map([['web', { reason: 'a reason that is much too long to fit in the INFO column of a narrow terminal' }]]),
        statuses: [status({})],
      },
      { columns: 90, rows: 12, color: false },
    );
    expect(lines.length).toBeLessThanOrEqual(11);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(89);
    expect(lines[3]).toMatch(/^NAME +TYPE +STATE +SINCE +RESTARTS \(TOTAL\) +NEXT RESTART +INFO$/);
    expect(lines[4]).toMatch(/^web +process +online +0s +0 \(0\) +- +a reason that is much.*…$/);
    expect(lines.at(-1)).toMatch(/^event 29 -+…$/);
  });

  it('keeps INFO readable at 80 columns by leaving out the checks, next restart, since and type', () => {
    const lines = renderFrame(
      {
        title: 't',
        status: '',
        now: 0,
        recent: [],
        notes: new Map([['web-frontend', { reason: 'exited with code 1 while online' }]]),
        statuses: [status({ name: 'web-frontend', state: 'online-pending', lastChecks: { looksAlive: { ok: true, at: 0, durationMs: 1, reason: null, consecutiveFailures: 0 }, isAlive: null } })],
      },
      { columns: 80, rows: 40, color: false },
    );
    expect(lines[3]).toMatch(/^NAME +STATE +RESTARTS \(TOTAL\) +INFO$/);
    const info = lines[4]!.slice(lines[3]!.indexOf('INFO'));
    expect(info.length).toBeGreaterThanOrEqual(24);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
  });

  it('colours the state when asked', () => {
    const [, , , , row] = renderFrame(
      { title: 't', status: '', now: 0, recent: [], notes: new Map(), statuses: [status({ state: 'failed' })] },
      { columns: 120, rows: 40, color: true },
    );
    expect(row).toContain('\x1b[31mfailed');
  });
});

describe('groups and dependencies in the status table', () => {
  it('shows each group under a heading with its state, and indents dependents under what they depend on', () => {
    const lines = renderFrame(
      {
        title: 'resmon.yaml',
        status: '',
        now: 0,
        recent: [],
        notes: new Map(),
        groups: new Map([['web', 'partial']]),
        statuses: [
          status({ name: 'app', group: 'web', dependsOn: ['name'], state: 'offline' }),
          status({ name: 'solo', type: 'tcp' }),
          status({ name: 'name', group: 'web', dependsOn: [{ anyOf: ['ip'] }] }),
          status({ name: 'ip', group: 'web' }),
          status({ name: 'cache', group: 'web' }),
        ],
      },
      { columns: 200, rows: 40, color: false },
    );
    expect(lines.slice(4).map((l) => /^ *\S+(?: \S+)*/.exec(l)?.[0])).toEqual(['solo', 'group web: partial', 'ip', '  name', '    app', 'cache']);
    expect(lines[5]).toMatch(/^group web: partial$/);
    expect(lines[8]).toMatch(/^ {4}app +process +offline/);
  });
});

describe('the terminal view', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('redraws in place: cursor up over the last frame, clear down, new frame', async () => {
    const writes: string[] = [];
    const term = { columns: 120, rows: 30, write: (s: string) => writes.push(s) };
    const view = new TableView(term, 'cfg.yaml', false, false);
    const rec = recordingType('rec');
    await using monitor = new TestMonitor({ logger: view.logger });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    view.attach(monitor);
    expect(writes[0]).toBe('\x1b[?25l');
    const first = writes[1] as string;
    expect(first.startsWith('\x1b[J')).toBe(true);
    const height = first.split('\n').length - 1;
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(50);
    const second = writes[2] as string;
    expect(second.startsWith(`\x1b[${height}A\r\x1b[J`)).toBe(true);
    expect(second).toMatch(/\na +rec +online +0s/);
    expect(second).toMatch(/a: offline -> online-pending \(online\(\) called\)/);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(writes[3]).toMatch(/\na +rec +online +1s/);
    await monitor.close();
    view.stop();
    expect(writes.at(-1)).toBe('\x1b[?25h');
    expect(writes.at(-2)).toMatch(/\na +rec +offline .*monitor closed/);
    const count = writes.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(writes.length).toBe(count);
  });
});

describe('the terminal view: RECENT', () => {
  beforeEach(() => vi.useFakeTimers({ now: 0 }));
  afterEach(() => vi.useRealTimers());

  it('shows a failure once (its state change), not again as the monitor warning about it', async () => {
    const term = { columns: 160, rows: 40, write: () => true };
    const view = new TableView(term, 'cfg.yaml', false, false);
    const rec = recordingType('rec', { isAlive: () => false });
    await using monitor = new TestMonitor({ logger: view.logger, defaults: { isAlivePollInterval: 1_000, restartAction: 'none' } });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    view.attach(monitor);
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_500);
    expect(monitor.getState('a')).toBe('failed');
    const recent = view.frame().slice(view.frame().indexOf('RECENT') + 1);
    expect(recent.filter((l) => /online -> failed/.test(l))).toHaveLength(1);
    expect(recent.filter((l) => /failed: /.test(l) && !/->/.test(l))).toHaveLength(0);
    view.logger.warn({ resource: 'a' }, 'something else');
    expect(view.frame().some((l) => /\[warn\] a: something else/.test(l))).toBe(true);
    await monitor.close();
    view.stop();
  });
});

describe('the JSON view', () => {
  it('writes one JSON object per line for events, logs and notes', async () => {
    const out: string[] = [];
    const view = new JsonView({ write: (line) => out.push(line) > 0, writableLength: 0, once: () => {} }, false);
    const rec = recordingType('rec', { online: (ctx) => ctx.reportProgress('half way') });
    await using monitor = new TestMonitor({ logger: view.logger });
    monitor.registerType(rec.type);
    monitor.addResource({ name: 'a', type: 'rec' });
    view.attach(monitor);
    view.note('started', '1 resource', { resources: ['a'] });
    await monitor.online('a');
    view.logger.info({ resource: 'a', stream: 'stdout', err: new Error('x') }, 'hello');
    view.logger.debug('not shown without --verbose');
    await monitor.close();
    expect(out.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(['started', 'stateChange', 'progress', 'stateChange', 'log', 'stateChange', 'stateChange']);
    expect(lines[2]).toMatchObject({ resource: 'a', entryPoint: 'online', message: 'half way' });
    expect(lines[4]).toMatchObject({ level: 'info', resource: 'a', stream: 'stdout', msg: 'hello', err: { name: 'Error', message: 'x' } });
    for (const line of lines) expect(line.time).toBe(new Date(line.at as number).toISOString());
  });

  it('keeps only the events named by --events', () => {
    const out: string[] = [];
    const view = new JsonView({ write: (line) => out.push(line) > 0, writableLength: 0, once: () => {} }, false, { events: ['signal'] });
    view.note('started', 'x');
    view.note('signal', 'y');
    view.logger.info('z');
    expect(out.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['signal']);
  });

  it('never holds more than its limit in a slow stream: drops lines, counts them, and says so once drained', () => {
    const out: string[] = [];
    let drain: (() => void) | null = null;
    const sink = {
      writableLength: 0,
      write(line: string) {
        out.push(line);
        this.writableLength += line.length;
        return this.writableLength < 100;
      },
      once(_event: 'drain', listener: () => void) {
        drain = listener;
      },
    };
    const view = new JsonView(sink, false, { limit: 1_000 });
    for (let i = 0; i < 1_000; i++) view.logger.info({ resource: 'noisy', stream: 'stdout' }, `line ${i}`);
    view.note('signal', 'still dropped while behind');
    const written = out.length;
    expect(sink.writableLength).toBeLessThan(1_000 + 200);
    expect(written).toBeLessThan(20);
    expect(view.dropped).toBe(1_001 - written);
    // The reader catches up: the next line is the summary of what was dropped.
    sink.writableLength = 0;
    drain!();
    const summary = JSON.parse(out[written]!) as Record<string, unknown>;
    expect(summary).toMatchObject({ event: 'dropped', count: 1_001 - written, events: { log: 1_000 - written, signal: 1 } });
    view.logger.info('after');
    expect(JSON.parse(out.at(-1)!)).toMatchObject({ event: 'log', msg: 'after' });
  });
});

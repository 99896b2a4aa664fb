import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { ResourceMonitor } from 'resmon';
import { collect } from 'resmon/prometheus';
import { TextMetrics } from '../src/cli/http/metrics.js';
import { isLoopback, parseListen } from '../src/cli/http/server.js';
import { Timeline } from '../src/cli/http/timeline.js';
import { checkShape } from '../src/config/shape.js';
import { recordingType } from './helpers/recording.js';
import { closeMonitor } from './helpers/monitor.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const state = { broken: false };
  const type = recordingType('flaky', {
    isAlive: () => new Promise<boolean>((r) => setTimeout(() => r(!state.broken), 7)),
    looksAlive: () => !state.broken,
  }).type;
  const monitor = new ResourceMonitor({
    defaults: { looksAlivePollInterval: 500, isAlivePollInterval: 1_000, restartDelay: 300, restartAction: 'restart-escalate', restartThreshold: 1 },
  });
  monitor.registerType(type);
  for (const name of ['a', 'b "quoted"\\n']) monitor.addResource({ name, type: 'flaky' });
  return { monitor, state, [Symbol.asyncDispose]: () => closeMonitor(monitor) };
}

describe('resmon run --http: /metrics', () => {
  it('writes the same text as resmon/prometheus with prom-client for the same events', async () => {
    await using fixture = setup();
    const { monitor, state } = fixture;
    const registry = new Registry();
    collect(monitor, { registry });
    const text = new TextMetrics(monitor);
    await monitor.online('a');
    await monitor.online('b "quoted"\\n');
    await vi.advanceTimersByTimeAsync(2_100);
    state.broken = true;
    await vi.advanceTimersByTimeAsync(3_000); // failures, restarts, an escalation
    state.broken = false;
    await vi.advanceTimersByTimeAsync(2_000);
    const expected = await registry.metrics();
    expect(expected).toContain('resmon_escalations_total{resource="a"}');
    expect(expected).toContain('resource="b \\"quoted\\"\\\\n"');
    expect(text.text()).toBe(expected);
    text.stop();
    await monitor.close();
  });
});

describe('resmon run --http: the timeline', () => {
  it('keeps each resource’s states and marks over the last hour, and drops older ones', async () => {
    await using fixture = setup();
    const { monitor, state } = fixture;
    const timeline = new Timeline(monitor, 10_000);
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(1_000);
    state.broken = true;
    await vi.advanceTimersByTimeAsync(600); // the isAlive that started at 1000 fails at 1007
    state.broken = false;
    await vi.advanceTimersByTimeAsync(1_000);
    const [a] = timeline.get(Date.now());
    expect(a!.segments.map((s) => `${s.start} ${s.state}`)).toEqual(['0 offline', '0 online-pending', '0 online', '1007 failed', '1307 online-pending', '1307 online']);
    expect(a!.marks.map((m) => `${m.at} ${m.kind}`)).toEqual(['1007 check', '1007 failure', '1307 restart']);
    await vi.advanceTimersByTimeAsync(20_000);
    const [later] = timeline.get(Date.now());
    expect(later!.segments).toEqual([{ state: 'online', start: 1307 }]);
    expect(later!.marks).toEqual([]);
    timeline.stop();
    await monitor.close();
  });
});

describe('resmon run --http: the listen address and the config file', () => {
  it('parses HOST:PORT, :PORT, PORT and [v6]:PORT, loopback by default', () => {
    expect(parseListen('0.0.0.0:8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen(':8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    for (const bad of ['', 'host', 'a:b', '1:2:3', ':70000', '-1']) expect(() => parseListen(bad), bad).toThrow(/must be HOST:PORT, :PORT or PORT/);
    expect([isLoopback('127.0.0.9'), isLoopback('::1'), isLoopback('localhost'), isLoopback('0.0.0.0'), isLoopback('10.0.0.1')]).toEqual([true, true, true, false, false]);
  });

  const shape = (data: unknown) =>
    checkShape({
      file: 'r.yaml',
      data,
      error: (path: (string | number)[], value: unknown, rule: string) => new Error(`${path.join('.')} ${rule} (${String(value)})`),
    } as never);
  const resources = [{ name: 'x', type: 'tcp', properties: { host: 'h', port: 1 } }];

  it('takes http: { listen, token } and names the field at fault', () => {
    expect(shape({ resources, http: { listen: ':8080', token: 'a-long-enough-token' } }).http).toEqual({ listen: ':8080', token: 'a-long-enough-token' });
    const messages = (http: unknown) => shape({ resources, http }).errors.map((e) => e.message);
    expect(messages('8080')).toEqual(['http must be a mapping { listen?, token? } (8080)']);
    expect(messages({ port: 1 })).toEqual(['http.port is not a field of http (known: listen, token) (1)']);
    expect(messages({ listen: 'nope' })).toEqual(['http.listen must be HOST:PORT, :PORT or PORT (the host defaults to 127.0.0.1) (nope)']);
    expect(messages({ listen: ':99999' })).toHaveLength(1);
    expect(messages({ token: 'short' })).toEqual(['http.token must be a string of at least 16 characters ((hidden))']);
  });
});

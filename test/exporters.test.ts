import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { AggregationTemporality, DataPointType, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, ResourceMonitor } from 'resmon';
import { collect } from 'resmon/prometheus';
import { instrument } from 'resmon/otel';
import { recordingType } from './helpers/recording.js';
import { closeMonitor, TestMonitor } from './helpers/monitor.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Two resources; `b`'s isAlive fails while `broken`, and its checks take 30 ms. */
function setup(policy: Record<string, unknown> = {}) {
  const state = { broken: false };
  const slow = (ms: number, value: () => boolean) => () => new Promise<boolean>((r) => setTimeout(() => r(value()), ms));
  const good = recordingType('good', { isAlive: slow(2, () => true) });
  const bad = recordingType('bad', { isAlive: slow(30, () => !state.broken) });
  const monitor = new ResourceMonitor({
    defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, restartDelay: 500, restartAction: 'restart-escalate', restartThreshold: 1, ...policy },
  });
  monitor.registerType(good.type);
  monitor.registerType(bad.type);
  monitor.addResource({ name: 'a', type: 'good' });
  monitor.addResource({ name: 'b', type: 'bad' });
  return { monitor, state, [Symbol.asyncDispose]: () => closeMonitor(monitor) };
}

describe('resmon/prometheus', () => {
  it('exposes state, check durations, restarts and escalations in the text format', async () => {
    await using fixture = setup();
    const { monitor, state } = fixture;
    const registry = new Registry();
    const stop = collect(monitor, { registry });
    await monitor.online('a');
    await monitor.online('b');
    await vi.advanceTimersByTimeAsync(1_030); // one round of checks: a (2 ms) at 1000, b (30 ms) at 1000
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_100); // a passes at 2002; b fails at 2060: a restart is scheduled
    const text = await registry.metrics();
    expect(text).toContain('# TYPE resmon_resource_state gauge');
    expect(text).toContain('resmon_resource_state{resource="a",type="good",state="online"} 1');
    expect(text).toContain('resmon_resource_state{resource="a",type="good",state="failed"} 0');
    expect(text).toContain('resmon_resource_state{resource="b",type="bad",state="online"} 0');
    expect(text).toContain('resmon_resource_state{resource="b",type="bad",state="failed"} 1');
    expect(text).toContain('# TYPE resmon_check_duration_seconds histogram');
    expect(text).toContain('resmon_check_duration_seconds_bucket{le="0.001",kind="isAlive",ok="true"} 0');
    expect(text).toContain('resmon_check_duration_seconds_bucket{le="0.005",kind="isAlive",ok="true"} 2');
    expect(text).toContain('resmon_check_duration_seconds_bucket{le="0.025",kind="isAlive",ok="true"} 2');
    expect(text).toContain('resmon_check_duration_seconds_bucket{le="0.05",kind="isAlive",ok="true"} 3');
    expect(text).toContain('resmon_check_duration_seconds_sum{kind="isAlive",ok="false"} 0.03');
    expect(text).toContain('resmon_check_duration_seconds_count{kind="isAlive",ok="false"} 1');
    expect(text).toContain('resmon_restarts_total{resource="b",retry="false"} 1');
    expect(text).toContain('# TYPE resmon_call_timeouts_total counter');
    stop();
    expect(await registry.metrics()).toBe('\n');
    await monitor.close();
  });

  it('counts call timeouts and escalations', async () => {
    const hang = recordingType('hang', { isAlive: () => new Promise<boolean>(() => {}) }).type;
    await using monitor = new TestMonitor({
      abortGrace: 0,
      defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, deadlockTimeout: 100, restartAction: 'restart-escalate', restartThreshold: 0 },
    });
    monitor.registerType(hang);
    monitor.addResource({ name: 'h', type: 'hang' });
    const registry = new Registry();
    collect(monitor, { registry });
    await monitor.online('h');
    await vi.advanceTimersByTimeAsync(1_200); // isAlive at 1000 passes its deadline at 1100
    const text = await registry.metrics();
    expect(text).toContain('resmon_call_timeouts_total{resource="h",entry_point="isAlive"} 1');
    expect(text).toContain('resmon_escalations_total{resource="h"} 1');
    expect(text).toContain('resmon_restarts_total{resource="h",retry="true"} 1');
    expect(text).toContain('resmon_check_duration_seconds_count{kind="isAlive",ok="false"} 1');
    await monitor.close();
  });

  it('refuses a second collect() on one registry, and bad options, with ConfigError', async () => {
    await using fixture = setup();
    const { monitor } = fixture;
    const registry = new Registry();
    const stop = collect(monitor, { registry });
    expect(() => collect(monitor, { registry })).toThrow(ConfigError);
    expect(() => collect(monitor, { registry })).toThrow(/already has a metric "resmon_resource_state"/);
    stop();
    expect(() => collect(monitor, { registry, buckets: [1, 0.5] })).toThrow(/options\.buckets must be a non-empty, increasing list/);
    expect(() => collect(monitor, { registry: {} as never })).toThrow(/options\.registry must be a prom-client Registry/);
    expect(() => collect(monitor, { prefix: 'x' } as never)).toThrow(/options\.prefix is not an option/);
    collect(monitor, { registry })();
  });
});

describe('resmon/otel', () => {
  function providers() {
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    return { reader, meterProvider, tracerProvider, spans };
  }

  it('records the state gauge, check durations, restarts, and a span per online/offline attempt', async () => {
    await using fixture = setup();
    const { monitor, state } = fixture;
    const { reader, meterProvider, tracerProvider, spans } = providers();
    const stop = instrument(monitor, { meterProvider, tracerProvider });
    await monitor.online('a');
    await monitor.online('b');
    await vi.advanceTimersByTimeAsync(1_030);
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_100); // b fails at 2060; its restart is due at 2560
    state.broken = false;
    await vi.advanceTimersByTimeAsync(500);
    await monitor.offline('a'); // at 2630

    const { resourceMetrics } = await reader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const byName = (name: string) => all.find((m) => m.descriptor.name === name);
    const gauge = byName('resmon.resource.state')!;
    expect(gauge.dataPointType).toBe(DataPointType.GAUGE);
    const point = (resource: string, st: string) =>
      gauge.dataPoints.find((p) => p.attributes.resource === resource && p.attributes.state === st)?.value;
    expect(point('a', 'offline')).toBe(1);
    expect(point('a', 'online')).toBe(0);
    expect(gauge.dataPoints).toHaveLength(10);
    const hist = byName('resmon.check.duration')!;
    expect(hist.descriptor.unit).toBe('ms');
    const okIs = hist.dataPoints.find((p) => p.attributes.kind === 'isAlive' && p.attributes.ok === true)!;
    expect((okIs.value as { count: number }).count).toBe(3);
    const failed = hist.dataPoints.find((p) => p.attributes.ok === false)!;
    expect((failed.value as { count: number; sum: number })).toMatchObject({ count: 1, sum: 30 });
    const restarts = byName('resmon.restarts')!;
    expect(restarts.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ resource: 'b', retry: false }, 1]]);

    const finished = spans.getFinishedSpans().map((s) => ({
      name: s.name,
      resource: s.attributes['resmon.resource'],
      outcome: s.attributes['resmon.outcome'],
      status: s.status.code,
      start: s.startTime[0] * 1000 + s.startTime[1] / 1e6,
    }));
    expect(finished).toEqual([
      { name: 'resmon.online', resource: 'a', outcome: 'online', status: 1, start: 0 },
      { name: 'resmon.online', resource: 'b', outcome: 'online', status: 1, start: 0 },
      { name: 'resmon.online', resource: 'b', outcome: 'online', status: 1, start: 2_560 },
      { name: 'resmon.offline', resource: 'a', outcome: 'offline', status: 1, start: 2_630 },
    ]);
    stop();
    await monitor.close();
    vi.useRealTimers(); // the reader's final export waits on a real timer
    await meterProvider.shutdown();
  });

  it('marks a failed online attempt as an error with the reason, and stop() ends open spans', async () => {
    const gate = { open: false };
    const type = recordingType('slow', {
      online: () => {
        if (!gate.open) throw new Error('port in use');
        return new Promise<void>(() => {});
      },
      isAlive: () => true,
    }).type;
    await using monitor = new TestMonitor({ abortGrace: 0, defaults: { restartAction: 'restart', restartDelay: 100 } });
    monitor.registerType(type);
    monitor.addResource({ name: 'x', type: 'slow' });
    const { tracerProvider, spans, meterProvider } = providers();
    const stop = instrument(monitor, { tracerProvider, meterProvider });
    await monitor.online('x').catch(() => {});
    gate.open = true;
    await vi.advanceTimersByTimeAsync(100); // the restart's online hangs
    stop();
    const finished = spans.getFinishedSpans();
    const terminated = monitor.terminate('x');
    await vi.advanceTimersByTimeAsync(1_000);
    await terminated;
    expect(finished.map((s) => [s.name, s.status.code, s.status.message, s.attributes['resmon.outcome']])).toEqual([
      ['resmon.online', 2, 'online failed: port in use', 'failed'],
      ['resmon.online', 0, undefined, 'stopped'],
    ]);
    await monitor.close();
    vi.useRealTimers(); // the reader's final export waits on a real timer
    await meterProvider.shutdown();
  });

  it('rejects bad options with ConfigError', async () => {
    await using monitor = new TestMonitor();
    expect(() => instrument(monitor, { meterProvider: {} as never })).toThrow(/options\.meterProvider must be an OpenTelemetry MeterProvider/);
    expect(() => instrument(monitor, { tracer: 1 } as never)).toThrow(ConfigError);
  });
});

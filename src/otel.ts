/**
 * `resmon/otel`: a monitor's metrics and spans through the OpenTelemetry API
 * (`@opentelemetry/api`, an optional peer dependency: install it yourself; the rest of resmon
 * never loads it).
 *
 * @module
 */
import {
  type Attributes,
  type MeterProvider,
  metrics,
  type ObservableResult,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type TracerProvider,
} from '@opentelemetry/api';
import { ConfigError } from './errors.js';
import type { CallTimeoutEvent, CheckEvent, EscalatedEvent, RestartScheduledEvent, StateChangeEvent } from './events.js';
import type { ResourceMonitor } from './monitor.js';
import { assertKnownOptions } from './options.js';
import { subscribe } from './subscribe.js';
import { RESOURCE_STATES, type ResourceState } from './types.js';

/** Options of {@link instrument}. All are optional. */
export interface InstrumentOptions {
  /**
   * Where the metrics go.
   * @default the global meter provider (`metrics.getMeterProvider()`)
   */
  meterProvider?: MeterProvider;
  /**
   * Where the spans go.
   * @default the global tracer provider (`trace.getTracerProvider()`)
   */
  tracerProvider?: TracerProvider;
}

/** The names of the instruments {@link instrument} creates (meter and tracer `resmon`). */
export const OTEL_METRICS = {
  state: 'resmon.resource.state',
  checkDuration: 'resmon.check.duration',
  restarts: 'resmon.restarts',
  callTimeouts: 'resmon.call.timeouts',
  escalations: 'resmon.escalations',
} as const;


/**
 * Records a monitor's metrics and a span per online and offline attempt through OpenTelemetry;
 * returns a function that stops recording (ends any open span, removes the listeners).
 *
 * Metrics (meter `resmon`):
 *
 * | instrument | kind | unit | attributes |
 * |---|---|---|---|
 * | `resmon.resource.state` | observable gauge | 1 | resource, type, state: 1 for the current state, 0 for the other four |
 * | `resmon.check.duration` | histogram | ms | kind (looksAlive, isAlive), ok |
 * | `resmon.restarts` | counter | 1 | resource, retry |
 * | `resmon.call.timeouts` | counter | 1 | resource, entry_point |
 * | `resmon.escalations` | counter | 1 | resource |
 *
 * Spans (tracer `resmon`): `resmon.online` from online-pending until online (status OK) or
 * failed/abandoned (status ERROR with the reason), `resmon.offline` from offline-pending until
 * offline. Attributes: `resmon.resource`, `resmon.type`, `resmon.generation`, `resmon.reason`
 * (why it started) and `resmon.outcome` (the state it ended in). Their times are the monitor
 * clock's.
 *
 * @example
 * ```ts
 * import { instrument } from 'resmon/otel';
 * const stop = instrument(monitor); // the global providers, as the OpenTelemetry SDK sets them
 * // ...
 * stop();
 * ```
 */
export function instrument(monitor: ResourceMonitor, options: InstrumentOptions = {}): () => void {
  assertKnownOptions(options, ['meterProvider', 'tracerProvider'], 'instrument()');
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  if (typeof meterProvider?.getMeter !== 'function') {
    throw new ConfigError('options.meterProvider', meterProvider, 'must be an OpenTelemetry MeterProvider (getMeter)', { context: 'instrument()' });
  }
  if (typeof tracerProvider?.getTracer !== 'function') {
    throw new ConfigError('options.tracerProvider', tracerProvider, 'must be an OpenTelemetry TracerProvider (getTracer)', { context: 'instrument()' });
  }
  const meter = meterProvider.getMeter('resmon');
  const tracer = tracerProvider.getTracer('resmon');

  const state = meter.createObservableGauge(OTEL_METRICS.state, {
    description: 'The state of each resource: 1 for the state it is in, 0 for the others.',
    unit: '1',
  });
  const observeState = (result: ObservableResult<Attributes>) => {
    if (monitor.isClosed()) return;
    for (const s of monitor.snapshot()) {
      for (const st of RESOURCE_STATES) result.observe(s.state === st ? 1 : 0, { resource: s.name, type: s.type, state: st });
    }
  };
  state.addCallback(observeState);
  const checkDuration = meter.createHistogram(OTEL_METRICS.checkDuration, {
    description: 'How long each looksAlive and isAlive check took.',
    unit: 'ms',
  });
  const restarts = meter.createCounter(OTEL_METRICS.restarts, { description: 'Restarts scheduled by the restart policy.', unit: '1' });
  const callTimeouts = meter.createCounter(OTEL_METRICS.callTimeouts, { description: 'Calls abandoned at their deadline.', unit: '1' });
  const escalations = meter.createCounter(OTEL_METRICS.escalations, { description: 'Times the restart threshold was spent.', unit: '1' });

  /** The open span of each resource's attempt. */
  const open = new Map<string, Span>();
  const end = (resource: string, to: ResourceState | 'stopped', at: number, reason: string) => {
    const span = open.get(resource);
    if (!span) return;
    open.delete(resource);
    span.setAttribute('resmon.outcome', to);
    const ok = to === 'online' || (to === 'offline' && !/terminate/i.test(reason));
    span.setStatus(ok ? { code: SpanStatusCode.OK } : to === 'stopped' ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: reason });
    span.end(new Date(at));
  };
  const onStateChange = (e: StateChangeEvent) => {
    if (e.from === 'online-pending' || e.from === 'offline-pending') end(e.resource, e.to, e.at, e.reason);
    if (e.to === 'online-pending' || e.to === 'offline-pending') {
      let type = '';
      try {
        type = monitor.inspect(e.resource).type;
      } catch {
        // removed meanwhile: no type to name
      }
      const span = tracer.startSpan(e.to === 'online-pending' ? 'resmon.online' : 'resmon.offline', {
        kind: SpanKind.INTERNAL,
        startTime: new Date(e.at),
        attributes: { 'resmon.resource': e.resource, 'resmon.type': type, 'resmon.generation': e.generation, 'resmon.reason': e.reason },
      });
      open.set(e.resource, span);
    }
  };
  const onCheck = (e: CheckEvent) => checkDuration.record(e.durationMs, { kind: e.kind, ok: e.ok });
  const onRestart = (e: RestartScheduledEvent) => restarts.add(1, { resource: e.resource, retry: e.retry });
  const onTimeout = (e: CallTimeoutEvent) => callTimeouts.add(1, { resource: e.resource, entry_point: e.entryPoint });
  const onEscalated = (e: EscalatedEvent) => escalations.add(1, { resource: e.resource });
  return subscribe(monitor, { stateChange: onStateChange, check: onCheck, restartScheduled: onRestart, callTimeout: onTimeout, escalated: onEscalated }, () => {
    state.removeCallback(observeState);
    for (const resource of [...open.keys()]) end(resource, 'stopped', Date.now(), 'instrumentation stopped');
  });
}

/**
 * `resmon/prometheus`: a monitor's figures as Prometheus metrics through `prom-client` (an
 * optional peer dependency: install it yourself; the rest of resmon never loads it).
 *
 * @module
 */
import { Counter, Gauge, Histogram, register as defaultRegistry, type Registry } from 'prom-client';
import { ConfigError } from './errors.js';
import { DEFAULT_BUCKETS, PROMETHEUS_METRICS as M } from './metric-names.js';
import type { CallTimeoutEvent, CheckEvent, EscalatedEvent, RestartScheduledEvent } from './events.js';
import type { ResourceMonitor } from './monitor.js';
import { assertKnownOptions } from './options.js';
import { subscribe } from './subscribe.js';
import { RESOURCE_STATES } from './types.js';

/** Options of {@link collect}. All are optional. */
export interface CollectOptions {
  /**
   * The registry the metrics are registered in (one `collect()` per registry: the names are
   * fixed, and prom-client refuses a name twice).
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * The buckets of `resmon_check_duration_seconds`, in seconds.
   * @default [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
   */
  buckets?: number[];
}

/** The names of the metrics {@link collect} registers. */
export const PROMETHEUS_METRICS = {
  state: M.state.name,
  checkDuration: M.checkDuration.name,
  restarts: M.restarts.name,
  callTimeouts: M.callTimeouts.name,
  escalations: M.escalations.name,
} as const;


/**
 * Registers a monitor's metrics with prom-client and keeps them current; returns a function that
 * stops (removes the listeners and unregisters the metrics). Scrape the registry as usual
 * (`await registry.metrics()`).
 *
 * | metric | type | labels | what |
 * |---|---|---|---|
 * | `resmon_resource_state` | gauge | resource, type, state | 1 for the state the resource is in, 0 for the other four (read at scrape time) |
 * | `resmon_check_duration_seconds` | histogram | kind, ok | how long each looksAlive/isAlive took |
 * | `resmon_restarts_total` | counter | resource, retry | restarts scheduled (`retry="true"`: a retry after retryPeriodOnFailure) |
 * | `resmon_call_timeouts_total` | counter | resource, entry_point | calls abandoned at their deadline |
 * | `resmon_escalations_total` | counter | resource | the restart threshold was spent |
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { collect } from 'resmon/prometheus';
 * const registry = new Registry();
 * const stop = collect(monitor, { registry });
 * // GET /metrics: res.setHeader('content-type', registry.contentType); res.end(await registry.metrics());
 * ```
 */
export function collect(monitor: ResourceMonitor, options: CollectOptions = {}): () => void {
  assertKnownOptions(options, ['registry', 'buckets'], 'collect()');
  const registry = options.registry ?? defaultRegistry;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.removeSingleMetric !== 'function') {
    throw new ConfigError('options.registry', registry, "must be a prom-client Registry", { context: 'collect()' });
  }
  const buckets = options.buckets ?? [...DEFAULT_BUCKETS];
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== 'number' || !(b > 0) || (i > 0 && b <= (buckets[i - 1] as number)))) {
    throw new ConfigError('options.buckets', buckets, 'must be a non-empty, increasing list of positive numbers (seconds)', { context: 'collect()' });
  }
  for (const name of Object.values(PROMETHEUS_METRICS)) {
    if (registry.getSingleMetric(name)) {
      throw new ConfigError('options.registry', name, `already has a metric "${name}": call collect() once per registry (or stop the previous one)`, {
        context: 'collect()',
      });
    }
  }
  const registers = [registry];
  const state = new Gauge({
    name: M.state.name,
    help: M.state.help,
    labelNames: M.state.labels,
    registers,
    collect() {
      this.reset();
      if (monitor.isClosed()) return;
      for (const s of monitor.snapshot()) {
        for (const st of RESOURCE_STATES) this.set({ resource: s.name, type: s.type, state: st }, s.state === st ? 1 : 0);
      }
    },
  });
  const checkDuration = new Histogram({
    name: M.checkDuration.name,
    help: M.checkDuration.help,
    labelNames: M.checkDuration.labels,
    buckets,
    registers,
  });
  const restarts = new Counter({
    name: M.restarts.name,
    help: M.restarts.help,
    labelNames: M.restarts.labels,
    registers,
  });
  const callTimeouts = new Counter({
    name: M.callTimeouts.name,
    help: M.callTimeouts.help,
    labelNames: M.callTimeouts.labels,
    registers,
  });
  const escalations = new Counter({
    name: M.escalations.name,
    help: M.escalations.help,
    labelNames: M.escalations.labels,
    registers,
  });

  const onCheck = (e: CheckEvent) => checkDuration.observe({ kind: e.kind, ok: String(e.ok) }, e.durationMs / 1000);
  const onRestart = (e: RestartScheduledEvent) => restarts.inc({ resource: e.resource, retry: String(e.retry) });
  const onTimeout = (e: CallTimeoutEvent) => callTimeouts.inc({ resource: e.resource, entry_point: e.entryPoint });
  const onEscalated = (e: EscalatedEvent) => escalations.inc({ resource: e.resource });
  return subscribe(monitor, { check: onCheck, restartScheduled: onRestart, callTimeout: onTimeout, escalated: onEscalated }, () => {
    const mine: unknown[] = [state, checkDuration, restarts, callTimeouts, escalations];
    for (const name of Object.values(PROMETHEUS_METRICS)) {
      if (mine.includes(registry.getSingleMetric(name))) registry.removeSingleMetric(name);
    }
  });
}

import type { CallTimeoutEvent, CheckEvent, EscalatedEvent, RestartScheduledEvent } from '../../events.js';
import { DEFAULT_BUCKETS, PROMETHEUS_METRICS as M } from '../../metric-names.js';
import type { ResourceMonitor } from '../../monitor.js';
import { subscribe } from '../../subscribe.js';
import { RESOURCE_STATES } from '../../types.js';


/** The content type of the Prometheus text format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (pairs: [string, string][]) => (pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '');
const num = (n: number) => (Number.isNaN(n) ? 'NaN' : n === Infinity ? '+Inf' : n === -Infinity ? '-Inf' : String(n));

interface Histogram {
  kind: string;
  ok: string;
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * The monitor's metrics in the Prometheus text format, written by hand so that `resmon run
 * --http` needs no optional dependency: the same names, labels and layout as `resmon/prometheus`
 * (a test compares the two texts for the same events).
 */
export class TextMetrics {
  private readonly histograms = new Map<string, Histogram>();
  private readonly restarts = new Map<string, { resource: string; retry: string; n: number }>();
  private readonly timeouts = new Map<string, { resource: string; entryPoint: string; n: number }>();
  private readonly escalations = new Map<string, number>();
  /** Removes the listeners. */
  private readonly unsubscribe: () => void;

  constructor(
    private readonly monitor: ResourceMonitor,
    private readonly bucketBounds: readonly number[] = DEFAULT_BUCKETS,
  ) {
    const onCheck = (e: CheckEvent) => {
      const key = `${e.kind}\0${e.ok}`;
      let h = this.histograms.get(key);
      if (!h) {
        h = { kind: e.kind, ok: String(e.ok), buckets: this.bucketBounds.map(() => 0), sum: 0, count: 0 };
        this.histograms.set(key, h);
      }
      const seconds = e.durationMs / 1000;
      for (let i = 0; i < this.bucketBounds.length; i++) if (seconds <= (this.bucketBounds[i] as number)) (h.buckets[i] as number)++;
      h.sum += seconds;
      h.count++;
    };
    const onRestart = (e: RestartScheduledEvent) => {
      const key = `${e.resource}\0${e.retry}`;
      const c = this.restarts.get(key) ?? { resource: e.resource, retry: String(e.retry), n: 0 };
      c.n++;
      this.restarts.set(key, c);
    };
    const onTimeout = (e: CallTimeoutEvent) => {
      const key = `${e.resource}\0${e.entryPoint}`;
      const c = this.timeouts.get(key) ?? { resource: e.resource, entryPoint: e.entryPoint, n: 0 };
      c.n++;
      this.timeouts.set(key, c);
    };
    const onEscalated = (e: EscalatedEvent) => this.escalations.set(e.resource, (this.escalations.get(e.resource) ?? 0) + 1);
    this.unsubscribe = subscribe(monitor, { check: onCheck, restartScheduled: onRestart, callTimeout: onTimeout, escalated: onEscalated });
  }

  /** Stops counting. */
  stop(): void {
    this.unsubscribe();
  }

  /** The exposition text. */
  text(): string {
    const out: string[] = [];
    const head = (m: { name: string; help: string }, type: string) => out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${type}`);
    head(M.state, 'gauge');
    if (!this.monitor.isClosed()) {
      for (const s of this.monitor.snapshot()) {
        for (const st of RESOURCE_STATES) out.push(`${M.state.name}${labels([['resource', s.name], ['type', s.type], ['state', st]])} ${s.state === st ? 1 : 0}`);
      }
    }
    out.push('');
    head(M.checkDuration, 'histogram');
    for (const h of this.histograms.values()) {
      const l: [string, string][] = [['kind', h.kind], ['ok', h.ok]];
      this.bucketBounds.forEach((le, i) => out.push(`${M.checkDuration.name}_bucket${labels([['le', num(le)], ...l])} ${h.buckets[i]}`));
      out.push(`${M.checkDuration.name}_bucket${labels([['le', '+Inf'], ...l])} ${h.count}`);
      out.push(`${M.checkDuration.name}_sum${labels(l)} ${num(h.sum)}`);
      out.push(`${M.checkDuration.name}_count${labels(l)} ${h.count}`);
    }
    out.push('');
    head(M.restarts, 'counter');
    for (const c of this.restarts.values()) out.push(`${M.restarts.name}${labels([['resource', c.resource], ['retry', c.retry]])} ${c.n}`);
    out.push('');
    head(M.callTimeouts, 'counter');
    for (const c of this.timeouts.values()) out.push(`${M.callTimeouts.name}${labels([['resource', c.resource], ['entry_point', c.entryPoint]])} ${c.n}`);
    out.push('');
    head(M.escalations, 'counter');
    for (const [resource, n] of this.escalations) out.push(`${M.escalations.name}${labels([['resource', resource]])} ${n}`);
    return `${out.join('\n')}\n`;
  }
}

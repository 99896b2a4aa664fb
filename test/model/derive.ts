/**
 * What the checker derives from the trace: when a timer is due, whether something justified a
 * failure, the isAlive failure streaks, the restart window, and each resource's view of the trace
 * that the invariants read.
 */
import { type EntryPoint, isDependencyError, type ResourceMonitor } from 'resmon';
import type { ModelPolicy, Scenario } from './scenario.js';
import type { OpRecord, Span, StateEvent, Trace } from './trace.js';

/** The two health checks. */
export const CHECKS: EntryPoint[] = ['isAlive', 'looksAlive'];


/** `value instanceof Error`, false where the check throws (a hostile Proxy). */
export function isErrorSafe(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/**
 * An Error that a hostile plugin value is, or caused: an Error whose getters throw (the plugin's
 * own, passed through), or what reading `then` of a revoked Proxy or a throwing get trap threw.
 */
export function fromHostile(e: Error): boolean {
  try {
    return /proxy that has been revoked|the get trap throws/.test(e.message);
  } catch {
    return true;
  }
}

/**
 * When a timer of `ms` fires, at the latest: Node runs a 0 ms timer after 1 ms, and the fake
 * timers do so for a timer armed while they run timers (else at once). `dueAt` accepts both.
 */
export const timerDelay = (ms: number) => Math.max(1, ms);
export const dueAt = (armedAt: number, ms: number, at: number) => at === armedAt + ms || at === armedAt + timerDelay(ms);

function limitOf(sc: Scenario, span: Span): number {
  return span.entryPoint === 'online' || span.entryPoint === 'offline' ? sc.policy.pendingTimeout : sc.policy.deadlockTimeout;
}

/**
 * Whether something at time `t` justifies a failure of `resource` (DESIGN §1, §3, §4): a failed
 * open or online, the isAliveFailureThreshold-th failed isAlive in a row (never a failed
 * looksAlive, never an isAlive before the threshold), a passed deadline, a reportFailure.
 */
export function failureEvidence(sc: Scenario, trace: Trace, resource: string, t: number, seq: number, streaks: Map<Span, number>): boolean {
  for (const s of trace.spans) {
    if (s.resource !== resource || s.startSeq > seq) continue;
    const thresholdReached = s.entryPoint !== 'isAlive' || (streaks.get(s) ?? 0) >= sc.policy.isAliveFailureThreshold;
    if (s.endAt === t && s.outcome === 'fail' && s.endSeq !== null && s.endSeq < seq && s.entryPoint !== 'looksAlive' && thresholdReached) return true;
    // A deadline: the call was still running when its limit passed (online: counted from its last progress).
    const limitAt = (s.entryPoint === 'online' ? s.lastProgressAt : s.startAt) + limitOf(sc, s);
    if (limitAt === t && (s.endSeq === null || s.endSeq > seq || (s.endAt as number) >= t)) {
      if (s.entryPoint === 'online' || s.entryPoint === 'open' || CHECKS.includes(s.entryPoint)) return true;
    }
  }
  return trace.reports.some((r) => r.span.resource === resource && r.at === t && r.seq < seq);
}

/**
 * isAliveFailureThreshold (DESIGN §4): for each isAlive whose result the monitor must count (it
 * settled before being abandoned, while the resource was online in the call's generation), how
 * many isAlive checks had failed in a row in that online period, this one included (0: passed).
 */
function isAliveStreaks(trace: Trace, spans: Span[]): Map<Span, number> {
  const out = new Map<Span, number>();
  let gen = -1;
  let run = 0;
  const ended = spans
    .filter((s) => s.entryPoint === 'isAlive' && s.endSeq !== null && s.outcome !== null && (s.abortSeq === null || s.abortSeq > (s.endSeq as number)))
    .sort((x, y) => (x.endSeq as number) - (y.endSeq as number));
  for (const s of ended) {
    const now = trace.stateOf(s.resource, s.endSeq as number);
    if (now.state !== 'online' || now.gen !== s.gen) continue;
    if (now.gen !== gen) {
      gen = now.gen;
      run = 0;
    }
    run = s.outcome === 'ok' ? 0 : run + 1;
    out.set(s, run);
  }
  return out;
}

/** When the next isAlive runs after a failed one that left the resource online (DESIGN §4). */
export const retryInterval = (p: ModelPolicy) => Math.min(p.isAlivePollInterval, p.looksAlivePollInterval || p.isAlivePollInterval);

/**
 * The restart window (DESIGN §4) of `resource` as the monitor must see it at time `at`, from the
 * events before `seq`: restarts started within `restartPeriod`, minus those before a retry, an
 * online() on the failed resource, or an online period that lasted `stableAfter` (until it left
 * online, or until terminate()/removeResource() took it down, or until now). `forgiven` counts
 * the stable periods that emptied a window that was not empty.
 */
export function restartWindow(sc: Scenario, trace: Trace, resource: string, seq: number, at: number): { inWindow: number; forgiven: number } {
  const p = sc.policy;
  const events = trace.states.filter((e) => e.resource === resource);
  let records: number[] = [];
  let forgiven = 0;
  for (let i = 0; i < events.length && (events[i] as StateEvent).seq < seq; i++) {
    const e = events[i] as StateEvent;
    if (e.to === 'online-pending' && e.from === 'failed') {
      if (/^restart \d+ after/.test(e.reason)) records.push(e.at);
      else records = [];
    }
    if (e.to === 'online' && p.stableAfter > 0) {
      const leave = events[i + 1] ?? null;
      const until = leave && leave.seq < seq ? leave.seq : seq;
      // (A remove refused with DependencyError takes nothing down.)
      const down = trace.ops.find(
        (o) => (o.op === 'terminate' || o.op === 'remove') && o.r === resource && o.seq > e.seq && o.seq < until && !(o.op === 'remove' && isDependencyError(o.error)),
      );
      // With dependencies, terminate() reaches the resource only once its dependents are down:
      // the period ends when its terminate call starts (or when it leaves online).
      const reached = (o: OpRecord) =>
        sc.deps === undefined ? o.at : (trace.spans.find((x) => x.resource === resource && x.entryPoint === 'terminate' && x.startSeq > o.seq && x.startSeq < until)?.startAt ?? null);
      const downAt = down ? reached(down) : null;
      const end = downAt !== null ? downAt : leave && leave.seq < seq ? leave.at : at;
      if (end - e.at >= p.stableAfter) {
        if (records.some((t) => t > end - p.restartPeriod)) forgiven++;
        records = [];
      }
    }
  }
  return { inWindow: records.filter((t) => t > at - p.restartPeriod).length, forgiven };
}

/** The call resolved before it was abandoned: its result counts. */
export const counted = (s: Span) => s.outcome === 'ok' && s.endSeq !== null && (s.abortSeq === null || s.abortSeq > s.endSeq);

export interface CheckOptions {
  removed: Set<string>;
  closed: boolean;
  final: boolean;
}

/** One resource's part of the trace, and what the invariants ask of it. */
export interface ResourceView {
  sc: Scenario;
  trace: Trace;
  monitor: ResourceMonitor;
  opts: CheckOptions;
  r: string;
  /** Its stateChange events, in order. */
  events: StateEvent[];
  /** Its plugin calls, in order. */
  spans: Span[];
  /** isAliveStreaks of its spans. */
  streaks: Map<Span, number>;
  /** isAliveFailureThreshold. */
  threshold: number;
  /** The fake clock's time. */
  now: number;
  /** abortGrace. */
  grace: number;
  /** The resource had been opened (open resolved and counted; without open, online started) before `seq`. */
  opened: (resource: string, seq: number) => boolean;
  /** Its first stateChange after `seq`. */
  nextEvent: (seq: number) => StateEvent | null;
  /** An operation that takes it down (or a dependency down) was outstanding at `seq`. */
  stoppedBy: (seq: number) => boolean;
}

export function resourceView(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions, r: string, now: number): ResourceView {
  const events = trace.states.filter((e) => e.resource === r);
  const spans = trace.spans.filter((s) => s.resource === r);
  return {
    sc,
    trace,
    monitor,
    opts,
    r,
    events,
    spans,
    streaks: isAliveStreaks(trace, spans),
    threshold: sc.policy.isAliveFailureThreshold,
    now,
    grace: sc.abortGrace,
    opened: (resource: string, seq: number): boolean =>
      sc.shape.open
        ? trace.spans.some((s) => s.resource === resource && s.entryPoint === 'open' && counted(s) && (s.endSeq as number) < seq)
        : trace.spans.some((s) => s.resource === resource && s.entryPoint === 'online' && s.startSeq < seq),
    nextEvent: (seq: number) => events.find((e) => e.seq > seq) ?? null,
    stoppedBy: (seq: number) => trace.outstanding(r, seq, ['terminate', 'remove', 'close', 'offline']) || (trace.dependencyDown?.(r, seq) ?? false),
  };
}

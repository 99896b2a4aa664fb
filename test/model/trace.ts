/**
 * The ordered trace a model run records: every plugin call (span), settle, abort, report, public
 * operation and event gets a sequence number, so "what happened first" is exact even within one
 * millisecond. The plugin and the run write it; the checker reads it.
 */
import type { EntryPoint, ResourceContext, ResourceState } from 'resmon';
import type { Behaviour } from './scenario.js';

export interface Span {
  id: number;
  resource: string;
  entryPoint: EntryPoint;
  /** The resource's generation when the call started. */
  gen: number;
  behaviour: Behaviour;
  startSeq: number;
  startAt: number;
  endSeq: number | null;
  endAt: number | null;
  /** How it settled: ok (resolved; for a check, with true), fail (false, non-boolean, threw, rejected). */
  outcome: 'ok' | 'fail' | null;
  abortSeq: number | null;
  abortAt: number | null;
  /** Last progress the monitor could count (start, or a report before the abort). */
  lastProgressAt: number;
  /** The version of the properties the call saw (`ctx.properties.v`). */
  v?: number;
}

export interface OpRecord {
  id: number;
  op: 'online' | 'offline' | 'terminate' | 'remove' | 'close' | 'waitFor' | 'setProperties' | 'setPolicy' | 'control';
  /** Called from inside a listener (issue 10 §1). */
  fromListener?: boolean;
  /** setProperties: the version it sent; control: the code. */
  v?: number;
  code?: string;
  /** What it resolved with. */
  value?: unknown;
  r: string | null;
  seq: number;
  at: number;
  doneSeq: number | null;
  result: 'resolved' | 'rejected' | null;
  error: unknown;
}

export interface StateEvent {
  seq: number;
  at: number;
  resource: string;
  from: ResourceState;
  to: ResourceState;
  reason: string;
  generation: number;
  /** With dependencies: `inspect().target` when the event was emitted. */
  target?: 'online' | 'offline';
}

interface RestartEvent {
  seq: number;
  at: number;
  resource: string;
  attempt: number;
  delayMs: number;
  retry: boolean;
}

interface CheckRecord {
  seq: number;
  at: number;
  resource: string;
  kind: 'looksAlive' | 'isAlive';
  ok: boolean;
  reason: string | undefined;
  consecutiveFailures: number;
}

interface ReportEvent {
  seq: number;
  at: number;
  span: Span;
  /** Made by a listener (acts a microtask later). */
  fromListener?: boolean;
}

/** A plugin error, recognisable in what online() rejects with. */
export class PluginError extends Error {
  readonly fromPlugin = true;
}

/** A non-Error value a plugin throws or rejects with. */
export const NON_ERROR = Object.freeze({ notAnError: true });

export class Trace {
  seq = 0;
  spans: Span[] = [];
  ops: OpRecord[] = [];
  states: StateEvent[] = [];
  restarts: RestartEvent[] = [];
  escalations: { seq: number; at: number; resource: string }[] = [];
  reports: ReportEvent[] = [];
  checks: CheckRecord[] = [];
  /** Timers the monitor armed through its clock and that have not fired or been cleared. */
  monitorTimers = new Map<unknown, number>();
  /** Unhandled rejections and uncaught exceptions seen during the run. */
  crashes: string[] = [];
  closedSeq: number | null = null;
  /** Plugin faults have stopped: every call from now on behaves as `ok` (the graph suite's liveness check). */
  faultsOff = false;
  /**
   * With dependencies: the other resources whose operations act on `resource` too (an online()
   * of a dependent brings it online; an offline()/terminate() of a dependency takes it down).
   */
  related: ((resource: string, op: OpRecord['op']) => ReadonlySet<string>) | null = null;
  /** With dependencies: a dependency (direct or not) of `resource` was not online just before `seq`. */
  dependencyDown: ((resource: string, seq: number) => boolean) | null = null;
  /** The context of each resource's latest call, for listeners that call ctx.reportFailure. */
  lastCtx = new Map<string, { ctx: ResourceContext; span: Span }>();

  next(): number {
    return ++this.seq;
  }

  now(): number {
    return Date.now();
  }

  stateOf(resource: string, beforeSeq = Number.POSITIVE_INFINITY): { state: ResourceState; gen: number; event: StateEvent | null } {
    let event: StateEvent | null = null;
    for (const e of this.states) if (e.resource === resource && e.seq < beforeSeq) event = e;
    return { state: event ? event.to : 'offline', gen: event ? event.generation : 0, event };
  }

  outstanding(resource: string, seq: number, ops: OpRecord['op'][]): boolean {
    return this.ops.some(
      (o) => ops.includes(o.op) && this.concerns(o, resource) && o.seq < seq && (o.doneSeq === null || o.doneSeq > seq),
    );
  }

  /** Any of `ops` called on the resource (or close) with seq in [from, to]. */
  calledBetween(resource: string, from: number, to: number, ops: OpRecord['op'][]): boolean {
    return this.ops.some((o) => ops.includes(o.op) && this.concerns(o, resource) && o.seq >= from && o.seq <= to);
  }

  /** The operation acts on `resource`: called on it, close(), or (with dependencies) on a related resource. */
  private concerns(o: OpRecord, resource: string): boolean {
    if (o.r === resource || o.op === 'close') return true;
    return o.r !== null && this.related !== null && this.related(resource, o.op).has(o.r);
  }
}

/** A one-line text of anything, without throwing (hostile values included). */
export function safeText(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return String(value);
  } catch {
    return 'an unprintable value';
  }
}

/** A readable trace, for counterexamples. */
export function render(trace: Trace): string {
  const lines: [number, string][] = [];
  for (const s of trace.spans) {
    lines.push([s.startSeq, `t=${s.startAt} ${s.resource} call ${s.entryPoint} #${s.id} gen ${s.gen} (${s.behaviour.kind}${s.behaviour.delay ? ` ${s.behaviour.delay}ms` : ''}${s.behaviour.reportFailureAfter !== null ? `, reportFailure@${s.behaviour.reportFailureAfter}` : ''})`]);
    if (s.abortSeq !== null) lines.push([s.abortSeq, `t=${s.abortAt} ${s.resource} abort ${s.entryPoint} #${s.id}`]);
    if (s.endSeq !== null) lines.push([s.endSeq, `t=${s.endAt} ${s.resource} settle ${s.entryPoint} #${s.id} ${s.outcome}`]);
  }
  for (const e of trace.states) lines.push([e.seq, `t=${e.at} ${e.resource} STATE ${e.from} -> ${e.to} gen ${e.generation} (${e.reason})`]);
  for (const x of trace.restarts) lines.push([x.seq, `t=${x.at} ${x.resource} restartScheduled attempt ${x.attempt} +${x.delayMs}${x.retry ? ' retry' : ''}`]);
  for (const x of trace.escalations) lines.push([x.seq, `t=${x.at} ${x.resource} escalated`]);
  for (const c of trace.checks) {
    if (!c.ok) lines.push([c.seq, `t=${c.at} ${c.resource} check ${c.kind} failed, ${c.consecutiveFailures} in a row (${c.reason ?? ''})`]);
  }
  for (const x of trace.reports) lines.push([x.seq, `t=${x.at} ${x.span.resource} reportFailure from ${x.span.entryPoint} #${x.span.id}`]);
  for (const o of trace.ops) {
    lines.push([o.seq, `t=${o.at} OP ${o.op}(${o.r ?? ''})`]);
    if (o.doneSeq !== null) lines.push([o.doneSeq, `      OP ${o.op}(${o.r ?? ''}) ${o.result}${o.result === 'rejected' ? `: ${safeText(o.error)}` : ''}${o.fromListener ? ' (from a listener)' : ''}`]);
  }
  return lines
    .sort((x, y) => x[0] - y[0])
    .map(([seq, line]) => `  #${seq} ${line}`)
    .join('\n');
}

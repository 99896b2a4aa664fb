/**
 * The model-based reliability harness: runs generated operation sequences against a real
 * `ResourceMonitor` whose plugin behaves as a generated script says (resolve, return false,
 * throw, reject with a non-Error, hang, settle only after abandonment, report failure or
 * progress at random moments), on fake timers, and checks after every step that what happened is
 * what DESIGN §3-§5 allow. The checker works on one ordered trace (every plugin call, settle,
 * abort, report, public operation and event gets a sequence number), so "what happened first"
 * is exact even within one millisecond.
 */
import fc from 'fast-check';
import { vi } from 'vitest';
import {
  DEFAULT_PROCESSING,
  type DependencyItem,
  type EntryPoint,
  isCallTimeoutError,
  isConfigError,
  isDependencyError,
  isMonitorClosedError,
  isResmonError,
  isStateError,
  isUnknownResourceError,
  type ResourceContext,
  ResourceMonitor,
  type ResourceState,
  type ResourceType,
  type RestartAction,
} from 'resmon';
import { HOSTILE_KINDS, hostile, type HostileKind } from './helpers/hostile.js';

// ---- scenarios -------------------------------------------------------------------------------

export type BehaviourKind =
  | 'ok'
  | 'false'
  | 'nonBool'
  | 'throw'
  | 'throwValue'
  | 'reject'
  | 'rejectValue'
  | 'hang'
  | 'settleAfterAbort'
  | 'progress'
  | 'throwHostile'
  | 'rejectHostile'
  | 'returnHostile';

/** How one plugin call behaves. */
export interface Behaviour {
  kind: BehaviourKind;
  /** Milliseconds before it settles (0: synchronously, where the kind allows). */
  delay: number;
  /** settleAfterAbort: milliseconds between the abort and the settle. */
  lag: number;
  /** Calls ctx.reportFailure this long after the call starts (0: during the call), or never. */
  reportFailureAfter: number | null;
  /**
   * The hostile value (see helpers/hostile.ts) that throwHostile/rejectHostile/returnHostile use,
   * and that reportFailure passes when set.
   */
  hostile?: HostileKind | undefined;
}

/** A monitor call a listener makes (issue 10 §1): any public method, from any listener. */
export type ListenerOp = 'online' | 'offline' | 'terminate' | 'remove' | 'close' | 'waitFor' | 'read' | 'reportFailure';

/** A listener that calls the monitor when its event comes. */
export interface ListenerRule {
  on: 'stateChange' | 'check' | 'restartScheduled' | 'escalated' | 'progress' | 'callTimeout';
  /** stateChange only: react to a change into this state (null: any). */
  to: ResourceState | null;
  /** React to events of this resource only (null: any). */
  from: string | null;
  op: ListenerOp;
  /** The resource it acts on. */
  r: string;
  /** At most this many calls. */
  times: number;
}

export type Step =
  | { op: 'online' | 'offline' | 'terminate' | 'remove'; r: string }
  | { op: 'close' }
  | { op: 'advance'; ms: number }
  /** New properties `{ v }` (v is the op's number; `bad` ones fail validate). */
  | { op: 'setProperties'; r: string; bad: boolean }
  /** A policy change that keeps the timings the checker assumes (callBudget, the same intervals, a field removed). */
  | { op: 'setPolicy'; r: string; change: 'budget' | 'intervals' | 'reset' }
  | { op: 'control'; r: string; code: 'model' | 'get-status' | 'get-properties' | 'nope' };

export interface ModelPolicy {
  looksAlivePollInterval: number;
  isAlivePollInterval: number;
  pendingTimeout: number;
  deadlockTimeout: number;
  callBudget: number;
  restartAction: RestartAction;
  restartThreshold: number;
  restartPeriod: number;
  restartDelay: number;
  restartBackoff: number;
  maxRestartDelay: number;
  retryPeriodOnFailure: number;
  isAliveFailureThreshold: number;
  stableAfter: number;
}

export interface Scenario {
  policy: ModelPolicy;
  abortGrace: number;
  /** Which optional entry points the plugin has (applyProperties and control: absent means no). */
  shape: { open: boolean; looksAlive: boolean; close: boolean; apply?: boolean; control?: boolean };
  resources: string[];
  /** Per resource: the behaviours of its calls, in order, cycled. */
  scripts: Record<string, Behaviour[]>;
  /**
   * Per resource, optional: the behaviours of its isAlive calls, in order, cycled, instead of
   * `scripts` (runs of failed probes, so isAliveFailureThreshold is reached and held).
   */
  probes?: Record<string, Behaviour[]>;
  /**
   * Optional: each resource's `dependsOn` (issue 13), and their group. `resources` is then in an
   * order where dependencies come first. See model-graph.ts for the invariants they add.
   */
  deps?: Record<string, DependencyItem[]>;
  group?: string;
  steps: Step[];
  /** Listeners that call the monitor (issue 10 §1). */
  listeners?: ListenerRule[];
  /** A listener, registered before all others, that throws this on every event (issue 10 §4). */
  throwingListener?: HostileKind | 'error' | null;
  /** A second type whose validate() throws this hostile value: addResource must throw ConfigError (§2). */
  validateThrows?: HostileKind | null;
}

/** Shorthand for a behaviour in hand-written regression scenarios. */
export function b(kind: BehaviourKind, more: Partial<Omit<Behaviour, 'kind'>> = {}): Behaviour {
  return { kind, delay: 0, lag: 0, reportFailureAfter: null, ...more };
}

export const basePolicy: ModelPolicy = {
  looksAlivePollInterval: 100,
  isAlivePollInterval: 300,
  pendingTimeout: 500,
  deadlockTimeout: 400,
  callBudget: 50,
  restartAction: 'restart',
  restartThreshold: 1,
  restartPeriod: 2_000,
  restartDelay: 50,
  restartBackoff: 1,
  maxRestartDelay: 400,
  retryPeriodOnFailure: 2_500,
  isAliveFailureThreshold: 1,
  stableAfter: 0,
};

export const behaviourArb: fc.Arbitrary<Behaviour> = fc.record({
  kind: fc.oneof(
    { weight: 14, arbitrary: fc.constant<BehaviourKind>('ok') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('false') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('nonBool') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throw') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throwValue') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('reject') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('rejectValue') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('hang') },
    { weight: 2, arbitrary: fc.constant<BehaviourKind>('settleAfterAbort') },
    { weight: 2, arbitrary: fc.constant<BehaviourKind>('progress') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throwHostile') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('rejectHostile') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('returnHostile') },
  ),
  delay: fc.constantFrom(0, 0, 0, 5, 30, 120, 450),
  lag: fc.constantFrom(0, 20, 150, 350),
  reportFailureAfter: fc.option(fc.constantFrom(0, 10, 150, 700), { freq: 10 }),
  hostile: fc.option(fc.constantFrom(...HOSTILE_KINDS), { freq: 3, nil: undefined }),
});

const listenerRuleArb = (names: string[]): fc.Arbitrary<ListenerRule> =>
  fc.record({
    on: fc.constantFrom<ListenerRule['on']>('stateChange', 'stateChange', 'stateChange', 'stateChange', 'check', 'restartScheduled', 'escalated', 'progress', 'callTimeout'),
    to: fc.option(fc.constantFrom<ResourceState>('online-pending', 'online', 'failed', 'offline-pending', 'offline'), { freq: 4 }),
    from: fc.option(fc.constantFrom(...names), { freq: 2 }),
    op: fc.oneof(
      { weight: 3, arbitrary: fc.constant<ListenerOp>('online') },
      { weight: 3, arbitrary: fc.constant<ListenerOp>('offline') },
      { weight: 3, arbitrary: fc.constant<ListenerOp>('terminate') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('remove') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('close') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('waitFor') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('read') },
      { weight: 2, arbitrary: fc.constant<ListenerOp>('reportFailure') },
    ),
    r: fc.constantFrom(...names),
    times: fc.integer({ min: 1, max: 3 }),
  });

export const stepArb = (names: string[]): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('online' as const), r: fc.constantFrom(...names) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('offline' as const), r: fc.constantFrom(...names) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('terminate' as const), r: fc.constantFrom(...names) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), r: fc.constantFrom(...names) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
    { weight: 9, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 1, 10, 50, 100, 200, 400, 1_000) }) },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('setProperties' as const), r: fc.constantFrom(...names), bad: fc.constantFrom(false, false, false, false, true) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('setPolicy' as const), r: fc.constantFrom(...names), change: fc.constantFrom('budget' as const, 'intervals' as const, 'reset' as const) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('control' as const),
        r: fc.constantFrom(...names),
        code: fc.constantFrom('model' as const, 'get-status' as const, 'get-properties' as const, 'nope' as const),
      }),
    },
  );

export const policyArb: fc.Arbitrary<ModelPolicy> = fc.record({
  looksAlivePollInterval: fc.constantFrom(0, 100),
  isAlivePollInterval: fc.constantFrom(150, 500),
  pendingTimeout: fc.constantFrom(300, 1_000),
  deadlockTimeout: fc.constantFrom(200, 800),
  callBudget: fc.constant(50),
  restartAction: fc.constantFrom<RestartAction>('none', 'restart', 'restart-escalate'),
  restartThreshold: fc.integer({ min: 0, max: 2 }),
  restartPeriod: fc.constant(2_000),
  restartDelay: fc.constantFrom(0, 50),
  restartBackoff: fc.constantFrom(1, 2),
  maxRestartDelay: fc.constant(150),
  retryPeriodOnFailure: fc.constantFrom(2_500, Number.POSITIVE_INFINITY),
  isAliveFailureThreshold: fc.constantFrom(1, 1, 2, 3),
  stableAfter: fc.constantFrom(0, 0, 150, 600),
});

/** isAlive answers in runs: mostly plain passes and failures, some slow, some thrown. */
const probeArb: fc.Arbitrary<Behaviour> = fc.record({
  kind: fc.constantFrom<BehaviourKind>('ok', 'ok', 'false', 'false', 'nonBool', 'throw', 'reject'),
  delay: fc.constantFrom(0, 0, 5, 30),
  lag: fc.constant(0),
  reportFailureAfter: fc.constant(null),
});

/** Generates whole scenarios; `constrain` filters out cases a known core bug makes fail. */
export function scenarioArb(maxSteps = 30): fc.Arbitrary<Scenario> {
  return fc
    .record({
      policy: policyArb,
      abortGrace: fc.constantFrom(0, 100, 300),
      shape: fc.record({ open: fc.boolean(), looksAlive: fc.boolean(), close: fc.boolean(), apply: fc.boolean(), control: fc.boolean() }),
      two: fc.boolean(),
      scriptA: fc.array(behaviourArb, { minLength: 1, maxLength: 12 }),
      scriptB: fc.array(behaviourArb, { minLength: 1, maxLength: 12 }),
      probes: fc.option(fc.array(probeArb, { minLength: 2, maxLength: 8 }), { freq: 2 }),
      throwingListener: fc.option(fc.constantFrom<HostileKind | 'error'>('error', ...HOSTILE_KINDS), { freq: 4 }),
      validateThrows: fc.option(fc.constantFrom(...HOSTILE_KINDS), { freq: 4 }),
    })
    .chain(({ policy, abortGrace, shape, two, scriptA, scriptB, probes, throwingListener, validateThrows }) => {
      const resources = two ? ['a', 'b'] : ['a'];
      const listeners = fc.oneof(fc.constant([] as ListenerRule[]), fc.array(listenerRuleArb(resources), { minLength: 1, maxLength: 3 }));
      return fc.tuple(fc.array(stepArb(resources), { minLength: 1, maxLength: maxSteps }), listeners).map(
        ([steps, rules]): Scenario => ({
          listeners: rules,
          throwingListener,
          validateThrows,
          policy,
          abortGrace,
          shape,
          resources,
          scripts: { a: scriptA, b: scriptB },
          ...(probes ? { probes: { a: probes } } : {}),
          steps,
        }),
      );
    });
}

// ---- the trace -------------------------------------------------------------------------------

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
  /** Plugin faults have stopped: every call from now on behaves as `ok` (model-graph's liveness check). */
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

// ---- the plugin ------------------------------------------------------------------------------

function makeType(sc: Scenario, trace: Trace): ResourceType {
  const counters = new Map<string, number>();
  const probeCounters = new Map<string, number>();
  const isCheck = (ep: EntryPoint) => ep === 'isAlive' || ep === 'looksAlive';
  const pass = (ep: EntryPoint, beh: Behaviour): unknown => {
    if (ep === 'open') return { handle: true };
    if (isCheck(ep)) return true;
    // applyProperties: applied, or 'stored'; control: an answer, or the monitor's default processing.
    if (ep === 'applyProperties') return beh.lag >= 150 ? 'stored' : undefined;
    if (ep === 'control') return beh.lag === 20 ? DEFAULT_PROCESSING : 'answer';
    return undefined;
  };

  const entry = (ep: EntryPoint) => (ctx: ResourceContext) => {
    const probes = ep === 'isAlive' ? sc.probes?.[ctx.resource] : undefined;
    const script = probes ?? sc.scripts[ctx.resource] ?? [b('ok')];
    const count = probes ? probeCounters : counters;
    const i = count.get(ctx.resource) ?? 0;
    count.set(ctx.resource, i + 1);
    const beh = trace.faultsOff ? b('ok') : (script[i % script.length] as Behaviour);
    const at = trace.now();
    const span: Span = {
      id: trace.spans.length,
      resource: ctx.resource,
      entryPoint: ep,
      gen: trace.stateOf(ctx.resource).gen,
      behaviour: beh,
      startSeq: trace.next(),
      startAt: at,
      endSeq: null,
      endAt: null,
      outcome: null,
      abortSeq: null,
      abortAt: null,
      lastProgressAt: at,
      v: (ctx.properties as { v?: number } | null)?.v ?? -1,
    };
    trace.spans.push(span);
    trace.lastCtx.set(ctx.resource, { ctx, span });
    if (ctx.signal.aborted) {
      span.abortSeq = span.startSeq;
      span.abortAt = at;
    } else {
      ctx.signal.addEventListener(
        'abort',
        () => {
          span.abortSeq = trace.next();
          span.abortAt = trace.now();
        },
        { once: true },
      );
    }
    const settle = (outcome: 'ok' | 'fail') => {
      if (span.endSeq !== null) return;
      span.endSeq = trace.next();
      span.endAt = trace.now();
      span.outcome = outcome;
    };
    const report = () => {
      trace.reports.push({ seq: trace.next(), at: trace.now(), span });
      ctx.reportFailure(beh.hostile ? hostile(beh.hostile) : beh.kind === 'rejectValue' ? NON_ERROR : new PluginError(`reported by ${ep}`));
    };
    if (beh.reportFailureAfter !== null) {
      if (beh.reportFailureAfter === 0) report();
      else setTimeout(report, beh.reportFailureAfter);
    }
    const value = (): unknown => {
      if (!isCheck(ep)) return pass(ep, beh);
      if (beh.kind === 'false') return false;
      if (beh.kind === 'nonBool') return 'yes';
      return true;
    };
    const outcomeOfValue = (): 'ok' | 'fail' => (isCheck(ep) && (beh.kind === 'false' || beh.kind === 'nonBool') ? 'fail' : 'ok');
    switch (beh.kind) {
      case 'throw':
        settle('fail');
        throw new PluginError(`${ep} threw`);
      case 'throwValue':
        settle('fail');
        throw NON_ERROR;
      case 'throwHostile':
        settle('fail');
        throw hostile(beh.hostile ?? 'throwingGetters');
      case 'rejectHostile':
        return new Promise((_, reject) => {
          setTimeout(() => {
            settle('fail');
            reject(hostile(beh.hostile ?? 'revokedProxy'));
          }, beh.delay);
        });
      case 'returnHostile': {
        // A value whose `then` cannot be read counts as a rejection (as a promise resolved with it would).
        // applyProperties and control answer the caller: they return what the live-change checks expect.
        if (ep === 'applyProperties' || ep === 'control') {
          settle('ok');
          return pass(ep, beh);
        }
        const v = hostile(beh.hostile ?? 'throwingPrototype');
        let thenable = true;
        try {
          void (v as { then?: unknown }).then;
        } catch {
          thenable = false;
        }
        const outcome = !thenable || isCheck(ep) ? 'fail' : 'ok';
        if (beh.delay === 0) {
          settle(outcome);
          return v;
        }
        return new Promise((resolve) => {
          setTimeout(() => {
            settle(outcome);
            resolve(v);
          }, beh.delay);
        });
      }
      case 'hang':
        return new Promise(() => {});
      case 'settleAfterAbort':
        return new Promise((resolve) => {
          const go = () =>
            setTimeout(() => {
              settle('ok');
              resolve(pass(ep, beh));
            }, beh.lag);
          if (ctx.signal.aborted) go();
          else ctx.signal.addEventListener('abort', go, { once: true });
        });
      case 'progress': {
        const every = Math.max(1, Math.floor(sc.policy.pendingTimeout * 0.6));
        return new Promise((resolve) => {
          let n = 0;
          const tick = () => {
            if (n++ < 3) {
              if (!ctx.signal.aborted && (ep === 'online' || ep === 'offline')) span.lastProgressAt = trace.now();
              ctx.reportProgress(`step ${n}`);
              setTimeout(tick, every);
            } else {
              settle('ok');
              resolve(pass(ep, beh));
            }
          };
          setTimeout(tick, every);
        });
      }
      case 'reject':
      case 'rejectValue':
        return new Promise((_, reject) => {
          setTimeout(() => {
            settle('fail');
            reject(beh.kind === 'reject' ? new PluginError(`${ep} rejected`) : NON_ERROR);
          }, beh.delay);
        });
      default:
        if (beh.delay === 0) {
          settle(outcomeOfValue());
          return value();
        }
        return new Promise((resolve) => {
          setTimeout(() => {
            settle(outcomeOfValue());
            resolve(value());
          }, beh.delay);
        });
    }
  };

  const type: Record<string, unknown> = {
    name: 'model',
    online: entry('online'),
    offline: entry('offline'),
    terminate: entry('terminate'),
    isAlive: entry('isAlive'),
  };
  if (sc.shape.open) type.open = entry('open');
  if (sc.shape.looksAlive) type.looksAlive = entry('looksAlive');
  if (sc.shape.close) type.close = entry('close');
  if (sc.shape.apply) type.applyProperties = entry('applyProperties');
  if (sc.shape.control) type.control = entry('control');
  type.validate = (p: unknown) => {
    const v = (p as { v?: unknown } | null)?.v;
    if (typeof v !== 'number' || v < 0) throw new Error('v must be a number >= 0');
    return { v };
  };
  return type as unknown as ResourceType;
}

// ---- the run ---------------------------------------------------------------------------------

export class InvariantViolation extends Error {}

/** What the runs exercised, so a suite that stopped reaching a behaviour fails instead of passing vacuously. */
export const coverage = {
  transitions: new Map<string, number>(),
  outcomes: new Map<string, number>(),
  /** Live changes and control codes: `setProperties:applied`, `control:rejected`, ... (DESIGN §11). */
  live: new Map<string, number>(),
  /** isAliveFailureThreshold and stableAfter at work (DESIGN §4). */
  hysteresis: { held: 0, reached: 0, forgiven: 0 },
  /** Operations listeners made (issue 10 §1), by operation. */
  listenerOps: new Map<string, number>(),
  add(trace: Trace, sc: Scenario): void {
    for (const o of trace.ops) if (o.fromListener) this.listenerOps.set(o.op, (this.listenerOps.get(o.op) ?? 0) + 1);
    const n = sc.policy.isAliveFailureThreshold;
    for (const c of trace.checks) {
      if (c.kind !== 'isAlive' || c.ok || /deadlockTimeout/.test(c.reason ?? '')) continue;
      if (c.consecutiveFailures < n) this.hysteresis.held++;
      else if (n > 1) this.hysteresis.reached++;
    }
    for (const r of sc.resources) this.hysteresis.forgiven += restartWindow(sc, trace, r, Number.POSITIVE_INFINITY, trace.now()).forgiven;
    for (const o of trace.ops) {
      if (o.op !== 'setProperties' && o.op !== 'setPolicy' && o.op !== 'control') continue;
      const key = `${o.op}:${o.result === 'resolved' && o.op === 'setProperties' ? String(o.value) : o.result}`;
      this.live.set(key, (this.live.get(key) ?? 0) + 1);
    }
    for (const e of trace.states) {
      const key = `${e.from}->${e.to}`;
      this.transitions.set(key, (this.transitions.get(key) ?? 0) + 1);
    }
    for (const s of trace.spans) {
      const key = `${s.entryPoint}:${s.behaviour.kind}${s.abortSeq !== null ? ':abandoned' : ''}`;
      this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    }
  },
};

export interface RunResult {
  trace: Trace;
  violations: string[];
}

/**
 * Runs one scenario on fake timers (the caller has called `vi.useFakeTimers()`) and checks the
 * invariants after every step and at the end (after close and a long wait). Throws
 * `InvariantViolation` with the first violations and a readable trace.
 */
/** Extra checks a suite adds to the run (model-graph.ts). */
export interface ScenarioHooks {
  /** More invariants, checked with the others after every step. */
  check?(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions): string[];
  /** After the steps and a while of running, before close(): e.g. stop the faults, wait, check liveness. */
  settle?(sc: Scenario, trace: Trace, monitor: ResourceMonitor, removed: ReadonlySet<string>): Promise<string[]>;
}

export async function runScenario(sc: Scenario, trace = new Trace(), hooks: ScenarioHooks = {}): Promise<RunResult> {
  const check = (opts: CheckOptions) => [...checkTrace(sc, trace, monitor, opts), ...(hooks.check?.(sc, trace, monitor, opts) ?? [])];
  const onRejection = (reason: unknown) => trace.crashes.push(`unhandled rejection: ${String(reason)}`);
  const onException = (error: unknown) => trace.crashes.push(`uncaught exception: ${String(error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const clock = {
    now: () => Date.now(),
    setTimeout: (fn: () => void, ms: number) => {
      const handle = setTimeout(() => {
        trace.monitorTimers.delete(handle);
        fn();
      }, ms);
      trace.monitorTimers.set(handle, ms);
      return handle;
    },
    clearTimeout: (handle: unknown) => {
      trace.monitorTimers.delete(handle);
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
  const monitor = new ResourceMonitor({ clock, abortGrace: sc.abortGrace, defaults: sc.policy });
  if (sc.throwingListener) {
    // Registered first: every listener after it must still get every event (issue 10 §4).
    const what = sc.throwingListener;
    for (const event of EVENTS) {
      monitor.on(event, () => {
        throw what === 'error' ? new Error('a listener bug') : hostile(what);
      });
    }
  }
  monitor.on('stateChange', (e) =>
    trace.states.push(sc.deps ? { seq: trace.next(), ...e, target: monitor.inspect(e.resource).target } : { seq: trace.next(), ...e }),
  );
  monitor.on('restartScheduled', (e) => trace.restarts.push({ seq: trace.next(), ...e }));
  monitor.on('escalated', (e) => trace.escalations.push({ seq: trace.next(), at: e.at, resource: e.resource }));
  monitor.on('check', (e) =>
    trace.checks.push({ seq: trace.next(), at: e.at, resource: e.resource, kind: e.kind, ok: e.ok, reason: e.reason, consecutiveFailures: e.consecutiveFailures }),
  );
  monitor.registerType(makeType(sc, trace));
  for (const name of sc.resources) {
    const dependsOn = sc.deps?.[name];
    monitor.addResource({ name, type: 'model', properties: { v: 0 }, ...(dependsOn ? { dependsOn } : {}), ...(sc.group ? { group: sc.group } : {}) });
  }
  if (sc.validateThrows) {
    // validate() throwing a hostile value still becomes a ConfigError (issue 10 §2).
    const kind = sc.validateThrows;
    monitor.registerType({ ...makeType(sc, trace), name: 'strict', validate: () => { throw hostile(kind); } });
    try {
      monitor.addResource({ name: 'strict-1', type: 'strict', properties: { x: 1 } });
      trace.crashes.push(`addResource accepted properties that validate() rejected with ${kind}`);
    } catch (error) {
      if (!isConfigError(error)) trace.crashes.push(`validate() throwing ${kind} became ${safeText(error)}, not a ConfigError`);
    }
  }
  const removed = new Set<string>();
  let closed = false;

  /** Calls a public operation (a step, or a listener's call) and records how it settles. */
  const invoke = (op: OpRecord['op'], r: string | null, fromListener: boolean, step?: Step): void => {
    const record: OpRecord = {
      id: trace.ops.length,
      op,
      ...(fromListener ? { fromListener } : {}),
      r,
      seq: trace.next(),
      at: Date.now(),
      doneSeq: null,
      result: null,
      error: undefined,
    };
    trace.ops.push(record);
    let p: Promise<unknown>;
    try {
      if (step?.op === 'setProperties') {
        record.v = step.bad ? -(record.id + 1) : record.id + 1;
        p = monitor.setProperties(step.r, { v: record.v });
      } else if (step?.op === 'setPolicy') {
        p = monitor.setPolicy(step.r, POLICY_CHANGES[step.change](sc.policy));
      } else if (step?.op === 'control') {
        record.code = step.code;
        p = monitor.control(step.r, step.code);
      } else {
        p =
          op === 'close'
            ? monitor.close()
            : op === 'remove'
              ? monitor.removeResource(r as string)
              : op === 'waitFor'
                ? monitor.waitFor(r as string, 'online', { timeout: 300 })
                : monitor[op as 'online' | 'offline' | 'terminate'](r as string);
      }
    } catch (error) {
      p = Promise.reject(error);
    }
    if (op === 'remove') removed.add(r as string);
    if (op === 'close') closed = true;
    p.then(
      (value) => {
        record.doneSeq = trace.next();
        record.result = 'resolved';
        record.value = value;
        if (record.op === 'close') trace.closedSeq = record.doneSeq;
      },
      (error: unknown) => {
        record.doneSeq = trace.next();
        record.result = 'rejected';
        record.error = error;
      },
    );
  };

  // Listeners that call the monitor (issue 10 §1): registered after the trace's own.
  for (const rule of sc.listeners ?? []) {
    let calls = 0;
    monitor.on(rule.on, (e: { resource: string; to?: ResourceState }) => {
      if (calls >= rule.times || (rule.from !== null && e.resource !== rule.from)) return;
      if (rule.on === 'stateChange' && rule.to !== null && e.to !== rule.to) return;
      calls++;
      if (rule.op === 'read') {
        try {
          monitor.getState(rule.r);
          monitor.inspect(rule.r);
          monitor.snapshot();
        } catch (error) {
          if (!isUnknownResourceError(error)) trace.crashes.push(`a read from a listener threw ${safeText(error)}`);
        }
        return;
      }
      if (rule.op === 'reportFailure') {
        const last = trace.lastCtx.get(rule.r);
        if (!last) return;
        trace.reports.push({ seq: trace.next(), at: trace.now(), span: last.span, fromListener: true });
        last.ctx.reportFailure(new PluginError('reported from a listener'));
        return;
      }
      invoke(rule.op, rule.op === 'close' ? null : rule.r, true);
    });
  }
  const describe = (i: number) => `after step ${i} (${JSON.stringify(sc.steps[i] ?? 'end')}) at t=${Date.now()}`;
  try {
    for (let i = 0; i < sc.steps.length; i++) {
      const step = sc.steps[i] as Step;
      if (step.op === 'advance') {
        await vi.advanceTimersByTimeAsync(step.ms);
      } else {
        invoke(step.op, step.op === 'close' ? null : step.r, false, step);
        await vi.advanceTimersByTimeAsync(0);
      }
      const v = check({ removed, closed, final: false });
      if (v.length > 0) throw new InvariantViolation(`${describe(i)}:\n- ${v.join('\n- ')}\n${render(trace)}`);
    }
    // Let the resources run a while (polls, restarts, late settles), checking as it goes.
    for (let t = 0; !closed && t < 1_500; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      const v = check({ removed, closed, final: false });
      if (v.length > 0) throw new InvariantViolation(`${describe(sc.steps.length)}:\n- ${v.join('\n- ')}\n${render(trace)}`);
    }
    if (!closed && hooks.settle) {
      const v = [...(await hooks.settle(sc, trace, monitor, removed)), ...check({ removed, closed, final: false })];
      if (v.length > 0) throw new InvariantViolation(`after the faults stopped, at t=${Date.now()}:\n- ${v.join('\n- ')}\n${render(trace)}`);
    }
    if (!closed) {
      const record: OpRecord = { id: trace.ops.length, op: 'close', r: null, seq: trace.next(), at: Date.now(), doneSeq: null, result: null, error: undefined };
      trace.ops.push(record);
      closed = true;
      monitor.close().then(
        () => {
          record.doneSeq = trace.closedSeq = trace.next();
          record.result = 'resolved';
        },
        (error: unknown) => {
          record.doneSeq = trace.next();
          record.result = 'rejected';
          record.error = error;
        },
      );
    }
    // Long enough for every deadline, grace and plugin timer to pass, in steps so checks see it.
    const { pendingTimeout, deadlockTimeout } = sc.policy;
    const horizon = 4 * (pendingTimeout + deadlockTimeout + sc.abortGrace) + 3_000;
    for (let t = 0; t < horizon; t += 250) await vi.advanceTimersByTimeAsync(250);
    const v = check({ removed, closed, final: true });
    if (v.length > 0) throw new InvariantViolation(`${describe(sc.steps.length)}:\n- ${v.join('\n- ')}\n${render(trace)}`);
    coverage.add(trace, sc);
    return { trace, violations: [] };
  } finally {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }
}

/** The setPolicy changes the model makes: none changes a timing the checker assumes (they re-arm the polls all the same). */
const POLICY_CHANGES: Record<'budget' | 'intervals' | 'reset', (p: ModelPolicy) => Record<string, number | undefined>> = {
  budget: () => ({ callBudget: 10 }),
  intervals: (p) => ({ looksAlivePollInterval: p.looksAlivePollInterval, isAlivePollInterval: p.isAlivePollInterval, restartDelay: p.restartDelay }),
  reset: () => ({ callBudget: undefined }),
};

// ---- the checker -----------------------------------------------------------------------------

const ALLOWED: Record<ResourceState, ResourceState[]> = {
  offline: ['online-pending'],
  failed: ['online-pending', 'offline'],
  'online-pending': ['online', 'failed', 'offline-pending', 'offline'],
  online: ['failed', 'offline-pending', 'offline'],
  'offline-pending': ['offline'],
};

const CHECKS: EntryPoint[] = ['isAlive', 'looksAlive'];

const EVENTS = ['stateChange', 'check', 'slowCall', 'callTimeout', 'progress', 'restartScheduled', 'escalated'] as const;

/** `value instanceof Error`, false where the check throws (a hostile Proxy). */
function isErrorSafe(value: unknown): value is Error {
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
function fromHostile(e: Error): boolean {
  try {
    return /proxy that has been revoked|the get trap throws/.test(e.message);
  } catch {
    return true;
  }
}

/** A one-line text of anything, without throwing (hostile values included). */
function safeText(value: unknown): string {
  try {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    return String(value);
  } catch {
    return 'an unprintable value';
  }
}

/**
 * When a timer of `ms` fires, at the latest: Node runs a 0 ms timer after 1 ms, and the fake
 * timers do so for a timer armed while they run timers (else at once). `dueAt` accepts both.
 */
const timerDelay = (ms: number) => Math.max(1, ms);
const dueAt = (armedAt: number, ms: number, at: number) => at === armedAt + ms || at === armedAt + timerDelay(ms);

function limitOf(sc: Scenario, span: Span): number {
  return span.entryPoint === 'online' || span.entryPoint === 'offline' ? sc.policy.pendingTimeout : sc.policy.deadlockTimeout;
}

/**
 * Whether something at time `t` justifies a failure of `resource` (DESIGN §1, §3, §4): a failed
 * open or online, the isAliveFailureThreshold-th failed isAlive in a row (never a failed
 * looksAlive, never an isAlive before the threshold), a passed deadline, a reportFailure.
 */
function failureEvidence(sc: Scenario, trace: Trace, resource: string, t: number, seq: number, streaks: Map<Span, number>): boolean {
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
const retryInterval = (p: ModelPolicy) => Math.min(p.isAlivePollInterval, p.looksAlivePollInterval || p.isAlivePollInterval);

/**
 * The restart window (DESIGN §4) of `resource` as the monitor must see it at time `at`, from the
 * events before `seq`: restarts started within `restartPeriod`, minus those before a retry, an
 * online() on the failed resource, or an online period that lasted `stableAfter` (until it left
 * online, or until terminate()/removeResource() took it down, or until now). `forgiven` counts
 * the stable periods that emptied a window that was not empty.
 */
function restartWindow(sc: Scenario, trace: Trace, resource: string, seq: number, at: number): { inWindow: number; forgiven: number } {
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
const counted = (s: Span) => s.outcome === 'ok' && s.endSeq !== null && (s.abortSeq === null || s.abortSeq > s.endSeq);

export interface CheckOptions {
  removed: Set<string>;
  closed: boolean;
  final: boolean;
}

/** Every invariant, on the whole trace so far. Returns the violations, in words. */
export function checkTrace(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions): string[] {
  const out: string[] = [];
  const now = Date.now();
  const grace = sc.abortGrace;
  const opened = (resource: string, seq: number): boolean =>
    sc.shape.open
      ? trace.spans.some((s) => s.resource === resource && s.entryPoint === 'open' && counted(s) && (s.endSeq as number) < seq)
      : trace.spans.some((s) => s.resource === resource && s.entryPoint === 'online' && s.startSeq < seq);

  out.push(...trace.crashes);

  for (const r of sc.resources) {
    const events = trace.states.filter((e) => e.resource === r);
    const spans = trace.spans.filter((s) => s.resource === r);
    const streaks = isAliveStreaks(trace, spans);
    const threshold = sc.policy.isAliveFailureThreshold;

    // 1. Every transition is one the table allows, continuous, with a cause.
    let prev: ResourceState = 'offline';
    let prevGen = 0;
    let lastFailed: StateEvent | null = null;
    for (const e of events) {
      const where = `${r} ${e.from}->${e.to} at t=${e.at} (#${e.seq}, "${e.reason}")`;
      if (e.from !== prev) out.push(`${where}: from is ${e.from} but the resource was ${prev}`);
      if (!ALLOWED[e.from].includes(e.to)) out.push(`${where}: not a transition DESIGN §3 allows`);
      const expectGen = e.to === 'online-pending' ? prevGen + 1 : prevGen;
      if (e.generation !== expectGen) out.push(`${where}: generation ${e.generation}, expected ${expectGen}`);
      if (e.to === 'online-pending') {
        const byCall = trace.outstanding(r, e.seq, ['online']);
        const byRestart =
          e.from === 'failed' &&
          trace.restarts.some((x) => x.resource === r && lastFailed !== null && x.seq > lastFailed.seq && dueAt(x.at, x.delayMs, e.at));
        // With dependencies the monitor also brings a resource (back) online by itself: model-graph checks those.
        const byMonitor = sc.deps !== undefined && e.target === 'online';
        if (!byCall && !byRestart && !byMonitor) out.push(`${where}: no online() call outstanding and no restart due`);
      }
      if (e.to === 'online') {
        const ok = spans.some(
          (s) =>
            s.entryPoint === 'online' &&
            s.gen === e.generation &&
            s.outcome === 'ok' &&
            s.endAt === e.at &&
            (s.endSeq as number) < e.seq &&
            (s.abortSeq === null || s.abortSeq > (s.endSeq as number)),
        );
        if (!ok) out.push(`${where}: no online call of this generation resolved now`);
      }
      if (e.to === 'failed' && !failureEvidence(sc, trace, r, e.at, e.seq, streaks)) {
        out.push(`${where}: nothing failed at this moment (no failed call, ${threshold} failed isAlive in a row, deadline or reportFailure)`);
      }
      const depDown = trace.dependencyDown?.(r, e.seq) ?? false;
      if (e.to === 'offline-pending' && !depDown && !trace.outstanding(r, e.seq, ['offline', 'close'])) {
        out.push(`${where}: no offline() or close() outstanding`);
      }
      if (e.to === 'offline' && e.from !== 'offline-pending') {
        const ops: OpRecord['op'][] = e.from === 'failed' ? ['offline', 'terminate', 'remove', 'close'] : ['terminate', 'remove', 'close'];
        if (!depDown && !trace.outstanding(r, e.seq, ops)) out.push(`${where}: no ${ops.join('/')} outstanding`);
      }
      if (e.to === 'failed') lastFailed = e;
      prev = e.to;
      prevGen = e.generation;
    }

    // 2. Terminate follows every failure (when there is something to terminate), promptly,
    //    and before the resource leaves failed; nothing starts online before it.
    for (let i = 0; i < events.length; i++) {
      const f = events[i] as StateEvent;
      if (f.to !== 'failed' || !opened(r, f.seq)) continue;
      const leave = events[i + 1] ?? null;
      const running = spans.find((s) => s.entryPoint === 'terminate' && s.startSeq < f.seq && (s.endSeq === null || s.endSeq > f.seq));
      const term = running ?? spans.find((s) => s.entryPoint === 'terminate' && s.startSeq > f.seq);
      const where = `${r} failed at t=${f.at} (#${f.seq}, "${f.reason}")`;
      if (!term || (leave && term.startSeq > leave.seq)) {
        if (leave || now >= f.at + timerDelay(grace)) out.push(`${where}: no terminate followed${leave ? ` before ${leave.to}` : ` within abortGrace (now t=${now})`}`);
        continue;
      }
      if (!running && term.startAt > f.at + timerDelay(grace)) out.push(`${where}: terminate started only at t=${term.startAt}, later than abortGrace (${grace} ms)`);
      const early = spans.find((s) => (s.entryPoint === 'online' || s.entryPoint === 'open') && s.startSeq > f.seq && s.startSeq < term.startSeq);
      if (early) out.push(`${where}: ${early.entryPoint} started at t=${early.startAt} before the failure's terminate`);
      if (leave) {
        const endSeq = Math.min(term.endSeq ?? Number.POSITIVE_INFINITY, term.abortSeq ?? Number.POSITIVE_INFINITY);
        if (endSeq > leave.seq) out.push(`${where}: left failed for ${leave.to} at t=${leave.at} before the failure's terminate ended`);
      }
    }

    // 3. No two entry points overlap, except with a call already abandoned (DESIGN §5.1);
    //    terminate waits for an abandoned call up to abortGrace (§5.2); offline waits for an aborted online (§3).
    for (const bSpan of spans) {
      for (const a of spans) {
        if (a === bSpan || a.startSeq > bSpan.startSeq) continue;
        const running = a.endSeq === null || a.endSeq > bSpan.startSeq;
        if (!running) continue;
        const where = `${r}: ${bSpan.entryPoint} #${bSpan.id} started at t=${bSpan.startAt} while ${a.entryPoint} #${a.id} (started t=${a.startAt}) was still running`;
        if (a.abortSeq === null || a.abortSeq > bSpan.startSeq) {
          out.push(`${where} and had not been abandoned`);
          continue;
        }
        if (bSpan.entryPoint === 'terminate' && bSpan.startAt < (a.abortAt as number) + grace) {
          out.push(`${where}; it was abandoned at t=${a.abortAt}, but terminate must wait abortGrace (${grace} ms) for it`);
        }
        const terminatedBetween = spans.some(
          (t) => t.entryPoint === 'terminate' && t.startSeq > (a.abortSeq as number) && t.startSeq < bSpan.startSeq,
        );
        if (bSpan.entryPoint === 'offline' && a.entryPoint === 'online' && a.gen === bSpan.gen && !terminatedBetween) {
          out.push(`${where}; offline after an aborted online must wait for it to settle (or terminate instead)`);
        }
      }
    }

    // 3b. Checks never pile up (DESIGN §5.3): the next poll of a kind comes a full interval after
    //     the end of the previous one in the same online period; only a failed looksAlive calls
    //     isAlive sooner.
    //     After a failed isAlive below isAliveFailureThreshold, the next comes sooner (§4).
    for (const kind of CHECKS) {
      const ofKind = spans.filter((x) => x.entryPoint === kind);
      for (let i = 1; i < ofKind.length; i++) {
        const prev = ofKind[i - 1] as Span;
        const next = ofKind[i] as Span;
        if (prev.gen !== next.gen || prev.endSeq === null) continue;
        const interval =
          kind === 'looksAlive'
            ? sc.policy.looksAlivePollInterval
            : prev.outcome === 'fail'
              ? retryInterval(sc.policy)
              : sc.policy.isAlivePollInterval;
        const leftOnline = events.some((e) => e.seq > prev.startSeq && e.seq < next.startSeq);
        if (leftOnline || next.startAt >= (prev.endAt as number) + interval) continue;
        // A failed looksAlive calls isAlive at once, but not while isAlive is failing (§4).
        const byLooks =
          kind === 'isAlive' &&
          prev.outcome === 'ok' &&
          spans.some((x) => x.entryPoint === 'looksAlive' && x.outcome === 'fail' && (x.endSeq as number) > prev.endSeq! && (x.endSeq as number) < next.startSeq);
        if (!byLooks) {
          out.push(`${r}: ${kind} #${next.id} started at t=${next.startAt}, ${next.startAt - (prev.endAt as number)} ms after the previous one ended (interval ${interval})`);
        }
      }
    }

    // 3c. Polls are on time, and one resource never waits on another (DESIGN §5.3, §5.4): after
    //     an isAlive that passed, the next one starts exactly an interval after it ended, unless
    //     the resource left online, someone acted on it, a failed looksAlive called isAlive
    //     sooner, or another call of the same resource held its lane at that moment.
    //     After a failed isAlive that left the resource online (below isAliveFailureThreshold),
    //     the next one starts exactly min(isAlivePollInterval, looksAlivePollInterval ||
    //     isAlivePollInterval) after it ended, on the same conditions (§4).
    const isAlives = spans.filter((x) => x.entryPoint === 'isAlive');
    for (const prev of isAlives) {
      if (prev.endSeq === null || (prev.abortSeq !== null && prev.abortSeq < prev.endSeq)) continue;
      const held = prev.outcome === 'fail' && (streaks.get(prev) ?? threshold) < threshold;
      if (prev.outcome !== 'ok' && !held) continue;
      const interval = held ? retryInterval(sc.policy) : sc.policy.isAlivePollInterval;
      const due = (prev.endAt as number) + interval;
      if (due > now) continue;
      const next = isAlives.find((x) => x.startSeq > (prev.endSeq as number)) ?? null;
      if (next && next.startAt === due) continue;
      const until = next ? next.startSeq : Number.POSITIVE_INFINITY;
      const changed = events.some((e) => e.seq > (prev.endSeq as number) && e.seq < until && e.at <= due);
      const acted = trace.outstanding(r, prev.endSeq, ['offline', 'terminate', 'remove', 'close']) ||
        trace.ops.some((o) => (o.r === r || o.op === 'close') && o.seq > (prev.endSeq as number) && o.at <= due);
      const looksFailed = !held && spans.some((x) => x.entryPoint === 'looksAlive' && x.outcome !== 'ok' && x.startSeq > prev.endSeq! && x.startAt <= due);
      const busy = spans.some(
        (x) => x !== next && x.startSeq < until && x.startAt <= due && (x.endSeq === null || (x.endAt as number) > due || (x.endAt === due && x.startAt === due)),
      );
      if (changed || acted || looksFailed || busy) continue;
      out.push(`${r}: isAlive was due at t=${due} (${interval} ms after #${prev.id} ${held ? `failed, ${streaks.get(prev)} of ${threshold} in a row,` : ''} ended), but ${next ? `#${next.id} started only at t=${next.startAt}` : 'none started'}`);
    }

    // 3d. Checks run only while the resource is online, in their own online period (a poll left
    //     armed by a transition that a listener's call interrupted would break this).
    for (const x of spans) {
      if (!CHECKS.includes(x.entryPoint)) continue;
      const { state, gen } = trace.stateOf(r, x.startSeq);
      if (state !== 'online' || gen !== x.gen) out.push(`${r}: ${x.entryPoint} #${x.id} started at t=${x.startAt} while ${state} (generation ${gen})`);
    }

    // 4. open once, before any online; close once, last.
    const opens = spans.filter((s) => s.entryPoint === 'open');
    const closes = spans.filter((s) => s.entryPoint === 'close');
    if (opens.filter(counted).length > 1) out.push(`${r}: open succeeded (and counted) more than once`);
    if (closes.length > 1) out.push(`${r}: close was called ${closes.length} times`);
    const close = closes[0];
    if (close) {
      const after = spans.find((s) => s.startSeq > close.startSeq && s !== close);
      if (after) out.push(`${r}: ${after.entryPoint} started at t=${after.startAt} after close`);
      const { state } = trace.stateOf(r, close.startSeq);
      if (state !== 'offline') out.push(`${r}: close was called while the resource was ${state}`);
    }
    if (sc.shape.open) {
      for (const s of spans) {
        if (s.entryPoint === 'online' && !opened(r, s.startSeq)) out.push(`${r}: online #${s.id} started before open succeeded`);
      }
    }

    // 5. Consequences that must follow at once: an online that resolved, an isAlive that
    //    failed, a check past its deadline, reportFailure while up.
    const nextEvent = (seq: number) => events.find((e) => e.seq > seq) ?? null;
    const stoppedBy = (seq: number) =>
      trace.outstanding(r, seq, ['terminate', 'remove', 'close', 'offline']) || (trace.dependencyDown?.(r, seq) ?? false);
    for (const s of spans) {
      if (s.endSeq === null || (s.endAt as number) > now) continue;
      const aborted = s.abortSeq !== null && s.abortSeq < s.endSeq;
      if (aborted || stoppedBy(s.endSeq)) continue;
      const { state, gen } = trace.stateOf(r, s.endSeq);
      if (gen !== s.gen) continue;
      const next = nextEvent(s.endSeq);
      if (s.entryPoint === 'online' && s.outcome === 'ok' && state === 'online-pending') {
        if (!next || next.at !== s.endAt || next.to !== 'online') {
          out.push(`${r}: online #${s.id} of generation ${s.gen} resolved at t=${s.endAt}, but the resource did not go online then`);
        }
      }
      if (s.entryPoint === 'isAlive' && s.outcome === 'fail' && state === 'online' && (streaks.get(s) ?? 0) >= threshold) {
        if (!next || next.at !== s.endAt || next.to !== 'failed') {
          out.push(`${r}: isAlive #${s.id} failed at t=${s.endAt} while online (${streaks.get(s)} in a row, threshold ${threshold}), but the resource did not fail then`);
        }
      }
    }
    for (const s of spans) {
      if (!CHECKS.includes(s.entryPoint)) continue;
      const deadline = s.startAt + sc.policy.deadlockTimeout;
      if (deadline > now) continue;
      if (s.endSeq !== null && (s.endAt as number) < deadline) continue;
      if (s.abortAt !== null && s.abortAt < deadline) continue;
      const at = trace.states.find((e) => e.resource === r && e.at >= deadline);
      const seqAtDeadline = at ? at.seq : Number.POSITIVE_INFINITY;
      const { state, gen } = trace.stateOf(r, seqAtDeadline);
      if (state !== 'online' || gen !== s.gen || stoppedBy(seqAtDeadline)) continue;
      if (!at || at.at !== deadline || at.to !== 'failed') {
        out.push(`${r}: ${s.entryPoint} #${s.id} passed deadlockTimeout at t=${deadline}, but the resource did not fail then`);
      }
    }
    for (const rep of trace.reports) {
      if (rep.span.resource !== r || rep.at > now) continue;
      const { state, gen } = trace.stateOf(r, rep.seq);
      if (gen !== rep.span.gen || (state !== 'online' && state !== 'online-pending') || stoppedBy(rep.seq)) continue;
      if (rep.span.abortSeq !== null && rep.span.abortSeq < rep.seq) continue;
      const next = nextEvent(rep.seq);
      // From a listener it acts a microtask later (README): the transition in progress (an online
      // completing) may come first, the failure in the same millisecond.
      const later = rep.fromListener === true && events.some((e) => e.seq > rep.seq && e.at === rep.at && e.to === 'failed');
      if (!later && (!next || next.at !== rep.at || next.to !== 'failed')) {
        out.push(`${r}: reportFailure at t=${rep.at} (from ${rep.span.entryPoint} #${rep.span.id}, generation ${rep.span.gen}) while ${state}, but the resource did not fail then`);
      }
    }

    // 6. Restarts: scheduled from the end of the failure's terminate, with the policy's delay,
    //    and started exactly when due unless someone acted in between.
    for (const x of trace.restarts.filter((y) => y.resource === r)) {
      const where = `${r}: restartScheduled at t=${x.at} (attempt ${x.attempt}, ${x.delayMs} ms${x.retry ? ', retry' : ''})`;
      const { state, event } = trace.stateOf(r, x.seq);
      if (state !== 'failed' || !event) {
        out.push(`${where} while ${state}`);
        continue;
      }
      const p = sc.policy;
      if (p.restartAction === 'none') out.push(`${where} although restartAction is 'none'`);
      if (x.retry) {
        if (x.delayMs !== p.retryPeriodOnFailure) out.push(`${where}: a retry waits retryPeriodOnFailure (${p.retryPeriodOnFailure})`);
      } else {
        const expect = Math.min(p.restartDelay * p.restartBackoff ** (x.attempt - 1), p.maxRestartDelay);
        if (x.attempt > p.restartThreshold) out.push(`${where}: more than restartThreshold (${p.restartThreshold})`);
        if (x.delayMs !== expect) out.push(`${where}: expected a delay of ${expect}`);
      }
      // The window counts no restart from before a retry, an online() on the failed resource or
      // a stable period (stableAfter).
      const { inWindow } = restartWindow(sc, trace, r, x.seq, x.at);
      if (x.retry ? inWindow < p.restartThreshold : x.attempt !== inWindow + 1) {
        out.push(`${where}: the window holds ${inWindow} restart(s) (threshold ${p.restartThreshold}, stableAfter ${p.stableAfter})`);
      }
      if (opened(r, event.seq)) {
        // The failure's terminate ended (settled, or was given up at its deadline) just before.
        const doneOf = (s: Span) => Math.min(s.endSeq ?? Number.POSITIVE_INFINITY, s.abortSeq ?? Number.POSITIVE_INFINITY);
        const ends = spans.filter((s) => s.entryPoint === 'terminate' && doneOf(s) > event.seq && doneOf(s) < x.seq);
        const last = ends.sort((p, q) => doneOf(q) - doneOf(p))[0];
        const endAt = last ? (doneOf(last) === last.endSeq ? last.endAt : last.abortAt) : null;
        if (endAt !== x.at) out.push(`${where}: not counted from the end of the failure's terminate (t=${endAt})`);
      } else if (event.at !== x.at) {
        out.push(`${where}: nothing to terminate, so it should be scheduled at the failure (t=${event.at})`);
      }
      const due = x.at + timerDelay(x.delayMs);
      const acting: OpRecord['op'][] = ['online', 'offline', 'terminate', 'remove', 'close'];
      if (due <= now && !trace.outstanding(r, x.seq, acting) && !trace.calledBetween(r, x.seq, Number.POSITIVE_INFINITY, acting)) {
        const next = nextEvent(x.seq);
        // With dependencies, a restart waits while a dependency is down (the resource is taken offline instead).
        const followed = trace.dependencyDown?.(r, next ? next.seq : Number.POSITIVE_INFINITY) ?? false;
        // With dependencies, an online() of a dependent may still be bringing it up after that call settled.
        const byMonitor = sc.deps !== undefined && next !== null && next.to === 'online-pending' && next.target === 'online';
        if (!followed && !byMonitor && (!next || !dueAt(x.at, x.delayMs, next.at) || next.to !== 'online-pending')) {
          out.push(`${where}: due at t=${due}, but the restart did not start then (next: ${next ? `${next.to} at t=${next.at}` : 'none'})`);
        }
      }
    }

    // 6b. Escalation only when the window is spent; check events count failures in a row, and a
    //     failed isAlive below isAliveFailureThreshold never fails the resource.
    for (const esc of trace.escalations.filter((y) => y.resource === r)) {
      const { inWindow } = restartWindow(sc, trace, r, esc.seq, esc.at);
      if (sc.policy.restartAction !== 'restart-escalate' || inWindow < sc.policy.restartThreshold) {
        out.push(`${r}: escalated at t=${esc.at} with ${inWindow} restart(s) in the window (threshold ${sc.policy.restartThreshold}, ${sc.policy.restartAction})`);
      }
    }
    for (const kind of CHECKS) {
      let gen = -1;
      let run = 0;
      for (const c of trace.checks.filter((y) => y.resource === r && y.kind === kind)) {
        const now = trace.stateOf(r, c.seq);
        if (now.gen !== gen) {
          gen = now.gen;
          run = 0;
        }
        run = c.ok ? 0 : run + 1;
        const where = `${r}: ${kind} check at t=${c.at} (#${c.seq})`;
        if (c.consecutiveFailures !== run) out.push(`${where}: consecutiveFailures ${c.consecutiveFailures}, expected ${run}`);
        if (kind === 'isAlive' && !c.ok && run < threshold && !/deadlockTimeout/.test(c.reason ?? '')) {
          const next = nextEventAfter(events, c.seq);
          const nextCheck = trace.checks.find((y) => y.resource === r && y.kind === 'isAlive' && y.seq > c.seq);
          const forIt = next && (!nextCheck || next.seq < nextCheck.seq);
          if (next && forIt && next.at === c.at && next.to === 'failed' && next.reason.startsWith('isAlive')) {
            out.push(`${where}: failed ${run} of ${threshold} in a row, but the resource failed for it ("${next.reason}")`);
          }
        }
      }
    }

    // 7. inspect() agrees with the event stream.
    if (!opts.removed.has(r) && !opts.closed) {
      const status = monitor.inspect(r);
      const { state, gen, event } = trace.stateOf(r);
      if (status.state !== state) out.push(`${r}: inspect().state is ${status.state}, the events say ${state}`);
      if (status.generation !== gen) out.push(`${r}: inspect().generation is ${status.generation}, the events say ${gen}`);
      if (event && status.since !== event.at) out.push(`${r}: inspect().since is ${status.since}, the last stateChange was at t=${event.at}`);
      const { inWindow } = restartWindow(sc, trace, r, Number.POSITIVE_INFINITY, now);
      if (status.restarts.inWindow !== inWindow) {
        out.push(`${r}: inspect().restarts.inWindow is ${status.restarts.inWindow}, expected ${inWindow} (stableAfter ${sc.policy.stableAfter})`);
      }
      const terminating = trace.outstanding(r, Number.POSITIVE_INFINITY, ['terminate', 'remove']);
      if (state === 'online' && event && !terminating && sc.policy.stableAfter > 0 && status.restarts.stableAt !== event.at + sc.policy.stableAfter) {
        out.push(`${r}: inspect().restarts.stableAt is ${status.restarts.stableAt}, expected ${event.at + sc.policy.stableAfter}`);
      }
      if (sc.policy.stableAfter === 0 && status.restarts.stableAt !== null) out.push(`${r}: inspect().restarts.stableAt is ${status.restarts.stableAt} with stableAfter 0`);
    }
  }

  // 8. What public operations settle with.
  for (const o of trace.ops) {
    if (o.result === null) {
      if (opts.final) out.push(`${o.op}(${o.r ?? ''}) called at t=${o.at} never settled`);
      continue;
    }
    const what = `${o.op}(${o.r ?? ''}) called at t=${o.at}`;
    if (o.result === 'rejected') {
      const e = o.error;
      const admin =
        isUnknownResourceError(e) ||
        isMonitorClosedError(e) ||
        (isStateError(e) && /being removed/.test(safeText(e))) ||
        (o.op === 'remove' && isDependencyError(e) && /depends? on it/.test(safeText(e)));
      if (o.op === 'online' || o.op === 'setProperties' || o.op === 'control') {
        // A plugin's error (also a hostile one, or what reading it threw), or resmon's (a deadline, an abandonment, a ConfigError).
        if (!isErrorSafe(e)) out.push(`${what} rejected with a non-Error: ${safeText(e)}`);
        else if (!(e instanceof PluginError) && !isResmonError(e) && !fromHostile(e)) out.push(`${what} rejected with a foreign error: ${safeText(e)}`);
      } else if (o.op === 'waitFor') {
        if (!admin && !isCallTimeoutError(e)) out.push(`${what} rejected with ${safeText(e)}`);
      } else if (!admin) {
        out.push(`${what} rejected with ${safeText(e)}`);
      }
      continue;
    }
    if (o.r && (o.op === 'online' || o.op === 'offline' || o.op === 'terminate')) {
      const target: ResourceState = o.op === 'online' ? 'online' : 'offline';
      const was = trace.stateOf(o.r, o.seq).state === target;
      const reached = trace.states.some((e) => e.resource === o.r && e.to === target && e.seq > o.seq && e.seq < (o.doneSeq as number));
      if (!was && !reached) out.push(`${what} resolved, but the resource was never ${target} in between`);
    }
  }

  // 8b. Live changes and control codes (DESIGN §11).
  out.push(...checkLiveChanges(sc, trace));

  // 9. After close(): nothing scheduled, nothing called, nobody listening.
  if (trace.closedSeq !== null) {
    const left = [...trace.monitorTimers.values()];
    if (left.length > 0) out.push(`close() resolved, but ${left.length} monitor timer(s) are still armed (${left.join(', ')} ms)`);
    const late = trace.spans.find((s) => s.startSeq > (trace.closedSeq as number));
    if (late) out.push(`${late.resource}: ${late.entryPoint} started at t=${late.startAt} after close() resolved`);
    if (monitor.eventNames().length > 0) out.push(`close() resolved, but listeners remain for ${monitor.eventNames().join(', ')}`);
    // The read-only calls answer with the final states (issue 10 §4).
    for (const r of sc.resources) {
      if (opts.removed.has(r)) continue;
      const { state, gen } = trace.stateOf(r);
      try {
        const got = monitor.getState(r);
        const status = monitor.inspect(r);
        const listed = monitor.snapshot().find((x) => x.name === r);
        if (got !== state || status.state !== state || status.generation !== gen || listed?.state !== state) {
          out.push(`${r}: after close(), getState/inspect/snapshot say ${got}/${status.state}/${listed?.state ?? 'absent'} (generation ${status.generation}), the events say ${state} (${gen})`);
        }
      } catch (error) {
        out.push(`${r}: after close(), a read-only call threw ${safeText(error)}`);
      }
    }
  }
  return out;
}

/**
 * setProperties and control: a rejected change is never seen by any call; a call sees only
 * versions already sent; after an 'applied' every later call sees that version (or a newer one),
 * after a 'stored' every call of a later generation does; a bad version is a ConfigError;
 * control answers come from the type or the monitor's own codes.
 */
function checkLiveChanges(sc: Scenario, trace: Trace): string[] {
  const out: string[] = [];
  const sets = trace.ops.filter((o) => o.op === 'setProperties');
  const rejected = new Set(sets.filter((o) => o.result === 'rejected').map((o) => o.v as number));
  for (const s of trace.spans) {
    const v = s.v ?? 0;
    const where = `${s.resource}: ${s.entryPoint} #${s.id} at t=${s.startAt} saw properties v=${v}`;
    if (rejected.has(v)) out.push(`${where}, from a setProperties that was rejected`);
    if (v !== 0 && !sets.some((o) => o.v === v && o.r === s.resource && o.seq < s.startSeq)) out.push(`${where}, which no setProperties of it had sent yet`);
  }
  for (const o of sets) {
    const what = `setProperties(${o.r}, v=${o.v}) called at t=${o.at}`;
    if ((o.v as number) < 0) {
      if (o.result === 'resolved') out.push(`${what} resolved, but validate rejects a negative v`);
      else if (o.result === 'rejected' && !isConfigError(o.error) && !isMonitorClosedError(o.error) && !isUnknownResourceError(o.error) && !isStateError(o.error)) {
        out.push(`${what} rejected with ${String(o.error)}, not a ConfigError`);
      }
      continue;
    }
    if (o.result !== 'resolved') continue;
    if (o.value !== 'applied' && o.value !== 'stored') {
      out.push(`${what} resolved with ${String(o.value)}`);
      continue;
    }
    if (o.value === 'stored' && !sc.shape.apply && trace.stateOf(o.r as string, o.seq).state === 'offline') {
      // Offline at the call and still offline: nothing ran, so the change was applied at once.
      const moved = trace.states.some((e) => e.resource === o.r && e.seq > o.seq && e.seq < (o.doneSeq as number));
      if (!moved) out.push(`${what} resolved 'stored' for a resource that was offline`);
    }
    const genAt = trace.stateOf(o.r as string, o.doneSeq as number).gen;
    for (const s of trace.spans) {
      if (s.resource !== o.r || s.startSeq < (o.doneSeq as number)) continue;
      if (o.value === 'stored' && s.gen <= genAt) continue;
      if ((s.v ?? 0) < (o.v as number)) {
        out.push(`${s.resource}: ${s.entryPoint} #${s.id} at t=${s.startAt} (generation ${s.gen}) saw v=${s.v}, after ${what} resolved '${o.value}'`);
      }
    }
  }
  for (const o of trace.ops.filter((x) => x.op === 'control' && x.result === 'resolved')) {
    const what = `control(${o.r}, ${o.code}) called at t=${o.at}`;
    const value = o.value as { name?: string; v?: number } | string | null;
    if (o.code === 'model' || o.code === 'nope') {
      if (!sc.shape.control) out.push(`${what} resolved with ${String(value)}, but the type has no control: a ConfigError was due`);
      else if (value !== 'answer') out.push(`${what} resolved with ${String(value)}, not the type's answer`);
    } else if (o.code === 'get-status') {
      if (value !== 'answer' && (typeof value !== 'object' || value === null || value.name !== o.r)) out.push(`${what} resolved with ${JSON.stringify(value)}`);
    } else if (value !== 'answer') {
      const v = typeof value === 'object' && value !== null ? value.v : undefined;
      if (typeof v !== 'number' || rejected.has(v) || (v !== 0 && !sets.some((x) => x.v === v && x.r === o.r && x.seq < (o.doneSeq as number)))) {
        out.push(`${what} resolved with ${JSON.stringify(value)}`);
      }
    }
  }
  for (const o of trace.ops.filter((x) => x.op === 'control' && x.result === 'rejected')) {
    // An unknown code (or 'model' without a control entry point) is a ConfigError naming it.
    if ((o.code === 'nope' || o.code === 'model') && !sc.shape.control && !isConfigError(o.error) && !isMonitorClosedError(o.error) && !isUnknownResourceError(o.error) && !isStateError(o.error)) {
      out.push(`control(${o.r}, ${o.code}) rejected with ${String(o.error)}, not a ConfigError`);
    }
  }
  return out;
}

function nextEventAfter(events: StateEvent[], seq: number): StateEvent | null {
  return events.find((e) => e.seq > seq) ?? null;
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

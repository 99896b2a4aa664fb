/**
 * Runs one model scenario: a real `ResourceMonitor` on fake timers with the model plugin, the
 * scenario's steps and listeners, and the checker after every step and at the end.
 */
import { vi } from 'vitest';
import { isConfigError, isUnknownResourceError, ResourceMonitor, type ResourceState } from 'resmon';
import { hostile } from '../helpers/hostile.js';
import { type CheckOptions, checkTrace } from './checker.js';
import { restartWindow } from './derive.js';
import { modelType } from './plugin.js';
import type { ModelPolicy, Scenario, Step } from './scenario.js';
import { type OpRecord, PluginError, render, safeText, Trace } from './trace.js';

export class InvariantViolation extends Error {}

/** Every event the monitor emits: a throwing listener is registered on each. */
const EVENTS = ['stateChange', 'check', 'slowCall', 'callTimeout', 'progress', 'restartScheduled', 'escalated'] as const;

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

/** What a run that kept every invariant recorded (a violation throws InvariantViolation instead). */
export interface RunResult {
  trace: Trace;
}

/** Extra checks a suite adds to the run (the graph suite's, graph-checker.ts). */
export interface ScenarioHooks {
  /** More invariants, checked with the others after every step. */
  check?(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions): string[];
  /** After the steps and a while of running, before close(): e.g. stop the faults, wait, check liveness. */
  settle?(sc: Scenario, trace: Trace, monitor: ResourceMonitor, removed: ReadonlySet<string>): Promise<string[]>;
}

/**
 * Runs one scenario on fake timers (the caller has called `vi.useFakeTimers()`) and checks the
 * invariants after every step and at the end (after close and a long wait). Throws
 * `InvariantViolation` with the first violations and a readable trace.
 */
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
  monitor.registerType(modelType(sc, trace));
  for (const name of sc.resources) {
    const dependsOn = sc.deps?.[name];
    monitor.addResource({ name, type: 'model', properties: { v: 0 }, ...(dependsOn ? { dependsOn } : {}), ...(sc.group ? { group: sc.group } : {}) });
  }
  if (sc.validateThrows) {
    // validate() throwing a hostile value still becomes a ConfigError (issue 10 §2).
    const kind = sc.validateThrows;
    monitor.registerType({ ...modelType(sc, trace), name: 'strict', validate: () => { throw hostile(kind); } });
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
    return { trace };
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

/** What the public operations answer: inspect(), how each call settles, the monitor after close(). */
import { isCallTimeoutError, isDependencyError, isMonitorClosedError, isResmonError, isStateError, isUnknownResourceError, type ResourceMonitor, type ResourceState } from 'resmon';
import { type CheckOptions, fromHostile, isErrorSafe, type ResourceView, restartWindow } from '../derive.js';
import type { Scenario } from '../scenario.js';
import { PluginError, safeText, type Trace } from '../trace.js';

/** 7. inspect() agrees with the event stream. */
export function inspectAgrees(view: ResourceView): string[] {
  const { sc, trace, monitor, opts, r, now } = view;
  const out: string[] = [];
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
  return out;
}

/** 8. What public operations settle with. */
export function operationsSettle(trace: Trace, opts: CheckOptions): string[] {
  const out: string[] = [];
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
  return out;
}

/** 9. After close(): nothing scheduled, nothing called, nobody listening; the read-only calls answer with the final states. */
export function closeLeavesNothing(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions): string[] {
  const out: string[] = [];
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

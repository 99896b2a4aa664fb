/** The restart policy's invariants: when restarts are scheduled and start, escalation, failure streaks. */
import { CHECKS, dueAt, type ResourceView, restartWindow, timerDelay } from '../derive.js';
import type { OpRecord, Span } from '../trace.js';

/**
 * 6. Restarts: scheduled from the end of the failure's terminate, with the policy's delay, and
 * started exactly when due unless someone acted in between.
 */
export function restartsOnSchedule(view: ResourceView): string[] {
  const { sc, trace, r, spans, now, opened, nextEvent } = view;
  const out: string[] = [];
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
  return out;
}

/**
 * 6b. Escalation only when the window is spent; check events count failures in a row, and a
 * failed isAlive below isAliveFailureThreshold never fails the resource.
 */
export function escalationsAndStreaks(view: ResourceView): string[] {
  const { sc, trace, r, threshold, nextEvent } = view;
  const out: string[] = [];
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
        const next = nextEvent(c.seq);
        const nextCheck = trace.checks.find((y) => y.resource === r && y.kind === 'isAlive' && y.seq > c.seq);
        const forIt = next && (!nextCheck || next.seq < nextCheck.seq);
        if (next && forIt && next.at === c.at && next.to === 'failed' && next.reason.startsWith('isAlive')) {
          out.push(`${where}: failed ${run} of ${threshold} in a row, but the resource failed for it ("${next.reason}")`);
        }
      }
    }
  }
  return out;
}

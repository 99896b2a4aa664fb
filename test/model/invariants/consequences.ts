/** What must follow at once: a resolved online, a failed isAlive, a passed deadline, a reportFailure. */
import { CHECKS, type ResourceView } from '../derive.js';

/**
 * 5. Consequences that must follow at once: an online that resolved, an isAlive that failed, a
 * check past its deadline, reportFailure while up.
 */
export function failuresActAtOnce(view: ResourceView): string[] {
  const { sc, trace, r, events, spans, streaks, threshold, now, nextEvent, stoppedBy } = view;
  const out: string[] = [];
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
  return out;
}

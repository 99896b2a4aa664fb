/** The call lane's invariants: no two calls overlap, polls neither pile up nor come late, checks only while online. */
import { CHECKS, type ResourceView, retryInterval } from '../derive.js';
import type { Span } from '../trace.js';

/**
 * 3. No two entry points overlap, except with a call already abandoned (DESIGN §5.1); terminate
 * waits for an abandoned call up to abortGrace (§5.2); offline waits for an aborted online (§3).
 */
export function callsNeverOverlap(view: ResourceView): string[] {
  const { r, spans, grace } = view;
  const out: string[] = [];
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
  return out;
}

/**
 * 3b. Checks never pile up (DESIGN §5.3): the next poll of a kind comes a full interval after the
 * end of the previous one in the same online period; only a failed looksAlive calls isAlive sooner.
 * After a failed isAlive below isAliveFailureThreshold, the next comes sooner (§4).
 */
export function pollsNeverPileUp(view: ResourceView): string[] {
  const { sc, r, events, spans } = view;
  const out: string[] = [];
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
  return out;
}

/**
 * 3c. Polls are on time, and one resource never waits on another (DESIGN §5.3, §5.4): after an
 * isAlive that passed, the next one starts exactly an interval after it ended, unless the resource
 * left online, someone acted on it, a failed looksAlive called isAlive sooner, or another call of
 * the same resource held its lane at that moment. After a failed isAlive that left the resource
 * online (below isAliveFailureThreshold), the next one starts exactly min(isAlivePollInterval,
 * looksAlivePollInterval || isAlivePollInterval) after it ended, on the same conditions (§4).
 */
export function pollsOnTime(view: ResourceView): string[] {
  const { sc, trace, r, events, spans, streaks, threshold, now } = view;
  const out: string[] = [];
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
  return out;
}

/**
 * 3d. Checks run only while the resource is online, in their own online period (a poll left armed
 * by a transition that a listener's call interrupted would break this).
 */
export function checksOnlyWhileOnline(view: ResourceView): string[] {
  const { trace, r, spans } = view;
  const out: string[] = [];
  for (const x of spans) {
    if (!CHECKS.includes(x.entryPoint)) continue;
    const { state, gen } = trace.stateOf(r, x.startSeq);
    if (state !== 'online' || gen !== x.gen) out.push(`${r}: ${x.entryPoint} #${x.id} started at t=${x.startAt} while ${state} (generation ${gen})`);
  }
  return out;
}

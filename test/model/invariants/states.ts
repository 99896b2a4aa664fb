/** The state table's invariants: transitions, the terminate after each failure, open and close once. */
import type { ResourceState } from 'resmon';
import { counted, dueAt, failureEvidence, type ResourceView, timerDelay } from '../derive.js';
import type { OpRecord, StateEvent } from '../trace.js';

const ALLOWED: Record<ResourceState, ResourceState[]> = {
  offline: ['online-pending'],
  failed: ['online-pending', 'offline'],
  'online-pending': ['online', 'failed', 'offline-pending', 'offline'],
  online: ['failed', 'offline-pending', 'offline'],
  'offline-pending': ['offline'],
};

/** 1. Every transition is one the table allows, continuous, with a cause. */
export function transitionsFollowTheTable(view: ResourceView): string[] {
  const { sc, trace, r, events, spans, streaks, threshold } = view;
  const out: string[] = [];
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
  return out;
}

/**
 * 2. Terminate follows every failure (when there is something to terminate), promptly, and before
 * the resource leaves failed; nothing starts online before it.
 */
export function terminateFollowsEveryFailure(view: ResourceView): string[] {
  const { r, events, spans, now, grace, opened } = view;
  const out: string[] = [];
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
  return out;
}

/** 4. open once, before any online; close once, last. */
export function openOnceCloseLast(view: ResourceView): string[] {
  const { sc, trace, r, spans, opened } = view;
  const out: string[] = [];
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
  return out;
}

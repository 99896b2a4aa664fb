/** Live changes and control codes: what setProperties and control must answer, and what calls see. */
import { isConfigError, isMonitorClosedError, isStateError, isUnknownResourceError } from 'resmon';
import type { Scenario } from '../scenario.js';
import type { Trace } from '../trace.js';

/** 8b. Live changes and control codes (DESIGN §11). */
/**
 * setProperties and control: a rejected change is never seen by any call; a call sees only
 * versions already sent; after an 'applied' every later call sees that version (or a newer one),
 * after a 'stored' every call of a later generation does; a bad version is a ConfigError;
 * control answers come from the type or the monitor's own codes.
 */
export function liveChangesHold(sc: Scenario, trace: Trace): string[] {
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

/**
 * The checker of the graph suite: the invariants dependencies add, checked after every step on
 * the same ordered trace as the others (checker.ts), and the run that adds them:
 *
 * - G1: a resource enters online-pending only while every item of its `dependsOn` has a member
 *   online; and while it is up (online-pending or online) with an item unmet, it is taken down
 *   within a bound (the top-down take-down that the dependency's failure started).
 * - G2: offline order: when a resource goes offline-pending (or is terminated from up), every
 *   dependent that needs it is already down.
 * - G3: the monitor never brings a resource online whose target is offline: its target is online
 *   whenever it enters online-pending, and no offline()/terminate() of it came after the last
 *   online() of it or of a dependent.
 * - G4 (liveness): once the faults stop and time passes, every resource whose target is online
 *   and whose dependencies can come online is online.
 */
import { vi } from 'vitest';
import type { ResourceMonitor, ResourceState, ResourceStatus } from 'resmon';
import type { CheckOptions } from './checker.js';
import { type RunResult, runScenario } from './run.js';
import type { Scenario } from './scenario.js';
import { type OpRecord, type StateEvent, Trace } from './trace.js';

const clausesOf = (sc: Scenario, r: string): string[][] => (sc.deps?.[r] ?? []).map((item) => (typeof item === 'string' ? [item] : item.anyOf));

/** The graph's relations, for the trace and the checks. */
class Relations {
  readonly dependencies = new Map<string, Set<string>>();
  readonly dependents = new Map<string, Set<string>>();
  constructor(sc: Scenario) {
    for (const r of sc.resources) {
      this.dependencies.set(r, new Set());
      this.dependents.set(r, new Set());
    }
    const direct = (r: string) => clausesOf(sc, r).flat();
    for (const r of sc.resources) {
      const stack = [...direct(r)];
      while (stack.length > 0) {
        const d = stack.pop() as string;
        if (this.dependencies.get(r)?.has(d)) continue;
        this.dependencies.get(r)?.add(d);
        this.dependents.get(d)?.add(r);
        stack.push(...direct(d));
      }
    }
  }
}

/** States at a point of the trace, by binary search over each resource's events. */
class StateIndex {
  private built = -1;
  private byResource = new Map<string, StateEvent[]>();
  constructor(private readonly trace: Trace) {}
  at(resource: string, beforeSeq: number): ResourceState {
    const e = this.last(resource, beforeSeq);
    return e ? e.to : 'offline';
  }

  private last(resource: string, beforeSeq: number): StateEvent | null {
    if (this.built !== this.trace.states.length) {
      this.byResource = new Map();
      for (const e of this.trace.states) {
        let list = this.byResource.get(e.resource);
        if (!list) this.byResource.set(e.resource, (list = []));
        list.push(e);
      }
      this.built = this.trace.states.length;
    }
    const list = this.byResource.get(resource);
    if (!list) return null;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as StateEvent).seq < beforeSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? null : (list[lo - 1] as StateEvent);
  }
}

const isUp = (s: ResourceState) => s === 'online' || s === 'online-pending';

/** Runs one graph scenario with the dependency invariants added. */
export async function runGraphScenario(sc: Scenario): Promise<RunResult> {
  const trace = new Trace();
  const rel = new Relations(sc);
  const index = new StateIndex(trace);
  const empty: ReadonlySet<string> = new Set();
  trace.related = (resource, op) =>
    op === 'online' ? (rel.dependents.get(resource) ?? empty) : op === 'offline' || op === 'terminate' ? (rel.dependencies.get(resource) ?? empty) : empty;
  // A dependency was not online at some moment since the resource last entered online-pending
  // (a take-down for it may be under way: it waits for the dependents above, and for the
  // resource's own pending calls, first).
  trace.dependencyDown = (resource, seq) => {
    let prev = 0;
    for (const e of trace.states) {
      if (e.seq >= seq) break;
      if (e.resource === resource && e.to === 'online-pending') prev = e.seq;
    }
    return [...(rel.dependencies.get(resource) ?? [])].some(
      (d) => index.at(d, prev + 1) !== 'online' || trace.states.some((e) => e.resource === d && e.seq > prev && e.seq < seq && e.to !== 'online'),
    );
  };
  return runScenario(sc, trace, {
    check: (s, t, monitor, opts) => checkGraph(s, t, monitor, opts, rel, index),
    settle: (s, t, monitor, removed) => settle(s, t, monitor, removed),
  });
}

/** G1-G3 on the whole trace so far. */
function checkGraph(sc: Scenario, trace: Trace, _monitor: ResourceMonitor, _opts: CheckOptions, rel: Relations, index: StateIndex): string[] {
  const out: string[] = [];
  const now = Date.now();
  const { pendingTimeout, deadlockTimeout } = sc.policy;
  const bound = 4 * (3 * pendingTimeout + deadlockTimeout + 2 * sc.abortGrace) + 200;
  const unmet = (r: string, seq: number, without: string | null = null) =>
    clausesOf(sc, r).filter((clause) => !clause.some((m) => m !== without && index.at(m, seq) === 'online'));

  for (const e of trace.states) {
    const where = `${e.resource} ${e.from}->${e.to} at t=${e.at} (#${e.seq}, "${e.reason}")`;
    // G1: dependencies online when it starts.
    if (e.to === 'online-pending') {
      const missing = unmet(e.resource, e.seq);
      if (missing.length > 0) out.push(`${where}: entered online-pending while ${missing.map((c) => c.join('|')).join(', ')} not online`);
      // G3: target online, and not taken offline since the last online() of it or a dependent.
      const before = (o: OpRecord) => o.seq < e.seq;
      // An online() of it still waiting (called before an offline) starts a new attempt after it: DESIGN §2.
      const ownOnline = trace.ops.some((o) => o.op === 'online' && o.r === e.resource && before(o) && (o.doneSeq === null || o.doneSeq > e.seq));
      if (e.target !== 'online' && !ownOnline) out.push(`${where}: entered online-pending with target ${e.target}`);
      const lastOff = Math.max(
        0,
        ...trace.ops.filter((o) => before(o) && o.r === e.resource && (o.op === 'offline' || o.op === 'terminate') && o.result !== 'rejected').map((o) => o.seq),
      );
      const lastOn = Math.max(
        0,
        ...trace.ops.filter((o) => before(o) && o.op === 'online' && (o.r === e.resource || rel.dependents.get(e.resource)?.has(o.r as string))).map((o) => o.seq),
      );
      if (lastOff > lastOn && !ownOnline) out.push(`${where}: brought online after offline()/terminate() of it (#${lastOff}) with no online() since`);
    }
    // G2: dependents that need it are down before it goes down (not for its own failure).
    // (Only from online: a resource that never got online was nobody's dependency in use.)
    const goingDown = e.from === 'online' && (e.to === 'offline-pending' || e.to === 'offline');
    if (goingDown) {
      for (const y of rel.dependents.get(e.resource) ?? []) {
        if (!clausesOf(sc, y).some((c) => c.includes(e.resource))) continue; // only direct dependents
        const state = index.at(y, e.seq);
        if (state === 'offline' || state === 'failed') continue;
        if (unmet(y, e.seq, e.resource).length === 0) continue; // another member of its anyOf is online
        out.push(`${where}: its dependent ${y} was still ${state}; dependents go down first`);
      }
    }
  }

  // G1b: up with a dependency missing: taken down within the bound.
  const state = new Map<string, ResourceState>();
  const since = new Map<string, number>();
  const reviewed = (seq: number) => {
    for (const r of sc.resources) {
      const up = isUp(state.get(r) ?? 'offline');
      const missing = up && unmet(r, seq).length > 0;
      if (missing && !since.has(r)) since.set(r, trace.states.find((e) => e.seq >= seq)?.at ?? now);
      if (!missing) since.delete(r);
    }
  };
  for (const e of trace.states) {
    state.set(e.resource, e.to);
    reviewed(e.seq + 1);
  }
  for (const [r, at] of since) {
    if (now - at > bound) {
      out.push(`${r} has been ${state.get(r)} since t=${at} while ${unmet(r, Number.POSITIVE_INFINITY).map((c) => c.join('|')).join(', ')} not online (more than ${bound} ms)`);
    }
  }
  return out;
}

/** G4: stop the faults, let time pass, then every resource that should and can be online is. */
async function settle(sc: Scenario, trace: Trace, monitor: ResourceMonitor, _removed: ReadonlySet<string>): Promise<string[]> {
  trace.faultsOff = true;
  const { pendingTimeout, deadlockTimeout, retryPeriodOnFailure, restartDelay, maxRestartDelay } = sc.policy;
  const retry = Number.isFinite(retryPeriodOnFailure) ? retryPeriodOnFailure : 0;
  const horizon = 3 * (retry + 3 * pendingTimeout + deadlockTimeout + 2 * sc.abortGrace + restartDelay + maxRestartDelay) + 1_000;
  for (let t = 0; t < horizon; t += 500) await vi.advanceTimersByTimeAsync(500);
  const statuses = new Map<string, ResourceStatus>(monitor.snapshot().map((s) => [s.name, s]));
  const memo = new Map<string, boolean>();
  const canCome = (r: string): boolean => {
    const known = memo.get(r);
    if (known !== undefined) return known;
    memo.set(r, false);
    const s = statuses.get(r);
    let ok = false;
    if (s) {
      if (s.state === 'online') ok = true;
      else if (s.target === 'online' && !(s.state === 'failed' && s.nextRestartAt === null)) {
        ok = clausesOf(sc, r).every((clause) => clause.some(canCome));
      }
    }
    memo.set(r, ok);
    return ok;
  };
  const out: string[] = [];
  for (const [r, s] of statuses) {
    if (s.target === 'online' && s.state !== 'online' && canCome(r)) {
      out.push(`${r} is ${s.state} with target online, and it and its dependencies can come online (faults stopped ${horizon} ms ago)`);
    }
  }
  return out;
}

/**
 * The checker of the model-based suite: every invariant (DESIGN §3-§5, §11), on the whole trace
 * so far, after every step of a run. Each invariant is a function in invariants/; this file runs
 * them in a fixed order, per resource first, and returns the violations in words.
 */
import type { ResourceMonitor } from 'resmon';
import { type CheckOptions, resourceView } from './derive.js';
import { failuresActAtOnce } from './invariants/consequences.js';
import { callsNeverOverlap, checksOnlyWhileOnline, pollsNeverPileUp, pollsOnTime } from './invariants/lane.js';
import { liveChangesHold } from './invariants/live.js';
import { closeLeavesNothing, inspectAgrees, operationsSettle } from './invariants/operations.js';
import { escalationsAndStreaks, restartsOnSchedule } from './invariants/restarts.js';
import { openOnceCloseLast, terminateFollowsEveryFailure, transitionsFollowTheTable } from './invariants/states.js';
import type { Scenario } from './scenario.js';
import type { Trace } from './trace.js';

export type { CheckOptions } from './derive.js';

/** The per-resource invariants, in the order their violations are listed. */
const PER_RESOURCE = [
  transitionsFollowTheTable,
  terminateFollowsEveryFailure,
  callsNeverOverlap,
  pollsNeverPileUp,
  pollsOnTime,
  checksOnlyWhileOnline,
  openOnceCloseLast,
  failuresActAtOnce,
  restartsOnSchedule,
  escalationsAndStreaks,
  inspectAgrees,
];

/** Every invariant, on the whole trace so far. Returns the violations, in words. */
export function checkTrace(sc: Scenario, trace: Trace, monitor: ResourceMonitor, opts: CheckOptions): string[] {
  const out: string[] = [...trace.crashes];
  const now = Date.now();
  for (const r of sc.resources) {
    const view = resourceView(sc, trace, monitor, opts, r, now);
    for (const invariant of PER_RESOURCE) out.push(...invariant(view));
  }
  out.push(...operationsSettle(trace, opts));
  out.push(...liveChangesHold(sc, trace));
  out.push(...closeLeavesNothing(sc, trace, monitor, opts));
  return out;
}

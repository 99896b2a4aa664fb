import type { RestartBook } from './restart.js';
import type { CheckResult, DependencyItem, ResourceState, ResourceStatus, ResourceTarget, TypeBinding } from './types.js';

/** What a resource's status is made of (the resource itself). */
export interface StatusSource {
  readonly name: string;
  readonly typeName: string;
  readonly state: ResourceState;
  readonly generation: number;
  readonly since: number;
  readonly binding: TypeBinding;
  readonly group: string | null;
  readonly dependsOn: readonly DependencyItem[];
  readonly target: ResourceTarget;
  readonly policy: { readonly restartPeriod: number };
}

/**
 * The JSON-safe picture of a resource at `now` (`inspect()`, `status()`, `get-status`): copies,
 * so a caller that keeps or changes it changes nothing in the monitor. `stableAt`: when the
 * restart window was (or will be) emptied by a stable online period.
 */
export function resourceStatus(
  r: StatusSource,
  lastChecks: { readonly looksAlive: CheckResult | null; readonly isAlive: CheckResult | null },
  restarts: RestartBook,
  now: number,
  stableAt: number | null,
): ResourceStatus {
  return {
    name: r.name,
    type: r.typeName,
    state: r.state,
    generation: r.generation,
    since: r.since,
    lastChecks: { looksAlive: lastChecks.looksAlive, isAlive: lastChecks.isAlive },
    restarts: { inWindow: restarts.inWindow(now, r.policy.restartPeriod), total: restarts.total, stableAt },
    nextRestartAt: restarts.nextAt,
    host: r.binding.hostOf(r.name),
    group: r.group,
    dependsOn: r.dependsOn.map((item) => (typeof item === 'string' ? item : { anyOf: [...item.anyOf] })),
    target: r.target,
  };
}

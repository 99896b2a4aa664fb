/**
 * What a model scenario is: the policy, the plugin's shape, each resource's script of call
 * behaviours, the operations to run and the listeners that call the monitor. The generator
 * (generator.ts, graph-generator.ts) makes them at random; regression tests write them by hand.
 */
import type { DependencyItem, ResourcePolicy, ResourceState } from 'resmon';
import type { HostileKind } from '../helpers/hostile.js';

export type BehaviourKind =
  | 'ok'
  | 'false'
  | 'nonBool'
  | 'throw'
  | 'throwValue'
  | 'reject'
  | 'rejectValue'
  | 'hang'
  | 'settleAfterAbort'
  | 'progress'
  | 'throwHostile'
  | 'rejectHostile'
  | 'returnHostile';

/** How one plugin call behaves. */
export interface Behaviour {
  kind: BehaviourKind;
  /** Milliseconds before it settles (0: synchronously, where the kind allows). */
  delay: number;
  /** settleAfterAbort: milliseconds between the abort and the settle. */
  lag: number;
  /** Calls ctx.reportFailure this long after the call starts (0: during the call), or never. */
  reportFailureAfter: number | null;
  /**
   * The hostile value (see helpers/hostile.ts) that throwHostile/rejectHostile/returnHostile use,
   * and that reportFailure passes when set.
   */
  hostile?: HostileKind | undefined;
}

/** A monitor call a listener makes (issue 10 §1): any public method, from any listener. */
export type ListenerOp = 'online' | 'offline' | 'terminate' | 'remove' | 'close' | 'waitFor' | 'read' | 'reportFailure';

/** A listener that calls the monitor when its event comes. */
export interface ListenerRule {
  on: 'stateChange' | 'check' | 'restartScheduled' | 'escalated' | 'progress' | 'callTimeout';
  /** stateChange only: react to a change into this state (null: any). */
  to: ResourceState | null;
  /** React to events of this resource only (null: any). */
  from: string | null;
  op: ListenerOp;
  /** The resource it acts on. */
  r: string;
  /** At most this many calls. */
  times: number;
}

export type Step =
  | { op: 'online' | 'offline' | 'terminate' | 'remove'; r: string }
  | { op: 'close' }
  | { op: 'advance'; ms: number }
  /** New properties `{ v }` (v is the op's number; `bad` ones fail validate). */
  | { op: 'setProperties'; r: string; bad: boolean }
  /** A policy change that keeps the timings the checker assumes (callBudget, the same intervals, a field removed). */
  | { op: 'setPolicy'; r: string; change: 'budget' | 'intervals' | 'reset' }
  | { op: 'control'; r: string; code: 'model' | 'get-status' | 'get-properties' | 'nope' };

/** The policy fields the model draws (the others keep their defaults). */
export type ModelPolicy = Pick<
  ResourcePolicy,
  | 'looksAlivePollInterval'
  | 'isAlivePollInterval'
  | 'pendingTimeout'
  | 'deadlockTimeout'
  | 'callBudget'
  | 'restartAction'
  | 'restartThreshold'
  | 'restartPeriod'
  | 'restartDelay'
  | 'restartBackoff'
  | 'maxRestartDelay'
  | 'retryPeriodOnFailure'
  | 'isAliveFailureThreshold'
  | 'stableAfter'
>;

export interface Scenario {
  policy: ModelPolicy;
  abortGrace: number;
  /** Which optional entry points the plugin has (applyProperties and control: absent means no). */
  shape: { open: boolean; looksAlive: boolean; close: boolean; apply?: boolean; control?: boolean };
  resources: string[];
  /** Per resource: the behaviours of its calls, in order, cycled. */
  scripts: Record<string, Behaviour[]>;
  /**
   * Per resource, optional: the behaviours of its isAlive calls, in order, cycled, instead of
   * `scripts` (runs of failed probes, so isAliveFailureThreshold is reached and held).
   */
  probes?: Record<string, Behaviour[]>;
  /**
   * Optional: each resource's `dependsOn` (issue 13), and their group. `resources` is then in an
   * order where dependencies come first. See graph-checker.ts for the invariants they add.
   */
  deps?: Record<string, DependencyItem[]>;
  group?: string;
  steps: Step[];
  /** Listeners that call the monitor (issue 10 §1). */
  listeners?: ListenerRule[];
  /** A listener, registered before all others, that throws this on every event (issue 10 §4). */
  throwingListener?: HostileKind | 'error' | null;
  /** A second type whose validate() throws this hostile value: addResource must throw ConfigError (§2). */
  validateThrows?: HostileKind | null;
}

/** A behaviour of `kind` with no delay, lag or report: the plugin's default, and shorthand for hand-written scenarios. */
export function b(kind: BehaviourKind, more: Partial<Omit<Behaviour, 'kind'>> = {}): Behaviour {
  return { kind, delay: 0, lag: 0, reportFailureAfter: null, ...more };
}

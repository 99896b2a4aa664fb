import type { GroupState } from './groups.js';
import type { CheckKind, EntryPoint, ResourceState } from './types.js';

/** What every event carries. */
export interface BaseEvent {
  /** The resource's name. */
  resource: string;
  /** Clock time of the event. */
  at: number;
}

/** A resource changed state. */
export interface StateChangeEvent extends BaseEvent {
  /** The state it left. */
  from: ResourceState;
  /** The state it is in now. */
  to: ResourceState;
  /** Why, in words: `'online() called'`, `'isAlive failed: connection refused'`, … */
  reason: string;
  /** The resource's generation (attempts to bring it online so far). */
  generation: number;
}

/** A health check finished. */
export interface CheckEvent extends BaseEvent {
  /** Which check: `'looksAlive'` or `'isAlive'`. */
  kind: CheckKind;
  /** Whether it passed (returned `true`). */
  ok: boolean;
  /** How long it took. */
  durationMs: number;
  /** Why it failed; absent when it passed. */
  reason?: string;
  /**
   * Checks of this kind failed in a row in this online period, this one included (0 when it
   * passed). A failed isAlive fails the resource once this reaches `isAliveFailureThreshold`.
   */
  consecutiveFailures: number;
}

/**
 * A call took longer than `callBudget`. For `online` and `offline` only the time they block the
 * event loop before returning counts (they may take long asynchronously).
 */
export interface SlowCallEvent extends BaseEvent {
  /** The slow entry point (looksAlive, isAlive, terminate, open, close, applyProperties, control; online and offline when they block synchronously). */
  entryPoint: EntryPoint;
  /** How long it took. */
  durationMs: number;
  /** The `callBudget` it exceeded. */
  budgetMs: number;
}

/** A call passed its deadline and was abandoned (its signal aborted). */
export interface CallTimeoutEvent extends BaseEvent {
  /** The entry point that passed its deadline. */
  entryPoint: EntryPoint;
  /** The deadline (`pendingTimeout` for online/offline, `deadlockTimeout` otherwise). */
  timeoutMs: number;
}

/** `ctx.reportProgress()` during `online` or `offline`. */
export interface ProgressEvent extends BaseEvent {
  /** `'online'` or `'offline'`. */
  entryPoint: EntryPoint;
  /** What the plugin passed to `reportProgress`, if anything. */
  message?: string;
  /** The checkpoint number the plugin passed to `reportProgress` (WSFC's `CheckPoint`), if any. */
  checkpoint?: number;
}

/** A restart (or a retry after `retryPeriodOnFailure`) was scheduled. */
export interface RestartScheduledEvent extends BaseEvent {
  /** Which restart this is within the current window, from 1 (for a retry: 1, the window is fresh). */
  attempt: number;
  /** How long until it starts. */
  delayMs: number;
  /** True for a retry after `retryPeriodOnFailure`, false for a restart. */
  retry: boolean;
}

/** The restart threshold is spent: the embedder should fail over or page someone. */
export interface EscalatedEvent extends BaseEvent {
  /** Restarts within the window. */
  restarts: number;
  /** The window (`restartPeriod`). */
  periodMs: number;
  /** The resource's group, when it has one: the unit an embedder fails over. */
  group?: string;
}

/**
 * A group's state changed (see `GroupState`). Unlike the other events it concerns a group, so it
 * carries `group` instead of `resource`.
 */
export interface GroupStateChangeEvent {
  /** The group's name. */
  group: string;
  /** Clock time of the change. */
  at: number;
  /** The state it left. */
  from: GroupState;
  /** The state it is in now. */
  to: GroupState;
}

/** An isolation host exited (killed for a deadlock, or died by itself). */
export interface HostExitEvent extends BaseEvent {
  /** The host's name, as `inspect().host` shows it (`worker-3`, `process-1`). */
  host: string;
  /** The exit code (a worker's, or a child process's), null when a signal ended it. */
  code?: number | null;
  /** The signal that ended a child process (`SIGKILL` after a deadlock), null otherwise. */
  signal?: string | null;
  /** The resources that were in it (`resource` is the one whose call deadlocked, else the first of them). */
  resources: string[];
  /** Why, in words: the deadlocked call, the uncaught error, the exit code. */
  reason: string;
}

/**
 * The events of a `ResourceMonitor`, for `monitor.on(name, listener)`. Listeners run
 * synchronously, each one even when an earlier one throws; an exception thrown by a listener is
 * caught and logged, never passed to the monitor's callers. A listener may call any method of
 * the monitor: an operation called while listeners run starts a microtask later, once the
 * transition that emitted the event is complete.
 */
export interface ResourceMonitorEvents {
  stateChange: (event: StateChangeEvent) => void;
  check: (event: CheckEvent) => void;
  slowCall: (event: SlowCallEvent) => void;
  callTimeout: (event: CallTimeoutEvent) => void;
  progress: (event: ProgressEvent) => void;
  restartScheduled: (event: RestartScheduledEvent) => void;
  escalated: (event: EscalatedEvent) => void;
  hostExit: (event: HostExitEvent) => void;
  groupStateChange: (event: GroupStateChangeEvent) => void;
}

/**
 * The name of every event a `ResourceMonitor` emits, at run time (to subscribe to all of them,
 * or to check a name a user typed).
 * @example for (const name of MONITOR_EVENTS) monitor.on(name, (e) => log(name, e));
 */
export const MONITOR_EVENTS = [
  'stateChange',
  'check',
  'slowCall',
  'callTimeout',
  'progress',
  'restartScheduled',
  'escalated',
  'hostExit',
  'groupStateChange',
] as const satisfies readonly (keyof ResourceMonitorEvents)[];

// Fails to compile when an event is added to ResourceMonitorEvents but not to MONITOR_EVENTS.
const everyEventListed: Exclude<keyof ResourceMonitorEvents, (typeof MONITOR_EVENTS)[number]> extends never ? true : never = true;
void everyEventListed;

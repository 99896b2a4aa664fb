import type { Logger } from './logger.js';
import type { ResourcePolicy } from './policy.js';

/**
 * The five states of a resource.
 *
 * - `offline`: not running; nothing is polled.
 * - `online-pending`: `online` is running (or `open` before it).
 * - `online`: up; `looksAlive` and `isAlive` are polled.
 * - `offline-pending`: `offline` is running.
 * - `failed`: a failure was detected; `terminate` runs, then the restart policy applies.
 */
export type ResourceState = (typeof RESOURCE_STATES)[number];

/**
 * The five states of a resource, at run time (for validation, menus, metrics labels).
 * @example RESOURCE_STATES.includes(input as ResourceState)
 */
export const RESOURCE_STATES = ['offline', 'online-pending', 'online', 'offline-pending', 'failed'] as const;

/** The names of a resource type's entry points, as they appear in events and logs. */
export type EntryPoint =
  | 'open'
  | 'online'
  | 'offline'
  | 'terminate'
  | 'looksAlive'
  | 'isAlive'
  | 'close'
  | 'applyProperties'
  | 'control'
  | 'typeControl';

/**
 * What a type's `control` or `typeControl` returns to hand a control code to the monitor
 * (WSFC's `ERROR_INVALID_FUNCTION`: "do the default processing"). The monitor then answers the
 * code itself (`'get-properties'`, `'get-policy'`, `'get-status'`), or rejects with a
 * `ConfigError` naming a code it does not know either.
 *
 * @example
 * ```ts
 * control(ctx, code) {
 *   if (code === 'rotate-logs') return rotate(ctx.handle);
 *   return DEFAULT_PROCESSING;
 * }
 * ```
 */
export const DEFAULT_PROCESSING: unique symbol = Symbol.for('resmon.defaultProcessing');

/** The value of {@link DEFAULT_PROCESSING}. */
export type DefaultProcessing = typeof DEFAULT_PROCESSING;

/** What `setProperties` resolves with: in force now, or stored for the next online. */
export type PropertiesOutcome = 'applied' | 'stored';

/** What a type's `typeControl` receives besides the code and the input. */
export interface TypeControlContext {
  /** The type's name. */
  readonly type: string;
  /** Aborted when the call passes its deadline (`deadlockTimeout`) or the monitor closes. */
  readonly signal: AbortSignal;
  /** A logger tagged with the type and the entry point. */
  readonly log: Logger;
}

/** The two health checks. */
export type CheckKind = 'looksAlive' | 'isAlive';

/**
 * What every entry point of a {@link ResourceType} receives.
 *
 * @typeParam P - the resource's properties, as `validate` returned them
 * @typeParam H - the per-resource handle that `open` returned
 */
export interface ResourceContext<P = Record<string, unknown>, H = unknown> {
  /** The resource's name. */
  readonly resource: string;
  /** The resource's properties (validated by the type's `validate`, when it has one). */
  readonly properties: Readonly<P>;
  /** What `open` returned (`undefined` when the type has no `open`, and inside `open` itself). */
  readonly handle: H;
  /**
   * Aborted when this call is abandoned: its deadline passed, or `terminate`, `offline` or
   * `close` preempted it. Pass it to whatever the call waits on (`fetch`, timers, child
   * processes). After it aborts, nothing the call returns or reports counts.
   */
  readonly signal: AbortSignal;
  /**
   * During `online` and `offline`: the call is still making progress. Resets the
   * `pendingTimeout` clock (the timeout bounds the silence between reports, as in Windows) and
   * emits a `progress` event. Ignored from other entry points and from abandoned calls.
   *
   * `checkpoint` is WSFC's `CheckPoint` of `SetResourceStatus`: a number the plugin counts up
   * with each report (0, 1, 2, ...). It travels on the `progress` event as `checkpoint`; the
   * monitor does not interpret it (every report resets the clock). A value that is not a
   * finite number is left out of the event.
   */
  reportProgress(message?: string, checkpoint?: number): void;
  /**
   * Asynchronous failure detection: the resource has failed, do not wait for the next poll.
   * While the resource is online (or online-pending, where it fails the attempt) the monitor
   * fails it at once, calls `terminate` and applies the restart policy. A call from an earlier
   * generation (an attempt that has since ended) is ignored.
   */
  reportFailure(reason?: unknown): void;
  /** A logger tagged with the resource and the entry point. */
  readonly log: Logger;
  /**
   * The fencing token of the lease under which this machine owns the resource (resmon/cluster's
   * `ClusterMember`, or `monitor.setFencingToken`): a number that increases strictly each time
   * ownership of the resource's unit changes hands. Pass it to what the resource writes (a
   * database row, a storage API that rejects older tokens) so that a former owner that has not yet
   * noticed it lost its lease cannot overwrite the new owner's work. Absent when no token is set.
   * Types isolated in a worker or a process receive it too.
   */
  readonly fencingToken?: number;
}

/**
 * A resource type: the plugin that knows how to bring one kind of resource online, take it
 * offline, stop it hard, and check its health. The same contract as a Windows cluster resource
 * DLL.
 *
 * Every entry point may return a value or a promise. A check (`looksAlive`, `isAlive`) that
 * returns `false`, throws, rejects or returns a non-boolean has failed.
 *
 * @typeParam P - the typed properties `validate` returns
 * @typeParam H - the per-resource handle `open` returns
 *
 * @example
 * ```ts
 * const counter: ResourceType<{ port: number }> = {
 *   name: 'my-server',
 *   validate: (p) => ({ port: Number((p as { port: unknown }).port) }),
 *   online: async (ctx) => { await startServer(ctx.properties.port, ctx.signal); },
 *   offline: async () => { await stopServer(); },
 *   terminate: () => { killServer(); },
 *   isAlive: async (ctx) => (await fetch(`http://127.0.0.1:${ctx.properties.port}/`, { signal: ctx.signal })).ok,
 * };
 * ```
 */
export interface ResourceType<P = Record<string, unknown>, H = unknown> {
  /** Unique within a monitor; resources name their type by it. */
  readonly name: string;
  /** Type-level policy: overrides the monitor's defaults, overridden by a resource's own policy. */
  readonly defaults?: Partial<ResourcePolicy>;
  /** Checks a resource's properties when it is added; throw to reject. Returns the typed properties. */
  validate?(properties: unknown): P;
  /**
   * Type-level policy that depends on a resource's properties (what `validate` returned): a layer
   * between the resource's own `policy` and the type's static `defaults`. Called once, when the
   * resource is added. The built-in `ocf` type uses it to turn an agent's advertised action
   * timeouts and monitor intervals into `pendingTimeout`, `deadlockTimeout` and the poll
   * intervals. Inline types only: a hosted type's properties are validated in its host, so there
   * this layer is skipped.
   * @example defaultsFor: (p) => (p.slow ? { pendingTimeout: 600_000 } : undefined)
   */
  defaultsFor?(properties: Readonly<P>): Partial<ResourcePolicy> | undefined;
  /** Creates the per-resource handle, once, before the first `online`. Bounded by `deadlockTimeout`. */
  open?(ctx: ResourceContext<P, undefined>): H | Promise<H>;
  /** Brings the resource online. Bounded by `pendingTimeout` of silence; `reportProgress` resets it. */
  online(ctx: ResourceContext<P, H>): void | Promise<void>;
  /** Takes the resource offline gracefully. Bounded like `online`. */
  offline(ctx: ResourceContext<P, H>): void | Promise<void>;
  /** Stops the resource hard and at once. Must be safe to call in any state, and more than once. */
  terminate(ctx: ResourceContext<P, H>): void | Promise<void>;
  /** The cheap check, polled every `looksAlivePollInterval`. Optional. */
  looksAlive?(ctx: ResourceContext<P, H>): boolean | Promise<boolean>;
  /** The thorough check, polled every `isAlivePollInterval`, and at once when `looksAlive` fails. */
  isAlive(ctx: ResourceContext<P, H>): boolean | Promise<boolean>;
  /** The resource is being removed (or the monitor closed): release the handle. */
  close?(ctx: ResourceContext<P, H>): void | Promise<void>;
  /**
   * Asynchronous failure detection (WSFC: Online hands back an event handle): the type tells
   * the monitor itself when a resource fails (`ctx.reportFailure`), so the monitor does not poll
   * `looksAlive` (whatever `looksAlivePollInterval` says); `isAlive` still polls.
   * @default false
   */
  readonly reportsFailures?: boolean;
  /**
   * Applies new properties to a resource that is online, without restarting it (WSFC:
   * `ResourceControl` with `CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES`). Called by
   * `monitor.setProperties()` as one call on the resource's lane, bounded by `deadlockTimeout`;
   * `ctx.properties` still holds `previous`. Return nothing once `next` is in force; return
   * `'stored'` (WSFC `ERROR_RESOURCE_PROPERTIES_STORED`) when `next` can only take effect at the
   * next online. Throw to refuse the change: the old properties stay in force. Without it,
   * changes made while online take effect at the next online.
   */
  applyProperties?(ctx: ResourceContext<P, H>, next: Readonly<P>, previous: Readonly<P>): void | 'stored' | Promise<void | 'stored'>;
  /**
   * Answers a control code sent to one resource (`monitor.control(name, code, input)`; WSFC
   * `ResourceControl`). One call on the resource's lane, bounded by `deadlockTimeout`, in any
   * state (`ctx.handle` is `undefined` before the first online). Return the answer (a
   * structured-cloneable value for a hosted type), or {@link DEFAULT_PROCESSING} to let the
   * monitor answer a code it knows.
   */
  control?(ctx: ResourceContext<P, H>, code: string, input: unknown): unknown;
  /**
   * Answers a control code sent to the type itself (`monitor.controlType(type, code, input)`;
   * WSFC `ResourceTypeControl`). Bounded by `deadlockTimeout` (the type's and monitor's
   * defaults); not on any resource's lane. Return the answer, or {@link DEFAULT_PROCESSING}.
   */
  typeControl?(code: string, input: unknown, ctx: TypeControlContext): unknown;
}

/** The outcome of one health check, as `inspect()` shows it. */
export interface CheckResult {
  /** Whether the check passed. */
  ok: boolean;
  /** Clock time when the check finished. */
  at: number;
  /** How long the check took, in milliseconds. */
  durationMs: number;
  /** Why it failed (`null` when it passed). */
  reason: string | null;
  /**
   * Checks of this kind that have failed in a row in this online period, this one included (0
   * when it passed). For isAlive, the resource fails when it reaches `isAliveFailureThreshold`.
   */
  consecutiveFailures: number;
}

/** A JSON-safe picture of one resource, returned by `inspect()` and `snapshot()`. */
export interface ResourceStatus {
  /** The resource's name. */
  name: string;
  /** The name of its type. */
  type: string;
  /** Its current state. */
  state: ResourceState;
  /** Attempts to bring it online so far. */
  generation: number;
  /** Clock time of the last state change. */
  since: number;
  /** The last result of each check in the current or last online period. */
  lastChecks: { looksAlive: CheckResult | null; isAlive: CheckResult | null };
  /**
   * Restarts within the sliding `restartPeriod` window (`inWindow`), and in all (`total`).
   * `stableAt` (with `stableAfter` > 0): while online, the clock time at which this online period
   * empties the window (it came online + `stableAfter`; it may still be ahead, or already past);
   * otherwise the last time a stable online period emptied it; `null` when none has and the
   * resource is not online, or when `stableAfter` is 0.
   */
  restarts: { inWindow: number; total: number; stableAt: number | null };
  /** Clock time of a scheduled restart or retry, or `null`. */
  nextRestartAt: number | null;
  /** The isolation host the resource runs in, `null` when inline. */
  host: string | null;
  /** The group it belongs to (`addResource({ group })`), `null` when ungrouped. */
  group: string | null;
  /** Its dependencies as given to `addResource` or `setDependencies` (`[]` when none). */
  dependsOn: DependencyItem[];
  /**
   * The state it should be in: the last that `online()`, `offline()` or `terminate()` asked for,
   * directly or through a dependent or a dependency (WSFC's persistent state). A resource whose
   * dependency failed is taken offline but keeps `target: 'online'`, and is brought back once
   * its dependencies are online again.
   */
  target: ResourceTarget;
}

/** What a resource should be: `'online'` or `'offline'` (see {@link ResourceStatus.target}). */
export type ResourceTarget = 'online' | 'offline';

/**
 * One item of a resource's `dependsOn` (an AND of items): the name of a resource that must be
 * online, or `{ anyOf: [names] }`, satisfied while at least one of them is online (WSFC's OR
 * dependency expression).
 *
 * @example ['db', { anyOf: ['ip-a', 'ip-b'] }]  // db AND (ip-a OR ip-b)
 */
export type DependencyItem = string | { anyOf: string[] };

/** What `addResource` takes. */
export interface ResourceSpec {
  /** Unique within the monitor: a non-empty string. */
  name: string;
  /** The name of a registered type. */
  type: string;
  /** Passed to the type's `validate`, then to every entry point as `ctx.properties`. */
  properties?: unknown;
  /** The resource's own policy: overrides its type's and the monitor's defaults. */
  policy?: Partial<ResourcePolicy>;
  /**
   * The group it belongs to: the unit that `onlineGroup`/`offlineGroup` bring online and take
   * offline as a whole. A resource and its dependencies must be in the same group (or all
   * ungrouped). Fixed once added.
   * @default null (ungrouped)
   */
  group?: string;
  /**
   * What must be online before this resource goes online: an AND of items, each a resource name
   * or `{ anyOf: [names] }`. Every name must already exist, in the same group; a cycle, an
   * unknown name or a cross-group dependency throws `DependencyError` and nothing is added.
   * @default []
   * @example ['db', { anyOf: ['ip-a', 'ip-b'] }]
   */
  dependsOn?: DependencyItem[];
}

/**
 * Where a resource's type lives: an inline plugin object, or a proxy whose entry points call a
 * plugin hosted in a worker or a child process (the hooks let the host layer place resources).
 * Internal: the monitor makes one per registered type; `hosts/` makes the hosted ones.
 * @internal
 */
export interface TypeBinding {
  /** The plugin, or a proxy with the same contract. */
  readonly type: ResourceType<unknown, unknown>;
  /** The host a resource runs in, for `inspect()`; null inline. */
  hostOf(resource: string): string | null;
  /**
   * Null when the resource's host can take calls now; else a promise that settles once it can (or
   * is gone). Awaited before an attempt's first call, so a host's start-up does not count in that
   * call's deadline (bounded by `deadlockTimeout` or 30 s, whichever is longer).
   */
  ready?(resource: string): Promise<void> | null;
  /**
   * A resource of this type was added, with its resolved policy (a hosted type picks its host).
   * `hostDied` is how the host layer reports that the resource's host died or was killed: it
   * fails the resource as a failed check would (a no-op when the resource is not up).
   */
  attach?(resource: string, policy: ResourcePolicy, hostDied: (reason: string) => void): void;
  /** A resource of this type was removed, after its `close`. */
  detach?(resource: string): void | Promise<void>;
  /** The monitor is closing, after every resource was closed: release hosts. */
  dispose?(): Promise<void>;
  /**
   * Validates new properties where the type's `validate` lives (a hosted type's host); rejects
   * with the reason. Absent for inline types, whose `validate` the monitor calls itself.
   */
  validate?(resource: string, properties: unknown): Promise<void>;
}

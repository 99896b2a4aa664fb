import type { Abortable } from './abort-scope.js';
import type { ActiveCall, CallLane, CallOutcome } from './call.js';
import { CheckRunner } from './check-runner.js';
import { type ContextEnv, type ContextOwner, pluginContext } from './context.js';
import { reasonOf } from './errors.js';
import { type Logger, tagged } from './logger.js';
import type { ResourcePolicy } from './policy.js';
import { emitCallEnded } from './resource-events.js';
import type { CheckKind, EntryPoint, ResourceContext, TypeBinding } from './types.js';

/** The resource the calls belong to (the resource itself), read when a call starts. */
export interface CallOwner extends ContextOwner {
  readonly binding: TypeBinding;
  /** The policy in force (deadlines, callBudget). */
  readonly policy: ResourcePolicy;
  /** `ctx.fencingToken`, undefined when none is set. */
  readonly fencingToken: number | undefined;
}

/** `ctx.handle` inside `open`: there is none yet. */
const NO_HANDLE = undefined;

/**
 * The calls into one resource's plugin, one method per entry point: each runs on the resource's
 * lane (`call.ts`) with its deadline (`pendingTimeout` for online and offline, `deadlockTimeout`
 * for the rest) and a context made for the operation `op` that made it. It keeps what the
 * plugin's instance is: whether it was opened and the handle `open` returned. What an outcome
 * means for the resource's state is the caller's business (`resource.ts`, `poller.ts`).
 *
 * Each method returns the lane's own promise, and the caller awaits it directly and then reports
 * the outcome ({@link ended}): the lane hands itself to the next call a microtask after a call
 * ends so that the call's owner acts on the outcome first (`call.ts`); a wrapping async function
 * here would add microtasks and let a queued call start before that.
 */
export class PluginCalls {
  /** open ran (or online started, for a type without open): terminate and close have something to stop. */
  opened = false;
  /** What `open` returned (`ctx.handle`). */
  private handle: unknown = undefined;
  /** The terminate call running now, which every caller joins; null when none runs. */
  terminating: Promise<void> | null = null;
  /** The tagged logger of each entry point (`ctx.log`), made on first use. */
  private readonly logs: Partial<Record<EntryPoint, Logger>> = {};
  /** Runs the checks on a free lane, made at the first check. */
  private checks: CheckRunner | null = null;

  constructor(
    private readonly owner: CallOwner,
    private readonly lane: CallLane,
    private readonly env: ContextEnv,
    /** The properties in force (`LiveProperties`), read when a call starts. */
    private readonly properties: { readonly inForce: unknown },
    private readonly log: Logger,
  ) {}

  /** The context of `call`, made by operation `op`, with the properties in force now. */
  private context(call: ActiveCall, op: number): ResourceContext<unknown, unknown> {
    return this.contextWith(call, op, this.handle);
  }

  private contextWith(call: ActiveCall, op: number, handle: unknown): ResourceContext<unknown, unknown> {
    const { owner } = this;
    const entryPoint = call.entryPoint;
    const log = (this.logs[entryPoint] ??= tagged(this.env.logger, { resource: owner.name, entryPoint }));
    return pluginContext(call, op, owner, this.env, log, this.properties.inForce, handle, owner.fencingToken);
  }

  /**
   * A health check, or null when the type has none of that kind. The hot path: on a free lane the
   * check runs at once through the resource's {@link CheckRunner} (no closure, no context object,
   * no promise) and its outcome comes back as a value when the plugin answers synchronously, as
   * the lane's promise when it returns one. On a busy lane it waits as any call does. The caller
   * reads an `ok` value before the next call (the lane reuses it) and reports the outcome
   * through {@link ended}.
   */
  check(kind: CheckKind, op: number, parent: Abortable): CallOutcome<unknown> | Promise<CallOutcome<unknown>> | null {
    const { owner } = this;
    const { type } = owner.binding;
    const fn = kind === 'isAlive' ? type.isAlive : type.looksAlive;
    if (!fn) return null;
    const timeoutMs = owner.policy.deadlockTimeout;
    if (this.lane.free) {
      const log = (this.logs[kind] ??= tagged(this.env.logger, { resource: owner.name, entryPoint: kind }));
      const runner = (this.checks ??= new CheckRunner(owner, this.env));
      runner.prepare(kind, fn, type, op, this.properties.inForce, this.handle, owner.fencingToken, log);
      const now = this.lane.runNow(kind, timeoutMs, parent, runner);
      if (now !== null) return now;
    }
    return this.lane.run({ entryPoint: kind, timeoutMs, parent, invoke: (call) => fn.call(type, this.context(call, op)) });
  }

  /**
   * `open`, once per instance, before the first online; null when there is nothing to open (the
   * instance is open, or the type has no open). The caller passes an `ok` outcome to
   * {@link keepHandle} (an open that returned counts even if its attempt was abandoned since:
   * open runs once).
   */
  open(op: number, parent: Abortable): Promise<CallOutcome<unknown>> | null {
    const { type } = this.owner.binding;
    const open = type.open;
    if (this.opened || !open) return null;
    return this.run('open', parent, (call) => open.call(type, this.contextWith(call, op, NO_HANDLE) as ResourceContext<unknown, undefined>));
  }

  /** `open` returned `handle`: the instance is open. */
  keepHandle(handle: unknown): void {
    this.handle = handle;
    this.opened = true;
  }

  /** `online`; `started` gets the call when it starts (before the plugin runs). */
  online(op: number, parent: Abortable, started: (call: ActiveCall) => void): Promise<CallOutcome<unknown>> {
    const { type } = this.owner.binding;
    return this.run('online', parent, (call) => {
      started(call);
      // Without open, there is something to terminate once online has started (not before:
      // a failure reported while online still waited for the lane has nothing to stop).
      this.opened = true;
      return type.online(this.context(call, op));
    });
  }

  /** `offline`; it does not start once `parent` has aborted (a terminate() superseded it). */
  offline(op: number, parent: Abortable): Promise<CallOutcome<unknown>> {
    const { type } = this.owner.binding;
    return this.run('offline', parent, (call) => type.offline(this.context(call, op)));
  }

  /**
   * `terminate` (DESIGN §5.2): preempts the call in flight and takes the lane before the queued
   * calls, so it never waits behind a hung call; a terminate already running is joined. Nothing
   * to do before the instance was opened. Never rejects; a failure is logged.
   */
  terminate(op: number, reason: string): Promise<void> {
    if (!this.opened) return Promise.resolve();
    if (this.terminating) return this.terminating;
    this.lane.preempt(reason);
    const { type } = this.owner.binding;
    const task = (async () => {
      const out = await this.run('terminate', undefined, (call) => type.terminate(this.context(call, op)), true);
      this.ended('terminate', out);
      if (out.kind === 'error') this.log.error({ err: out.error }, `terminate failed: ${reasonOf(out.error)}`);
    })().finally(() => {
      if (this.terminating === task) this.terminating = null;
    });
    this.terminating = task;
    return task;
  }

  /** The type's `close`, once; null when there is nothing to close (never opened, closed, or no close). */
  close(op: number): Promise<CallOutcome<unknown>> | null {
    if (!this.opened) return null;
    this.opened = false;
    const { type } = this.owner.binding;
    const close = type.close;
    if (!close) return null;
    return this.run('close', undefined, (call) => close.call(type, this.context(call, op)));
  }

  /** `applyProperties(ctx, next, current)`; the caller checked that the type has it. */
  applyProperties(op: number, parent: Abortable, next: unknown): Promise<CallOutcome<unknown>> {
    const { type } = this.owner.binding;
    const apply = type.applyProperties as NonNullable<typeof type.applyProperties>;
    // The properties in force when it starts (an earlier change may be applied meanwhile).
    return this.run('applyProperties', parent, (call) =>
      apply.call(type, this.context(call, op), next as Readonly<unknown>, this.properties.inForce as Readonly<unknown>),
    );
  }

  /**
   * `control(ctx, code, input)`, or null when the type has no control. `op()` is read when the
   * call starts: a failure it reports counts against the operation in charge then.
   */
  control(op: () => number, parent: Abortable, code: string, input: unknown): Promise<CallOutcome<unknown>> | null {
    const { type } = this.owner.binding;
    const control = type.control;
    if (!control) return null;
    return this.run('control', parent, (call) => control.call(type, this.context(call, op()), code, input));
  }

  /**
   * One call on the lane, bounded by `pendingTimeout` (online, offline: re-armed by progress) or
   * `deadlockTimeout` (the rest); `urgent` takes the lane before the queued calls (terminate).
   */
  private run<T>(entryPoint: EntryPoint, parent: Abortable | undefined, invoke: (call: ActiveCall) => T | Promise<T>, urgent = false): Promise<CallOutcome<T>> {
    const { policy } = this.owner;
    const timeoutMs = entryPoint === 'online' || entryPoint === 'offline' ? policy.pendingTimeout : policy.deadlockTimeout;
    return this.lane.run({ entryPoint, timeoutMs, parent, urgent, invoke });
  }

  /** Abandons the call in flight (see `CallLane.preempt`): the caller has just aborted its operation's signal. */
  preempt(reason: string): void {
    this.lane.preempt(reason);
  }

  /** The resource is gone: nothing runs on the lane any more (see `CallLane.dispose`). */
  dispose(): void {
    this.lane.dispose();
  }

  /** Emits slowCall and callTimeout for a finished call. */
  ended(entryPoint: EntryPoint, out: CallOutcome<unknown>): void {
    emitCallEnded(this.env, this.log, this.owner.name, entryPoint, out, this.owner.policy.callBudget);
  }
}

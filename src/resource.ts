import { abortable } from './abort.js';
import { ActiveCall, CallLane, type CallOutcome } from './call.js';
import { after, type Clock, type Timer } from './clock.js';
import { CallTimeoutError, ConfigError, describeValue, isConfigError, isPermanentFailure, MonitorClosedError, reasonOf, StateError, toError } from './errors.js';
import type { ProgressEvent, ResourceMonitorEvents } from './events.js';
import { type Logger, tagged } from './logger.js';
import { type ResourcePolicy, restartDelayOf } from './policy.js';
import { RestartBook } from './restart.js';
import { PollSchedule } from './scheduler.js';
import type { TimerWheel } from './timer-wheel.js';
import {
  type CheckKind,
  type CheckResult,
  DEFAULT_PROCESSING,
  type DependencyItem,
  type EntryPoint,
  type PropertiesOutcome,
  type ResourceContext,
  type ResourceState,
  type ResourceStatus,
  type ResourceTarget,
  type TypeBinding,
} from './types.js';

/** What a resource needs from its monitor. */
export interface ResourceEnv {
  readonly clock: Clock;
  /** The monitor's shared poll timer. */
  readonly wheel: TimerWheel;
  readonly logger: Logger;
  readonly abortGrace: number;
  /** Whether anyone listens to `event` (payloads are built only then). */
  wants(event: keyof ResourceMonitorEvents): boolean;
  /** Emits `event`; a throwing listener is logged, never propagated. */
  emit<K extends keyof ResourceMonitorEvents>(event: K, payload: Parameters<ResourceMonitorEvents[K]>[0]): void;
  /** Listeners are running now (a call from one of them waits a microtask, see the monitor). */
  delivering(): boolean;
  /**
   * Called after every state change (`from` differs from the state now), and with `from` equal
   * to it once a failure's restart decision is made: the monitor follows dependencies and groups.
   * Must not throw.
   */
  observe?(resource: Resource, from: ResourceState): void;
  /** Asked when a restart is due: false while the resource's dependencies are not online (it is not started then). */
  mayRestart?(resource: Resource): boolean;
}

/** The monitor's own control codes (default processing). */
export const MONITOR_CODES = ['get-properties', 'get-policy', 'get-status'] as const;

/** One attempt to bring the resource online (a generation). */
interface Attempt {
  readonly epoch: number;
  readonly life: AbortController;
  /** The `online` call, once it started. */
  onlineCall: ActiveCall | null;
  /** Why the attempt failed, when a failure (not an abandonment) ended it. */
  failure: Error | null;
  /** Resolves when the attempt ends: with null when the resource went online, else the error for callers. */
  done: Promise<Error | null>;
}

interface Waiter {
  state: ResourceState;
  resolve(status: ResourceStatus): void;
  reject(error: unknown): void;
}

const NO_HANDLE = undefined;
/** The least time an attempt waits for its isolation host to start before calling into it anyway. */
const HOST_START_WAIT_MS = 30_000;

/**
 * One resource: its state machine (DESIGN §3), its lane of calls, its polls and its restart
 * bookkeeping. Every transition goes through here; the monitor only routes public calls.
 *
 * Ownership of the state: every operation that takes charge of the resource (an online attempt,
 * a failure, `offline()`, `terminate()`) bumps `epoch`; a task changes the state only while the
 * epoch is still its own, so a late result of an earlier operation never changes anything.
 */
export class Resource {
  state: ResourceState = 'offline';
  generation = 0;
  since: number;
  /** What the monitor was last asked for (DESIGN §9 target state); kept by the monitor. */
  target: ResourceTarget = 'offline';
  /** Its group, null when ungrouped; set by the monitor. */
  group: string | null = null;
  /** Its dependencies as given, for inspect(); set by the monitor. */
  dependsOn: readonly DependencyItem[] = [];
  /** `ctx.fencingToken` of the next calls (set by `monitor.setFencingToken`; resmon/cluster). */
  fencingToken: number | undefined = undefined;
  /** A failure's terminate and restart decision are running. */
  private failing = false;
  private epoch = 0;
  private opened = false;
  private handle: unknown = NO_HANDLE;
  private readonly lane: CallLane;
  private readonly polls: PollSchedule;
  private readonly restarts = new RestartBook();
  private attempt: Attempt | null = null;
  /** Aborted when the resource leaves online-pending/online: the calls of that period are abandoned. */
  private life: AbortController | null = null;
  /**
   * Aborted when a `terminate()` supersedes the offline in progress: its `offline` call, if it
   * has not started yet, never starts (terminate must not queue behind it).
   */
  private offlineLife: AbortController | null = null;
  /** The offline() or terminate() in progress, which online() and offline() wait for. */
  private transition: Promise<void> | null = null;
  /** The failure's terminate and restart scheduling, while failed. */
  private failureTask: Promise<void> | null = null;
  /** The terminate entry point running now (a failure's, offline's fallback or terminate()'s). */
  private terminateTask: Promise<void> | null = null;
  private restartTimer: Timer | null = null;
  private nextRestartAt: number | null = null;
  private disposed = false;
  private disposing: Promise<void> | null = null;
  private readonly lastChecks: { looksAlive: CheckResult | null; isAlive: CheckResult | null } = {
    looksAlive: null,
    isAlive: null,
  };
  /** Failed checks of each kind in a row in this online period (isAliveFailureThreshold). */
  private looksFailures = 0;
  private isFailures = 0;
  /** The last time a stable online period emptied the restart window (stableAfter). */
  private stableAt: number | null = null;
  private readonly waiters = new Set<Waiter>();
  /** Aborted once the resource is disposed: the parent of control calls. */
  private readonly ended = new AbortController();
  /** The resource's own policy layer (what `addResource` and `setPolicy` gave it), kept by the monitor. */
  ownPolicy: Partial<ResourcePolicy> = {};
  /** Numbers each accepted properties change, so a late outcome never undoes a later change. */
  private propsSeq = 0;
  /** The change the properties in force come from. */
  private propsInForce = 0;
  /** Properties stored for the next online (`'stored'`), newer than those in force. */
  private storedProps: { value: unknown; seq: number } | null = null;
  private readonly logs: Partial<Record<EntryPoint, Logger>> = {};
  private readonly log: Logger;

  constructor(
    readonly name: string,
    readonly typeName: string,
    readonly binding: TypeBinding,
    private properties: unknown,
    public policy: ResourcePolicy,
    private readonly env: ResourceEnv,
  ) {
    this.since = env.clock.now();
    this.lane = new CallLane(env.clock, env.abortGrace, name);
    this.polls = new PollSchedule(env.wheel, this.looksInterval(policy), policy.isAlivePollInterval, policy.pollJitter, (kind) => {
      void this.poll(kind, this.epoch);
    });
    this.log = tagged(env.logger, { resource: name });
  }

  // ---- public operations -------------------------------------------------------------------

  /**
   * Brings the resource online; resolves once online, rejects with the cause if this attempt
   * failed. `mayStart`, asked right before a new attempt starts, may refuse it (a reason): the
   * monitor was asked to take the resource offline since, or its dependencies went offline.
   */
  async online(mayStart?: () => string | null): Promise<void> {
    for (;;) {
      if (this.disposed) throw new MonitorClosedError(`online("${this.name}")`);
      // An offline() or terminate() in progress: wait for it, then start a new attempt.
      if (this.transition) {
        await this.transition;
        continue;
      }
      switch (this.state) {
        case 'online':
          return;
        case 'online-pending': {
          const error = await (this.attempt as Attempt).done;
          if (error) throw error;
          return;
        }
        case 'offline-pending':
          // Only ever inside a transition (handled above); never spin on it.
          throw new StateError(this.name, 'offline-pending without an offline in progress (a resmon bug)');
        case 'failed':
          await this.failureTask;
          if (this.state !== 'failed' || this.transition) continue;
          this.cancelRestart();
          this.restarts.clear();
          break;
        case 'offline':
          if (this.terminateTask) {
            await this.terminateTask;
            continue;
          }
          break;
      }
      // The monitor's last word before a new attempt (a later offline() wins; dependencies must be online).
      const refused = mayStart?.() ?? null;
      if (refused !== null) throw new StateError(this.name, `online() did not start an attempt: ${refused}`);
      const attempt = this.startAttempt('online() called');
      const error = await attempt.done;
      if (error) throw error;
      return;
    }
  }

  /**
   * Takes the resource offline (DESIGN §3); resolves once it is offline (or once a `terminate()`
   * that superseded this offline has ended). Never rejects for the plugin's failures.
   */
  async offline(reason = 'offline() called'): Promise<void> {
    for (;;) {
      this.cancelRestart();
      if (this.transition) {
        // offline() during offline-pending shares that offline; during terminate() it waits for it.
        await this.transition;
        continue;
      }
      switch (this.state) {
        case 'offline':
          if (this.terminateTask) await this.terminateTask;
          return;
        case 'offline-pending':
          throw new StateError(this.name, 'offline-pending without an offline in progress (a resmon bug)');
        case 'failed': {
          // Take charge now, as one transition that later offline() calls share: the failure's
          // restart policy no longer applies (no restart is scheduled, then cancelled, when its
          // terminate ends); the state changes once that terminate has finished.
          const epoch = ++this.epoch;
          const failure = this.failureTask;
          await this.track(
            (async () => {
              await failure;
              this.cancelRestart();
              if (this.epoch === epoch && this.state === 'failed') this.setState('offline', reason);
            })(),
          );
          // A terminate() that superseded this offline: resolve when it has ended.
          if (this.epoch !== epoch) await this.transitionsDone();
          return;
        }
        case 'online':
        case 'online-pending': {
          const attempt = this.state === 'online-pending' ? this.attempt : null;
          const epoch = ++this.epoch;
          this.endLife(reason);
          const offlineLife = (this.offlineLife = new AbortController());
          this.setState('offline-pending', reason);
          await this.track(this.runOffline(epoch, attempt, reason, offlineLife.signal));
          // A terminate() that superseded this offline: resolve when it has ended.
          if (this.epoch !== epoch) await this.transitionsDone();
          return;
        }
      }
    }
  }

  /** The hard stop: cancels any restart, abandons what runs, calls terminate; ends offline. */
  async terminate(reason = 'terminate() called'): Promise<void> {
    // Disposed (close() or removeResource() finishing) and offline: nothing is left to stop, and
    // the plugin is being closed; a terminate() now must not call into it.
    if (this.disposed && this.state === 'offline' && !this.transition && !this.terminateTask) return;
    this.cancelRestart();
    const epoch = ++this.epoch;
    this.offlineLife?.abort(new StateError(this.name, `offline abandoned: ${reason}`));
    this.offlineLife = null;
    this.endLife(reason);
    await this.track(
      (async () => {
        await this.terminateNow(reason); // joins a terminate already running
        if (this.epoch === epoch && this.state !== 'offline') this.setState('offline', reason);
      })(),
    );
    // A later terminate() superseded this one: resolve when it has ended (the resource offline).
    if (this.epoch !== epoch) await this.transitionsDone();
  }

  /**
   * Resolves once no offline() or terminate() is in progress: a superseded operation waits for
   * the one that took over, and for any that took over from that one in turn.
   */
  private async transitionsDone(): Promise<void> {
    while (this.transition) await this.transition;
  }

  /** Makes `task` the transition in progress until it ends. */
  private track(task: Promise<void>): Promise<void> {
    this.transition = task;
    // Registered before any waiter's continuation, so waiters see it cleared.
    void task.then(() => {
      if (this.transition === task) this.transition = null;
    });
    return task;
  }

  /**
   * Ends the resource's life in the monitor: offline (`graceful`) or terminate, then the
   * type's `close`. Afterwards every operation is refused and nothing stays scheduled.
   */
  dispose(graceful: boolean, why: string): Promise<void> {
    return (this.disposing ??= this.runDispose(graceful, why));
  }

  private async runDispose(graceful: boolean, why: string): Promise<void> {
    if (graceful) await this.offline(why);
    else if (this.state !== 'offline' || this.terminateTask) await this.terminate(why);
    this.disposed = true;
    // Control calls still queued never start, one in flight is abandoned (nothing may reach the
    // plugin after close, no deadline stays armed).
    this.ended.abort(new MonitorClosedError(`control("${this.name}")`));
    this.lane.preempt('the resource is being closed');
    this.cancelRestart();
    if (this.state !== 'offline') {
      // A restart raced with the offline above: finish it the hard way.
      await this.terminate(why);
    }
    this.polls.stop();
    // A terminate() that came in meanwhile (to cut the shutdown short) runs to its end first, on
    // the lane's usual terms (abortGrace for an abandoned call): disposing the lane under it would
    // start it without that wait.
    while (this.terminateTask) await this.terminateTask;
    if (this.opened) {
      const close = this.binding.type.close;
      this.opened = false;
      if (close) {
        const out = await this.lane.run({
          entryPoint: 'close',
          timeoutMs: this.policy.deadlockTimeout,
          invoke: (call) => close.call(this.binding.type, this.context(call, this.epoch)),
        });
        this.afterCall('close', out);
        if (out.kind === 'error') this.log.warn({ err: out.error }, `close failed: ${reasonOf(out.error)}`);
      }
    }
    // A terminate() that started meanwhile (a listener of the last state change, a second
    // Ctrl-C) finishes before the resource is gone: no call or deadline outlives close.
    await this.transitionsDone();
    if (this.terminateTask) await this.terminateTask;
    this.lane.dispose();
    const closed = new MonitorClosedError(`waitFor("${this.name}")`);
    for (const waiter of this.waiters) waiter.reject(closed);
    this.waiters.clear();
  }

  /** Resolves with `inspect()` once the resource is in `state` (at once if it is). */
  waitFor(state: ResourceState, timeout: number | undefined, signal: AbortSignal | undefined): Promise<ResourceStatus> {
    if (this.state === state) return Promise.resolve(this.inspect());
    if (this.disposed) return Promise.reject(new MonitorClosedError(`waitFor("${this.name}")`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    let waiter!: Waiter;
    const reached = new Promise<ResourceStatus>((resolve, reject) => {
      waiter = { state, resolve, reject };
    });
    this.waiters.add(waiter);
    return abortable(reached, {
      timeoutMs: timeout,
      signal,
      clock: this.env.clock,
      onTimeout: () => {
        throw new CallTimeoutError(`waitFor("${this.name}", "${state}") timed out after ${timeout} ms; it is ${this.state}`, timeout as number);
      },
    }).finally(() => this.waiters.delete(waiter));
  }

  /** A JSON-safe picture of the resource. */
  inspect(): ResourceStatus {
    const now = this.env.clock.now();
    this.noteStable(now);
    const stableAt = this.inOnlinePeriod() && this.policy.stableAfter > 0 ? this.since + this.policy.stableAfter : this.stableAt;
    return {
      name: this.name,
      type: this.typeName,
      state: this.state,
      generation: this.generation,
      since: this.since,
      lastChecks: { looksAlive: this.lastChecks.looksAlive, isAlive: this.lastChecks.isAlive },
      restarts: { inWindow: this.restarts.inWindow(now, this.policy.restartPeriod), total: this.restarts.total, stableAt },
      nextRestartAt: this.nextRestartAt,
      host: this.binding.hostOf(this.name),
      group: this.group,
      dependsOn: this.dependsOn.map((item) => (typeof item === 'string' ? item : { anyOf: [...item.anyOf] })),
      target: this.target,
    };
  }

  /** Failed, and a restart (or the failure's terminate that decides on one) is coming. */
  get awaitingRestart(): boolean {
    return this.state === 'failed' && (this.failing || this.restartTimer !== null);
  }

  /**
   * The resource's host died or was killed (isolation): fail it if it was up, as if a check had
   * failed. Calls in flight are abandoned by the host layer.
   */
  hostFailed(reason: string): void {
    this.fail(this.epoch, reason, null);
  }

  // ---- the online attempt ------------------------------------------------------------------

  private startAttempt(reason: string): Attempt {
    const stored = this.storedProps;
    if (stored) {
      // Properties stored while the resource ran take effect at this online.
      this.storedProps = null;
      this.properties = stored.value;
      this.propsInForce = stored.seq;
    }
    const epoch = ++this.epoch;
    this.generation++;
    const life = new AbortController();
    this.life = life;
    const attempt: Attempt = { epoch, life, onlineCall: null, failure: null, done: Promise.resolve(null) };
    this.attempt = attempt;
    this.setState('online-pending', reason);
    attempt.done = this.runAttempt(attempt);
    return attempt;
  }

  private async runAttempt(attempt: Attempt): Promise<Error | null> {
    const { type } = this.binding;
    const { epoch, life } = attempt;
    const ready = this.binding.ready?.(this.name);
    if (ready) {
      // A hosted type whose host is still starting: wait for it outside any call's deadline (at
      // most deadlockTimeout or 30 s, whichever is longer), unless the attempt is abandoned meanwhile.
      await abortable(ready, {
        timeoutMs: Math.max(this.policy.deadlockTimeout, HOST_START_WAIT_MS),
        signal: life.signal,
        clock: this.env.clock,
        onTimeout: () => undefined,
      }).catch(() => {}); // aborted: the epoch check below ends the attempt
      if (this.epoch !== epoch) return this.attemptFailed(attempt, 'online', { kind: 'abandoned', durationMs: 0 });
    }
    if (!this.opened) {
      if (type.open) {
        const open = type.open;
        let abandonedWhileRunning = false;
        const out = await this.lane.run({
          entryPoint: 'open',
          timeoutMs: this.policy.deadlockTimeout,
          parent: life.signal,
          invoke: (call) => {
            const value = open.call(type, this.context(call, epoch, NO_HANDLE) as ResourceContext<unknown, undefined>);
            if (call.signal.aborted) abandonedWhileRunning = true; // it reported a failure itself
            return value;
          },
        });
        this.afterCall('open', out);
        if (out.kind !== 'ok') return this.attemptFailed(attempt, 'open', out);
        // An open that was abandoned while it ran does not count; one that returned before the
        // attempt was abandoned (an offline() right after) does: its handle is kept, open runs once.
        if (this.epoch !== epoch && abandonedWhileRunning) return this.attemptFailed(attempt, 'open', { kind: 'abandoned', durationMs: out.durationMs });
        this.handle = out.value;
        this.opened = true;
        if (this.epoch !== epoch) return this.attemptFailed(attempt, 'open', { kind: 'abandoned', durationMs: out.durationMs });
      }
    }
    const out = await this.lane.run({
      entryPoint: 'online',
      timeoutMs: this.policy.pendingTimeout,
      parent: life.signal,
      invoke: (call) => {
        attempt.onlineCall = call;
        // Without open, there is something to terminate once online has started (not before:
        // a failure reported while online still waited for the lane has nothing to stop).
        this.opened = true;
        return type.online(this.context(call, epoch));
      },
    });
    this.afterCall('online', out);
    if (out.kind === 'ok' && this.epoch === epoch && this.state === 'online-pending') {
      attempt.onlineCall = null;
      this.setState('online', 'online completed');
      this.polls.start();
      return null;
    }
    return this.attemptFailed(attempt, 'online', out);
  }

  /** Fails the resource for a failed open/online (if the attempt is still in charge); the error for callers. */
  private attemptFailed(attempt: Attempt, entryPoint: 'open' | 'online', out: CallOutcome<unknown>): Error {
    if (out.kind === 'error') {
      const error = toError(out.error, `${entryPoint} rejected`);
      this.fail(attempt.epoch, `${entryPoint} failed: ${reasonOf(out.error)}`, error);
      return attempt.failure ?? error;
    }
    if (out.kind === 'timeout') {
      const what = entryPoint === 'online' ? `made no progress for ${out.timeoutMs} ms (pendingTimeout)` : `passed deadlockTimeout (${out.timeoutMs} ms)`;
      const error = new CallTimeoutError(`resource "${this.name}": ${entryPoint} ${what}`, out.timeoutMs);
      this.fail(attempt.epoch, `${entryPoint} ${what}`, error);
      return attempt.failure ?? error;
    }
    // Abandoned (or it resolved after being abandoned): a failure tells why, otherwise a preemption.
    if (attempt.failure) return attempt.failure;
    const reason: unknown = attempt.life.signal.reason;
    return reason instanceof StateError
      ? reason
      : new StateError(this.name, `the online attempt was abandoned (${reasonOf(reason ?? 'superseded')})`);
  }

  // ---- failure, terminate, offline ---------------------------------------------------------

  /**
   * The resource failed (a check, a deadline, reportFailure, a failed attempt): if `epoch` still
   * owns it and it is up, mark it failed, terminate it, then apply the restart policy.
   */
  private fail(epoch: number, reason: string, cause: Error | null): boolean {
    // Only within an online period: not while terminate() or offline() is taking it down.
    if (epoch !== this.epoch || !this.life || (this.state !== 'online' && this.state !== 'online-pending')) return false;
    const attempt = this.attempt;
    if (cause && attempt && attempt.epoch === epoch && !attempt.failure) attempt.failure = cause;
    const own = ++this.epoch;
    this.endLife(`failed: ${reason}`);
    this.failing = true; // before the state change, so observers see a restart decision coming
    this.setState('failed', reason);
    this.log.warn(`failed: ${reason}`);
    this.failureTask = this.terminateNow(`failed: ${reason}`).then(() => {
      this.applyRestartPolicy(own, cause);
      if (this.epoch !== own) return;
      this.failing = false;
      this.env.observe?.(this, this.state);
    });
    return true;
  }

  /** Leaves online-pending/online: stops polls and abandons the calls of that period. */
  private endLife(reason: string): void {
    this.noteStable(this.env.clock.now());
    this.polls.stop();
    const life = this.life;
    this.life = null;
    if (life && !life.signal.aborted) {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      const why = new StateError(this.name, `the online attempt was abandoned: ${reason}`);
      Error.stackTraceLimit = limit;
      life.abort(why);
    }
    this.lane.preempt(reason);
  }

  /** Calls the plugin's terminate (DESIGN §5.2): never queues behind a hung call. Never rejects. */
  private terminateNow(reason: string): Promise<void> {
    if (!this.opened) return Promise.resolve();
    if (this.terminateTask) return this.terminateTask;
    this.lane.preempt(reason);
    const { type } = this.binding;
    const epoch = this.epoch;
    const task = (async () => {
      const out = await this.lane.run({
        entryPoint: 'terminate',
        timeoutMs: this.policy.deadlockTimeout,
        urgent: true,
        invoke: (call) => type.terminate(this.context(call, epoch)),
      });
      this.afterCall('terminate', out);
      if (out.kind === 'error') this.log.error({ err: out.error }, `terminate failed: ${reasonOf(out.error)}`);
    })().finally(() => {
      if (this.terminateTask === task) this.terminateTask = null;
    });
    this.terminateTask = task;
    return task;
  }

  private async runOffline(epoch: number, attempt: Attempt | null, reason: string, stop: AbortSignal): Promise<void> {
    const settle = (why: string) => {
      if (this.epoch === epoch && this.state === 'offline-pending') this.setState('offline', why);
    };
    if (attempt) {
      // offline() during online-pending: the online was abandoned; offline once it settles,
      // terminate if it has not settled after abortGrace.
      await attempt.done;
      const call = attempt.onlineCall;
      if (!call) return settle(`${reason} before online started`);
      await call.released;
      if (this.epoch !== epoch) return;
      if (!call.settled) {
        await this.terminateNow(`online did not settle within abortGrace (${this.env.abortGrace} ms) after ${reason}`);
        return settle(`${reason}; online did not settle within abortGrace, so it was terminated`);
      }
    }
    const { type } = this.binding;
    const out = await this.lane.run({
      entryPoint: 'offline',
      timeoutMs: this.policy.pendingTimeout,
      parent: stop,
      invoke: (call) => type.offline(this.context(call, epoch)),
    });
    this.afterCall('offline', out);
    if (this.epoch !== epoch) return;
    if (out.kind === 'ok') return settle(reason === 'offline() called' ? 'offline completed' : reason);
    if (out.kind === 'abandoned') return;
    const why =
      out.kind === 'timeout'
        ? `offline made no progress for ${out.timeoutMs} ms (pendingTimeout)`
        : `offline failed: ${reasonOf(out.error)}`;
    this.log.warn(`${why}; terminating`);
    await this.terminateNow(why);
    settle(`${why}; terminated`);
  }

  // ---- restart policy ----------------------------------------------------------------------

  /**
   * stableAfter: once the resource has been online that long, its restart window is emptied.
   * No restart can start while it is online, so doing it when anyone looks (inspect) or when the
   * online period ends (before a failure's restart policy reads the window) is the same as doing
   * it at that very moment, and costs no timer.
   */
  /** Online, and not being taken down by a terminate() that has not changed the state yet. */
  private inOnlinePeriod(): boolean {
    return this.state === 'online' && this.life !== null;
  }

  private noteStable(now: number): void {
    const after = this.policy.stableAfter;
    if (after <= 0 || !this.inOnlinePeriod()) return;
    const at = this.since + after;
    if (now < at) return;
    if (this.stableAt !== at) this.log.debug(`online since ${this.since} for stableAfter (${after} ms): restart window emptied`);
    this.stableAt = at;
    this.restarts.clear();
  }

  private applyRestartPolicy(epoch: number, cause: Error | null): void {
    if (this.disposed || this.epoch !== epoch || this.state !== 'failed') return;
    const p = this.policy;
    if (p.restartAction === 'none') return;
    // Asked to go offline (an offline() waiting for its dependents first): never restarted.
    if (this.target === 'offline') return;
    if (cause && isPermanentFailure(cause)) {
      // Bad properties (a hosted type's validate runs at the first call), or an OCF agent that is
      // not installed or not configured (exit 5 or 6), do not heal by restarting.
      this.log.error(`not restarted: ${cause.message}; fix the properties, then call online()`);
      return;
    }
    const now = this.env.clock.now();
    const inWindow = this.restarts.inWindow(now, p.restartPeriod);
    if (inWindow < p.restartThreshold) {
      const delay = restartDelayOf(p, inWindow);
      this.scheduleRestart(epoch, delay, inWindow + 1, false);
      return;
    }
    if (p.restartAction === 'restart-escalate' && this.env.wants('escalated')) {
      this.env.emit(
        'escalated',
        this.group === null
          ? { resource: this.name, at: now, restarts: inWindow, periodMs: p.restartPeriod }
          : { resource: this.name, at: now, restarts: inWindow, periodMs: p.restartPeriod, group: this.group },
      );
    }
    this.log.warn(`restart threshold spent (${inWindow} in ${p.restartPeriod} ms)`);
    if (p.retryPeriodOnFailure !== Number.POSITIVE_INFINITY) this.scheduleRestart(epoch, p.retryPeriodOnFailure, 1, true);
  }

  private scheduleRestart(epoch: number, delayMs: number, attempt: number, retry: boolean): void {
    const now = this.env.clock.now();
    this.nextRestartAt = now + delayMs;
    this.restartTimer = after(this.env.clock, delayMs, () => {
      this.restartTimer = null;
      this.nextRestartAt = null;
      if (this.disposed || this.epoch !== epoch || this.state !== 'failed' || this.target === 'offline') return;
      if (this.env.mayRestart && !this.env.mayRestart(this)) {
        // Its dependencies are down: the monitor takes it offline and brings it back with them.
        this.log.debug('restart not started: its dependencies are not online');
        return;
      }
      const at = this.env.clock.now();
      if (retry) this.restarts.clear();
      else this.restarts.record(at);
      this.startAttempt(retry ? `retry after ${delayMs} ms (retryPeriodOnFailure)` : `restart ${attempt} after ${delayMs} ms`);
    });
    if (this.env.wants('restartScheduled')) {
      this.env.emit('restartScheduled', { resource: this.name, at: now, attempt, delayMs, retry });
    }
  }

  private cancelRestart(): void {
    this.restartTimer?.cancel();
    this.restartTimer = null;
    this.nextRestartAt = null;
  }

  // ---- polls -------------------------------------------------------------------------------

  private async poll(kind: CheckKind, epoch: number): Promise<void> {
    const ok = await this.check(kind, epoch);
    // Stale once the resource left this online period (a failure, offline or terminate in the
    // microtask since the check ended): arming now would poll the next online period.
    if (ok === null || this.epoch !== epoch || this.state !== 'online') return;
    if (ok) {
      this.polls.arm(kind);
      return;
    }
    if (kind === 'isAlive') {
      // A failed isAlive below isAliveFailureThreshold: check again sooner.
      this.polls.arm('isAlive', this.isAliveRetryInterval());
      return;
    }
    // looksAlive failed: isAlive at once (unless one is already queued), which restarts its schedule;
    // but not while isAlive is failing below isAliveFailureThreshold: the next one is already
    // armed at the sooner interval, and hysteresis spaces the checks it counts (DESIGN §4).
    if (this.isFailures > 0 || !this.polls.claim('isAlive')) {
      this.polls.arm('looksAlive');
      return;
    }
    const deep = await this.check('isAlive', epoch);
    if (deep === null || this.epoch !== epoch || this.state !== 'online') return;
    this.polls.arm('isAlive', deep ? undefined : this.isAliveRetryInterval());
    this.polls.arm('looksAlive');
  }

  /** When the next isAlive runs after a failed one that left the resource online (DESIGN §4 hysteresis). */
  private isAliveRetryInterval(): number {
    const p = this.policy;
    return Math.min(p.isAlivePollInterval, p.looksAlivePollInterval || p.isAlivePollInterval);
  }

  /**
   * Runs one check; true/false for its verdict, null when it no longer counts or failed the
   * resource (a check past its deadline, or the isAliveFailureThreshold-th failed isAlive in a row).
   */
  private async check(kind: CheckKind, epoch: number): Promise<boolean | null> {
    const { type } = this.binding;
    const fn = kind === 'isAlive' ? type.isAlive : type.looksAlive;
    if (!fn || !this.life) return null;
    const out = await this.lane.run({
      entryPoint: kind,
      timeoutMs: this.policy.deadlockTimeout,
      parent: this.life.signal,
      invoke: (call) => fn.call(type, this.context(call, epoch)),
    });
    if (out.kind === 'abandoned' || this.epoch !== epoch || this.state !== 'online') return null;
    this.afterCall(kind, out);
    let reason: string | null = null;
    if (out.kind === 'ok') {
      if (out.value !== true) reason = out.value === false ? 'returned false' : `returned a non-boolean (${describeValue(out.value)})`;
    } else if (out.kind === 'error') {
      reason = `threw: ${reasonOf(out.error)}`;
    } else {
      reason = `passed deadlockTimeout (${out.timeoutMs} ms)`;
    }
    const at = this.env.clock.now();
    const failures = reason === null ? 0 : (kind === 'isAlive' ? this.isFailures : this.looksFailures) + 1;
    if (kind === 'isAlive') this.isFailures = failures;
    else this.looksFailures = failures;
    this.lastChecks[kind] = { ok: reason === null, at, durationMs: out.durationMs, reason, consecutiveFailures: failures };
    if (this.env.wants('check')) {
      this.env.emit(
        'check',
        reason === null
          ? { resource: this.name, at, kind, ok: true, durationMs: out.durationMs, consecutiveFailures: 0 }
          : { resource: this.name, at, kind, ok: false, durationMs: out.durationMs, reason, consecutiveFailures: failures },
      );
    }
    if (reason === null) return true;
    // A deadlocked check fails at once; a failed isAlive once isAliveFailureThreshold have failed in a row.
    if (out.kind === 'timeout' || (kind === 'isAlive' && failures >= this.policy.isAliveFailureThreshold)) {
      const times = failures > 1 && out.kind !== 'timeout' ? ` (${failures} in a row)` : '';
      this.fail(epoch, `${kind} ${reason}${times}`, null);
      return null;
    }
    return false;
  }

  // ---- live changes and control codes -------------------------------------------------------

  /** The latest properties accepted: those stored for the next online, else those in force. */
  configuredProperties(): unknown {
    return this.storedProps ? this.storedProps.value : this.properties;
  }

  /**
   * New properties, already validated (DESIGN §11). Online, with `applyProperties`: one call on
   * the lane; otherwise in force at once when nothing runs (offline, failed), else stored for
   * the next online.
   */
  async setProperties(next: unknown): Promise<PropertiesOutcome> {
    if (this.disposed) throw new MonitorClosedError(`setProperties("${this.name}")`);
    const seq = ++this.propsSeq;
    if (this.state === 'offline' || this.state === 'failed') {
      this.commitProps(seq, next);
      return 'applied';
    }
    const { type } = this.binding;
    const apply = type.applyProperties;
    const life = this.life;
    if (this.state !== 'online' || !life || !apply) {
      this.storeProps(seq, next);
      return 'stored';
    }
    const epoch = this.epoch;
    const out = await this.lane.run({
      entryPoint: 'applyProperties',
      timeoutMs: this.policy.deadlockTimeout,
      parent: life.signal,
      invoke: (call) => apply.call(type, this.context(call, epoch), next as Readonly<unknown>, this.properties as Readonly<unknown>),
    });
    this.afterCall('applyProperties', out);
    switch (out.kind) {
      case 'ok':
        if (out.value === 'stored') {
          this.storeProps(seq, next);
          return 'stored';
        }
        if (out.value !== undefined) {
          this.log.warn(`applyProperties returned ${describeValue(out.value)}; taken as applied (return nothing, or 'stored')`);
        }
        this.commitProps(seq, next);
        return 'applied';
      case 'error':
        throw isConfigError(out.error) ? out.error : toError(out.error, 'applyProperties rejected');
      case 'timeout':
        throw new CallTimeoutError(
          `resource "${this.name}": applyProperties passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned; the old properties stay in force`,
          out.timeoutMs,
        );
      case 'abandoned':
        // The online period ended before the change was applied: it takes effect at the next online.
        if (this.disposed) throw new MonitorClosedError(`setProperties("${this.name}")`);
        this.storeProps(seq, next);
        return 'stored';
    }
  }

  private commitProps(seq: number, value: unknown): void {
    if (seq > this.propsInForce) {
      this.properties = value;
      this.propsInForce = seq;
    }
    if (this.storedProps && this.storedProps.seq <= seq) this.storedProps = null;
  }

  private storeProps(seq: number, value: unknown): void {
    if (seq > this.propsInForce && (!this.storedProps || seq > this.storedProps.seq)) this.storedProps = { value, seq };
  }

  /**
   * A new resolved policy (and the own layer it came from), already validated. Applies to the
   * calls and restarts that start from now; while online both poll schedules are re-armed from
   * now. The restart window (the restarts it counts) is kept.
   */
  setPolicy(own: Partial<ResourcePolicy>, policy: ResourcePolicy): void {
    if (this.disposed) throw new MonitorClosedError(`setPolicy("${this.name}")`);
    this.ownPolicy = own;
    this.policy = policy;
    this.polls.configure(this.looksInterval(policy), policy.isAlivePollInterval, policy.pollJitter, this.state === 'online' && this.life !== null);
  }

  /**
   * A control code (DESIGN §11): the type's `control`, as one call on the lane bounded by
   * `deadlockTimeout`, then (absent, or it returned DEFAULT_PROCESSING) the monitor's own codes.
   */
  async control(code: string, input: unknown): Promise<unknown> {
    if (this.disposed) throw new MonitorClosedError(`control("${this.name}", "${code}")`);
    const { type } = this.binding;
    const fn = type.control;
    if (fn) {
      const out = await this.lane.run({
        entryPoint: 'control',
        timeoutMs: this.policy.deadlockTimeout,
        parent: this.ended.signal,
        // The epoch when it starts: a failure it reports counts against what runs then.
        invoke: (call) => fn.call(type, this.context(call, this.epoch), code, input),
      });
      this.afterCall('control', out);
      switch (out.kind) {
        case 'ok':
          if (out.value !== DEFAULT_PROCESSING) return out.value;
          break;
        case 'error':
          throw toError(out.error, `control("${code}") rejected`);
        case 'timeout':
          throw new CallTimeoutError(
            `resource "${this.name}": control("${code}") passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned`,
            out.timeoutMs,
          );
        case 'abandoned':
          if (this.disposed) throw new MonitorClosedError(`control("${this.name}", "${code}")`);
          throw new StateError(this.name, `control("${code}") was abandoned (terminate, offline or close preempted it)`);
      }
    }
    switch (code) {
      case 'get-properties':
        return this.configuredProperties();
      case 'get-policy':
        return { ...this.policy };
      case 'get-status':
        return this.inspect();
      default:
        throw new ConfigError(
          'code',
          code,
          `is not a control code that type "${this.typeName}" or the monitor knows (the monitor's own: ${MONITOR_CODES.join(', ')})`,
          { context: `control("${this.name}")` },
        );
    }
  }

  /** The looksAlive interval in force: 0 when the type has no looksAlive or reports failures itself. */
  private looksInterval(policy: ResourcePolicy): number {
    const { type } = this.binding;
    return type.looksAlive && type.reportsFailures !== true ? policy.looksAlivePollInterval : 0;
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Emits slowCall and callTimeout for a finished call. */
  private afterCall(entryPoint: EntryPoint, out: CallOutcome<unknown>): void {
    if (out.kind === 'timeout') {
      this.log.warn(`${entryPoint} passed its deadline of ${out.timeoutMs} ms and was abandoned`);
      if (this.env.wants('callTimeout')) {
        this.env.emit('callTimeout', { resource: this.name, at: this.env.clock.now(), entryPoint, timeoutMs: out.timeoutMs });
      }
      return;
    }
    if (out.kind === 'abandoned') return;
    const budget = this.policy.callBudget;
    // online and offline may take long asynchronously (WSFC's ERROR_IO_PENDING): only the time
    // they block the event loop before returning counts against the budget.
    const ms = entryPoint === 'online' || entryPoint === 'offline' ? (out.syncMs ?? 0) : out.durationMs;
    if (ms > budget && this.env.wants('slowCall')) {
      this.env.emit('slowCall', { resource: this.name, at: this.env.clock.now(), entryPoint, durationMs: ms, budgetMs: budget });
    }
  }

  private context(call: ActiveCall, epoch: number, handle: unknown = this.handle): ResourceContext<unknown, unknown> {
    const entryPoint = call.entryPoint;
    return {
      resource: this.name,
      properties: this.properties as Readonly<unknown>,
      handle,
      get signal() {
        return call.signal;
      },
      reportProgress: (message?: string, checkpoint?: number) => {
        if (!call.progress(this.env.clock.now()) || !this.env.wants('progress')) return;
        const event: ProgressEvent = { resource: this.name, at: this.env.clock.now(), entryPoint };
        if (message !== undefined) event.message = typeof message === 'string' ? message : describeValue(message);
        if (typeof checkpoint === 'number' && Number.isFinite(checkpoint)) event.checkpoint = checkpoint;
        this.env.emit('progress', event);
      },
      reportFailure: (reason?: unknown) => {
        if (this.env.delivering()) {
          // From inside a listener: act once the transition that emitted the event is done.
          queueMicrotask(() => this.reportFailure(epoch, entryPoint, reason));
          return;
        }
        this.reportFailure(epoch, entryPoint, reason);
      },
      log: this.logFor(entryPoint),
      ...(this.fencingToken === undefined ? {} : { fencingToken: this.fencingToken }),
    };
  }

  /** `ctx.reportFailure(reason)` from a call of `epoch`. Never throws, whatever `reason` is. */
  private reportFailure(epoch: number, entryPoint: EntryPoint, reason: unknown): void {
    const why = reason === undefined ? 'reportFailure() called' : `reportFailure: ${reasonOf(reason)}`;
    const cause = reason === undefined || this.state !== 'online-pending' ? null : toError(reason, 'reportFailure');
    if (!this.fail(epoch, why, cause)) {
      this.log.debug(`ignored ${why} from ${entryPoint} (the call's attempt is over, or the resource is not up)`);
    }
  }

  private logFor(entryPoint: EntryPoint): Logger {
    return (this.logs[entryPoint] ??= tagged(this.env.logger, { resource: this.name, entryPoint }));
  }

  private setState(to: ResourceState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    const at = this.env.clock.now();
    this.since = at;
    if (to === 'online-pending') {
      this.lastChecks.looksAlive = null;
      this.lastChecks.isAlive = null;
      this.looksFailures = this.isFailures = 0;
    }
    if (from === 'failed') this.failing = false;
    this.log.debug(`${from} -> ${to}: ${reason}`);
    if (this.env.wants('stateChange')) {
      this.env.emit('stateChange', { resource: this.name, at, from, to, reason, generation: this.generation });
    }
    if (this.waiters.size > 0) {
      const status = this.inspect();
      for (const waiter of this.waiters) if (waiter.state === to) waiter.resolve(status);
    }
    this.env.observe?.(this, from);
  }
}

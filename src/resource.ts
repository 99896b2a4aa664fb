import { type Abortable, AbortScope } from './abort-scope.js';
import { abandonment, OnlineAttempt } from './attempt.js';
import { CallLane } from './call.js';
import { runControl } from './control.js';
import { MonitorClosedError, reasonOf, StateError, toError } from './errors.js';
import { takeOffline } from './offline.js';
import { type Logger, tagged } from './logger.js';
import { PluginCalls } from './plugin-calls.js';
import type { ResourcePolicy } from './policy.js';
import { Poller } from './poller.js';
import { changeProperties, LiveProperties } from './properties.js';
import type { ResourceEnv } from './resource-env.js';
import { emitStateChange } from './resource-events.js';
import { applyRestartPolicy, RestartBook } from './restart.js';
import { StateWaiters } from './state-waiters.js';
import { resourceStatus } from './status.js';
import type { DependencyItem, EntryPoint, PropertiesOutcome, ResourceState, ResourceStatus, ResourceTarget, TypeBinding } from './types.js';

/**
 * One resource's state machine (DESIGN §3): online, offline, terminate, failure and restart, and
 * the end of its life in the monitor. Every transition goes through here; the monitor only
 * routes public calls. The calls into the plugin are `plugin-calls.ts`, the polls `poller.ts`,
 * the restart decision `restart.ts`.
 *
 * Ownership of the state: every operation that takes charge of the resource (an online attempt,
 * a failure, `offline()`, `terminate()`) draws the next number into `operation`; a task changes
 * the state only while its number (`op`) is still the one in charge, so a late result of an
 * earlier operation never changes anything. (`generation` counts only the online attempts.)
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
  /** The resource's own policy layer (what `addResource` and `setPolicy` gave it), kept by the monitor. */
  ownPolicy: Partial<ResourcePolicy> = {};
  /** A failure's terminate and restart decision are running. */
  private failing = false;
  /** The number of the operation in charge of the resource (see above). */
  private operation = 0;
  private readonly calls: PluginCalls;
  private readonly polls: Poller;
  private readonly props: LiveProperties;
  private readonly restarts = new RestartBook();
  private attempt: OnlineAttempt | null = null;
  /** Aborts the calls of the online period: aborted when the resource leaves online-pending/online. */
  private onlineAbort: AbortScope | null = null;
  /** Aborts the offline in progress when a `terminate()` supersedes it: an `offline` call not started yet never starts. */
  private offlineAbort: AbortController | null = null;
  /** The offline() or terminate() in progress, which online() and offline() wait for. */
  private transition: Promise<void> | null = null;
  /** The failure's terminate and restart scheduling, while failed. */
  /** A failure's terminate and restart decision are running (from fail() to their end). */
  private failureRunning = false;
  /** What online() and offline() wait on meanwhile: made only when one of them waits. */
  private failureWait: { promise: Promise<void>; resolve: () => void } | null = null;
  private disposed = false;
  private disposing: Promise<void> | null = null;
  private readonly waiters = new StateWaiters();
  /** Aborts the control calls once the resource is disposed (their parent; made by the first one). */
  private disposeAbort: AbortController | null = null;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    readonly typeName: string,
    readonly binding: TypeBinding,
    properties: unknown,
    public policy: ResourcePolicy,
    private readonly env: ResourceEnv<Resource>,
  ) {
    this.since = env.clock.now();
    this.props = new LiveProperties(properties);
    this.log = tagged(env.logger, { resource: name });
    this.calls = new PluginCalls(this, new CallLane(env.clock, env.abortGrace, name), env, this.props, this.log);
    this.polls = new Poller(this, this.calls, env, env.wheel);
  }

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
          const error = await (this.attempt as OnlineAttempt).done;
          if (error) throw error;
          return;
        }
        case 'offline-pending':
          // Only ever inside a transition (handled above); never spin on it.
          throw new StateError(this.name, 'offline-pending without an offline in progress (a resmon bug)');
        case 'failed':
          await this.failureDone();
          if (this.state !== 'failed' || this.transition) continue;
          this.restarts.cancelScheduled();
          this.restarts.clear();
          break;
        case 'offline':
          if (this.calls.terminating) {
            await this.calls.terminating;
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
   * `byOfflineCall`: this is `monitor.offline()` of this very resource, so the last state change
   * says `offline completed` instead of repeating `reason` (a dependency, a group, the close).
   */
  async offline(reason: string, byOfflineCall = false): Promise<void> {
    for (;;) {
      this.restarts.cancelScheduled();
      if (this.transition) {
        // offline() during offline-pending shares that offline; during terminate() it waits for it.
        await this.transition;
        continue;
      }
      switch (this.state) {
        case 'offline':
          if (this.calls.terminating) await this.calls.terminating;
          return;
        case 'offline-pending':
          throw new StateError(this.name, 'offline-pending without an offline in progress (a resmon bug)');
        case 'failed': {
          // Take charge now, as one transition that later offline() calls share: the failure's restart policy no longer
          // applies (no restart is scheduled, then cancelled, when its terminate ends); offline once that terminate ends.
          const op = ++this.operation;
          const failure = this.failureDone();
          await this.runAsTransition(
            (async () => {
              await failure;
              this.restarts.cancelScheduled();
              if (this.operation === op && this.state === 'failed') this.setState('offline', reason);
            })(),
          );
          // A terminate() that superseded this offline: resolve when it has ended.
          if (this.operation !== op) await this.transitionsDone();
          return;
        }
        case 'online':
        case 'online-pending': {
          const attempt = this.state === 'online-pending' ? this.attempt : null;
          const op = ++this.operation;
          this.endOnlinePeriod(reason);
          const offlineAbort = (this.offlineAbort = new AbortController());
          this.setState('offline-pending', reason);
          const completed = byOfflineCall ? 'offline completed' : reason;
          await this.runAsTransition(takeOffline(this, this.calls, this.log, this.env.abortGrace, op, attempt, reason, completed, offlineAbort.signal));
          // A terminate() that superseded this offline: resolve when it has ended.
          if (this.operation !== op) await this.transitionsDone();
          return;
        }
      }
    }
  }

  /** The hard stop: cancels any restart, abandons what runs, calls terminate; ends offline. */
  async terminate(reason = 'terminate() called'): Promise<void> {
    // Disposed (close() or removeResource() finishing) and offline: nothing is left to stop, and
    // the plugin is being closed; a terminate() now must not call into it.
    if (this.disposed && this.state === 'offline' && !this.transition && !this.calls.terminating) return;
    this.restarts.cancelScheduled();
    const op = ++this.operation;
    this.offlineAbort?.abort(new StateError(this.name, `offline abandoned: ${reason}`));
    this.offlineAbort = null;
    this.endOnlinePeriod(reason);
    await this.runAsTransition(
      (async () => {
        await this.calls.terminate(this.operation, reason); // joins a terminate already running
        if (this.operation === op && this.state !== 'offline') this.setState('offline', reason);
      })(),
    );
    // A later terminate() superseded this one: resolve when it has ended (the resource offline).
    if (this.operation !== op) await this.transitionsDone();
  }

  /** Resolves once no offline() or terminate() is in progress (a superseded one waits for those that took over). */
  private async transitionsDone(): Promise<void> {
    while (this.transition) await this.transition;
  }

  /** Makes `task` the transition in progress until it ends. */
  private runAsTransition(task: Promise<void>): Promise<void> {
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
    else if (this.state !== 'offline' || this.calls.terminating) await this.terminate(why);
    this.disposed = true;
    // Control calls still queued never start, one in flight is abandoned (nothing may reach the
    // plugin after close, no deadline stays armed).
    this.disposeAbort?.abort(new MonitorClosedError(`control("${this.name}")`));
    this.calls.preempt('the resource is being closed');
    this.restarts.cancelScheduled();
    if (this.state !== 'offline') {
      // A restart raced with the offline above: finish it the hard way.
      await this.terminate(why);
    }
    this.polls.stop();
    // A terminate() that came in meanwhile (to cut the shutdown short) runs to its end first, on the lane's usual terms
    // (abortGrace for an abandoned call): disposing the lane under it would start it without that wait.
    while (this.calls.terminating) await this.calls.terminating;
    const closing = this.calls.close(this.operation);
    if (closing) {
      const out = await closing;
      this.calls.ended('close', out);
      if (out.kind === 'error') this.log.warn({ err: out.error }, `close failed: ${reasonOf(out.error)}`);
    }
    // A terminate() that started meanwhile (a listener of the last state change, a second
    // Ctrl-C) finishes before the resource is gone: no call or deadline outlives close.
    await this.transitionsDone();
    if (this.calls.terminating) await this.calls.terminating;
    this.calls.dispose();
    this.waiters.rejectAll(new MonitorClosedError(`waitFor("${this.name}")`));
  }

  /** Resolves with `inspect()` once the resource is in `state` (at once if it is). */
  waitFor(state: ResourceState, timeout: number | undefined, signal: AbortSignal | undefined): Promise<ResourceStatus> {
    if (this.state === state) return Promise.resolve(this.inspect());
    if (this.disposed) return Promise.reject(new MonitorClosedError(`waitFor("${this.name}")`));
    const timedOut = () => `waitFor("${this.name}", "${state}") timed out after ${timeout} ms; it is ${this.state}`;
    return this.waiters.wait(state, timeout, signal, this.env.clock, timedOut);
  }

  /** A JSON-safe picture of the resource. */
  inspect(): ResourceStatus {
    const now = this.env.clock.now();
    this.noteStable(now);
    const stableAt = this.inOnlinePeriod() && this.policy.stableAfter > 0 ? this.since + this.policy.stableAfter : this.restarts.stableAt;
    return resourceStatus(this, this.polls.lastChecksNow(), this.restarts, now, stableAt);
  }

  /** Failed, and a restart (or the failure's terminate that decides on one) is coming. */
  get awaitingRestart(): boolean {
    return this.state === 'failed' && (this.failing || this.restarts.scheduled);
  }

  /** Its isolation host died or was killed: fail it if it was up, as a failed check would (the host layer abandons its calls). */
  hostFailed(reason: string): void {
    this.fail(this.operation, reason, null);
  }

  /** @internal A new online attempt (from online(), or a scheduled restart) starts. */
  startAttempt(reason: string): OnlineAttempt {
    // Properties stored while the resource ran take effect at this online.
    this.props.takeStored();
    const op = ++this.operation;
    this.generation++;
    const onlineAbort = new AbortScope();
    this.onlineAbort = onlineAbort;
    const attempt = new OnlineAttempt(op, onlineAbort);
    this.attempt = attempt;
    this.setState('online-pending', reason);
    attempt.start(this, this.calls, this.env.clock);
    return attempt;
  }

  /**
   * @internal The resource failed (a check, a deadline, reportFailure, a failed attempt): if `op` still
   * owns it and it is up, mark it failed, terminate it, then apply the restart policy.
   */
  fail(op: number, reason: string, cause: Error | null): boolean {
    // Only within an online period: not while terminate() or offline() is taking it down.
    if (op !== this.operation || !this.onlineAbort || (this.state !== 'online' && this.state !== 'online-pending')) return false;
    const attempt = this.attempt;
    if (cause && attempt && attempt.op === op && !attempt.failure) attempt.failure = cause;
    const own = ++this.operation;
    const why = `failed: ${reason}`;
    this.endOnlinePeriod(why);
    this.failing = true; // before the state change, so observers see a restart decision coming
    this.setState('failed', reason);
    this.log.warn(why);
    // The terminate and the restart decision go through the monitor's work queue: at once,
    // unless a burst of failures in this turn spent its budget (then in a later turn).
    this.failureRunning = true;
    this.env.work.run(() => {
      // Waited in the queue (a burst) while terminate() stopped the resource, or a new attempt
      // began: that took charge, and this terminate would hit what runs now. (offline() keeps
      // the state failed until this terminate has run.)
      if (this.operation !== own && this.state !== 'failed') {
        this.failureEnded();
        return;
      }
      void this.calls.terminate(own, why).then(() => {
        applyRestartPolicy(this, this.restarts, this.env, this.log, own, cause);
        this.failureEnded();
        if (this.operation !== own) return;
        this.failing = false;
        this.env.observe?.(this, this.state);
      });
    });
    return true;
  }

  /**
   * Resolves once the running failure's terminate and restart decision have run; undefined when
   * none runs. The promise is made for the first caller that waits (a storm of failures nobody
   * waits on makes none).
   */
  private failureDone(): Promise<void> | undefined {
    if (!this.failureRunning) return undefined;
    if (this.failureWait === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.failureWait = { promise, resolve };
    }
    return this.failureWait.promise;
  }

  private failureEnded(): void {
    this.failureRunning = false;
    const wait = this.failureWait;
    this.failureWait = null;
    wait?.resolve();
  }

  /** Leaves online-pending/online: stops polls and abandons the calls of that period. */
  private endOnlinePeriod(reason: string): void {
    this.noteStable(this.env.clock.now());
    this.polls.stop();
    const onlineAbort = this.onlineAbort;
    this.onlineAbort = null;
    if (onlineAbort && !onlineAbort.aborted) onlineAbort.abortWith(() => abandonment(this.name, reason));
    this.calls.preempt(reason);
  }

  /** Online, and not being taken down by a terminate() that has not changed the state yet. */
  private inOnlinePeriod(): boolean {
    return this.state === 'online' && this.onlineAbort !== null;
  }

  /** stableAfter: empties the restart window once this online period has lasted that long (see RestartBook). */
  private noteStable(now: number): void {
    if (this.inOnlinePeriod()) this.restarts.markStable(this.since, now, this.policy.stableAfter, this.log);
  }

  /** The latest properties accepted: those stored for the next online, else those in force. */
  configuredProperties(): unknown {
    return this.props.configured();
  }

  /** New properties, already validated: see `changeProperties`. */
  setProperties(next: unknown): Promise<PropertiesOutcome> {
    return changeProperties(this, this.calls, this.props, this.log, next);
  }

  /**
   * A new resolved policy (and the own layer it came from), already validated: for the calls and
   * restarts that start from now; while online both poll schedules re-arm from now. The restart window is kept.
   */
  setPolicy(own: Partial<ResourcePolicy>, policy: ResourcePolicy): void {
    if (this.disposed) throw new MonitorClosedError(`setPolicy("${this.name}")`);
    this.ownPolicy = own;
    this.policy = policy;
    this.polls.configure(policy, this.state === 'online' && this.onlineAbort !== null);
  }

  /** A control code: see `runControl`. */
  control(code: string, input: unknown): Promise<unknown> {
    if (this.disposed) return Promise.reject(new MonitorClosedError(`control("${this.name}", "${code}")`));
    return runControl(this, this.calls, (this.disposeAbort ??= new AbortController()).signal, code, input);
  }

  /** @internal dispose() has begun to refuse operations. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal The number of the operation in charge now. */
  currentOp(): number {
    return this.operation;
  }

  /** @internal Operation `op` is still in charge and the resource online. */
  stillOnline(op: number): boolean {
    return this.operation === op && this.state === 'online';
  }

  /** @internal Aborted when the online period ends; null outside one. */
  onlineSignal(): Abortable | null {
    return this.onlineAbort;
  }

  /** @internal `online` returned: online, if the attempt is still in charge. */
  wentOnline(attempt: OnlineAttempt): boolean {
    if (this.operation !== attempt.op || this.state !== 'online-pending') return false;
    attempt.onlineCall = null;
    // Its callers have its promise; the resource keeps no attempt while online.
    if (this.attempt === attempt) this.attempt = null;
    this.setState('online', 'online completed');
    this.polls.start();
    return true;
  }

  /** @internal Failed under `op` still, not disposed, not asked to go offline (asked: never restarted). */
  restartable(op: number): boolean {
    return !this.disposed && this.operation === op && this.state === 'failed' && this.target !== 'offline';
  }

  /** @internal Runs `fn` through the monitor's work queue (a restart, see `applyRestartPolicy`). */
  whenBudgetAllows(fn: () => void): void {
    this.env.work.run(fn);
  }

  /** @internal A restart is due: the monitor may refuse it (its dependencies are down). */
  mayRestart(): boolean {
    return this.env.mayRestart?.(this) ?? true;
  }

  /** @internal The offline of operation `op` is over. */
  wentOffline(op: number, why: string): void {
    if (this.operation === op && this.state === 'offline-pending') this.setState('offline', why);
  }

  /** @internal `ctx.reportFailure(reason)` from a call of `op`. Never throws, whatever `reason` is. */
  failureReported(op: number, entryPoint: EntryPoint, reason: unknown): void {
    const why = reason === undefined ? 'reportFailure() called' : `reportFailure: ${reasonOf(reason)}`;
    const cause = reason === undefined || this.state !== 'online-pending' ? null : toError(reason, 'reportFailure');
    if (!this.fail(op, why, cause)) {
      this.log.debug(`ignored ${why} from ${entryPoint} (the call's attempt is over, or the resource is not up)`);
    }
  }

  private setState(to: ResourceState, reason: string): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    const at = this.env.clock.now();
    this.since = at;
    if (to === 'online-pending') this.polls.reset();
    if (from === 'failed') this.failing = false;
    this.log.debug(`${from} -> ${to}: ${reason}`);
    emitStateChange(this.env, this.name, at, from, to, reason, this.generation);
    this.waiters.reached(to, this);
    this.env.observe?.(this, from);
  }
}

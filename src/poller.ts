import type { Abortable } from './abort-scope.js';
import type { CallOutcome } from './call.js';
import { describeValue, reasonOf } from './errors.js';
import type { PluginCalls } from './plugin-calls.js';
import type { ResourcePolicy } from './policy.js';
import { emitCheck, type EventSink } from './resource-events.js';
import { PollSchedule, type PollTarget } from './scheduler.js';
import type { TimerWheel } from './timer-wheel.js';
import type { CheckKind, CheckResult, TypeBinding } from './types.js';

/** What the poller needs from its resource (the resource itself: methods, so a resource carries no closures for it). */
export interface PollOwner {
  readonly name: string;
  readonly binding: TypeBinding;
  /** The policy in force. */
  readonly policy: ResourcePolicy;
  /** The number of the operation in charge of the resource now (see `Resource`). */
  currentOp(): number;
  /** Whether operation `op` is still in charge and the resource online: a check's verdict counts only then. */
  stillOnline(op: number): boolean;
  /** Aborted when the online period ends; null outside one (a check then does not start). */
  onlineSignal(): Abortable | null;
  /** A check failed the resource (a deadline, or the isAliveFailureThreshold-th failed isAlive in a row); `cause` is null. */
  fail(op: number, reason: string, cause: null): void;
}

/** Why a check's outcome is a failure, or null when it passed (it returned `true`). */
export function checkFailure(out: CallOutcome<unknown>): string | null {
  switch (out.kind) {
    case 'ok':
      if (out.value === true) return null;
      return out.value === false ? 'returned false' : `returned a non-boolean (${describeValue(out.value)})`;
    case 'error':
      return `threw: ${reasonOf(out.error)}`;
    case 'timeout':
      return `passed deadlockTimeout (${out.timeoutMs} ms)`;
    case 'abandoned':
      return 'was abandoned';
  }
}

/** The looksAlive interval in force: 0 when the type has no looksAlive or reports failures itself. */
function looksInterval(binding: TypeBinding, policy: ResourcePolicy): number {
  const { type } = binding;
  return type.looksAlive && type.reportsFailures !== true ? policy.looksAlivePollInterval : 0;
}

/**
 * The health polls of one resource while it is online (DESIGN §4, §5.3): the two schedules, the
 * looksAlive and isAlive calls on the lane, their verdicts, the failures in a row and the last
 * result of each kind. A failed looksAlive runs isAlive at once; a failed isAlive below
 * `isAliveFailureThreshold` runs the next one sooner; a check past its deadline, or the
 * threshold-th failed isAlive, fails the resource.
 *
 * This is the hot path of a running monitor: one poll costs moving its wheel entry, a lane call
 * and, when someone listens, a `check` event.
 */
export class Poller implements PollTarget {
  /** The last check of each kind in this online period (null before the first). */
  private readonly lastChecks: { looksAlive: CheckResult | null; isAlive: CheckResult | null } = { looksAlive: null, isAlive: null };
  /** Failed checks of each kind in a row in this online period (isAliveFailureThreshold). */
  private looksFailures = 0;
  private isFailures = 0;
  private readonly schedule: PollSchedule;
  /** The signal of the online period of operation `signalOp`. */
  private signal: Abortable | null = null;
  private signalOp = -1;

  constructor(
    private readonly owner: PollOwner,
    private readonly calls: PluginCalls,
    private readonly sink: EventSink,
    wheel: TimerWheel,
  ) {
    const policy = owner.policy;
    this.schedule = new PollSchedule(wheel, looksInterval(owner.binding, policy), policy.isAlivePollInterval, policy.pollJitter, this);
  }

  /** @internal The schedule's callback: a poll of `kind` is due. */
  pollDue(kind: CheckKind): void {
    this.poll(kind, this.owner.currentOp());
  }

  /** A copy of the last check of each kind (the poller rewrites its own entries check after check). */
  lastChecksNow(): { looksAlive: CheckResult | null; isAlive: CheckResult | null } {
    const { looksAlive, isAlive } = this.lastChecks;
    return { looksAlive: looksAlive && { ...looksAlive }, isAlive: isAlive && { ...isAlive } };
  }

  /** The resource went online: arm both schedules. */
  start(): void {
    this.schedule.start();
  }

  /** The online period ended: cancel both schedules (a check still running is ignored when it ends). */
  stop(): void {
    this.schedule.stop();
  }

  /** A new online period begins: forget the last checks and the failures in a row. */
  reset(): void {
    this.lastChecks.looksAlive = null;
    this.lastChecks.isAlive = null;
    this.looksFailures = this.isFailures = 0;
  }

  /** A new policy: the intervals change; while `running` (online) both schedules are re-armed from now. */
  configure(policy: ResourcePolicy, running: boolean): void {
    this.schedule.configure(looksInterval(this.owner.binding, policy), policy.isAlivePollInterval, policy.pollJitter, running);
  }

  /**
   * One poll. A check that answers synchronously is judged and followed up (the next poll armed,
   * isAlive at once after a failed looksAlive) in the same turn, with no promise; one that
   * returns a promise, or finds the lane busy, continues when it settles.
   */
  private poll(kind: CheckKind, op: number): void {
    const ok = this.check(kind, op);
    if (ok === null || ok === true || ok === false) this.polled(kind, op, ok);
    else void ok.then((v) => this.polled(kind, op, v));
  }

  private polled(kind: CheckKind, op: number, ok: boolean | null): void {
    // Stale once the resource left this online period (a failure, offline or terminate since the
    // check ended): arming now would poll the next online period.
    if (ok === null || !this.owner.stillOnline(op)) return;
    if (ok) {
      this.schedule.arm(kind);
      return;
    }
    if (kind === 'isAlive') {
      // A failed isAlive below isAliveFailureThreshold: check again sooner.
      this.schedule.arm('isAlive', this.isAliveRetryInterval());
      return;
    }
    // looksAlive failed: isAlive at once (unless one is already queued), which restarts its schedule;
    // but not while isAlive is failing below isAliveFailureThreshold: the next one is already
    // armed at the sooner interval, and hysteresis spaces the checks it counts (DESIGN §4).
    if (this.isFailures > 0 || !this.schedule.claim('isAlive')) {
      this.schedule.arm('looksAlive');
      return;
    }
    const deep = this.check('isAlive', op);
    if (deep === null || deep === true || deep === false) this.deepPolled(op, deep);
    else void deep.then((v) => this.deepPolled(op, v));
  }

  /** The isAlive run at once after a failed looksAlive ended: both schedules re-arm from now. */
  private deepPolled(op: number, deep: boolean | null): void {
    if (deep === null || !this.owner.stillOnline(op)) return;
    this.schedule.arm('isAlive', deep ? undefined : this.isAliveRetryInterval());
    this.schedule.arm('looksAlive');
  }

  /** When the next isAlive runs after a failed one that left the resource online (DESIGN §4 hysteresis). */
  private isAliveRetryInterval(): number {
    const p = this.owner.policy;
    return Math.min(p.isAlivePollInterval, p.looksAlivePollInterval || p.isAlivePollInterval);
  }

  /**
   * Runs one check; true/false for its verdict, null when it no longer counts or failed the
   * resource (a check past its deadline, or the isAliveFailureThreshold-th failed isAlive in a
   * row): at once when the lane is free and the plugin answers synchronously, else a promise.
   */
  private check(kind: CheckKind, op: number): boolean | null | Promise<boolean | null> {
    // The online period's signal, read once per period (AbortController's getters cost more
    // than the rest of a check); a check runs only while its operation is in charge and online.
    if (!this.owner.stillOnline(op)) return null;
    let signal = this.signal;
    if (this.signalOp !== op) {
      signal = this.signal = this.owner.onlineSignal();
      this.signalOp = op;
    }
    const running = signal && this.calls.check(kind, op, signal);
    if (!running) return null;
    if (running instanceof Promise) return running.then((out) => this.verdict(kind, op, out));
    return this.verdict(kind, op, running);
  }

  /** What the check's outcome says (see {@link check}): counts, `lastChecks`, the `check` event. */
  private verdict(kind: CheckKind, op: number, out: CallOutcome<unknown>): boolean | null {
    const { owner } = this;
    if (out.kind === 'abandoned' || !owner.stillOnline(op)) return null;
    this.calls.ended(kind, out);
    const reason = checkFailure(out);
    const at = this.sink.clock.now();
    const failures = reason === null ? 0 : (kind === 'isAlive' ? this.isFailures : this.looksFailures) + 1;
    if (kind === 'isAlive') this.isFailures = failures;
    else this.looksFailures = failures;
    // The entry of each kind is kept and rewritten (inspect() copies it).
    const last = this.lastChecks[kind];
    if (last === null) this.lastChecks[kind] = { ok: reason === null, at, durationMs: out.durationMs, reason, consecutiveFailures: failures };
    else {
      last.ok = reason === null;
      last.at = at;
      last.durationMs = out.durationMs;
      last.reason = reason;
      last.consecutiveFailures = failures;
    }
    emitCheck(this.sink, owner.name, kind, at, out.durationMs, reason, failures);
    if (reason === null) return true;
    // A deadlocked check fails at once; a failed isAlive once isAliveFailureThreshold have failed in a row.
    if (out.kind === 'timeout' || (kind === 'isAlive' && failures >= owner.policy.isAliveFailureThreshold)) {
      const times = failures > 1 && out.kind !== 'timeout' ? ` (${failures} in a row)` : '';
      owner.fail(op, `${kind} ${reason}${times}`, null);
      return null;
    }
    return false;
  }
}

import { after, type Clock, type Timer } from './clock.js';
import { isPermanentFailure } from './errors.js';
import type { Logger } from './logger.js';
import { type ResourcePolicy, restartDelayOf } from './policy.js';
import { emitEscalated, emitRestartScheduled, type EventSink } from './resource-events.js';

/**
 * The restart bookkeeping of one resource: when its restarts started, so the monitor can count
 * those within the sliding `restartPeriod` window (DESIGN §4), when a stable online period last
 * emptied that window (`stableAfter`), and the one restart a failed resource may have scheduled.
 */
export class RestartBook {
  /** Start times of the restarts still inside the window, oldest first. */
  private times: number[] = [];
  /** Restarts since the resource was added. */
  total = 0;
  /** When a stable online period last emptied the window (`stableAfter`), else null. */
  stableAt: number | null = null;
  /** When the scheduled restart is due (clock time), null when none is scheduled. */
  nextAt: number | null = null;
  private timer: Timer | null = null;

  /** A restart is scheduled and has not fired yet. */
  get scheduled(): boolean {
    return this.timer !== null;
  }

  /** Schedules `start` after `delayMs` on `clock` (cancel the one scheduled first). */
  schedule(clock: Clock, delayMs: number, start: () => void): void {
    this.nextAt = clock.now() + delayMs;
    this.timer = after(clock, delayMs, () => {
      this.timer = null;
      this.nextAt = null;
      start();
    });
  }

  /** Cancels the scheduled restart, if any. */
  cancelScheduled(): void {
    this.timer?.cancel();
    this.timer = null;
    this.nextAt = null;
  }

  /** Restarts that started within `period` before `now`; older ones leave the window for good. */
  inWindow(now: number, period: number): number {
    const from = now - period;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) <= from) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return this.times.length;
  }

  /** A restart's online starts now. */
  record(now: number): void {
    this.times.push(now);
    this.total++;
  }

  /** Empties the window (a retry, or `online()` on a failed resource). */
  clear(): void {
    this.times.length = 0;
  }

  /**
   * `stableAfter`: an online period that began at `since` and has lasted `stableAfter` ms by `now`
   * empties the window. No restart can start while the resource is online, so doing this when
   * anyone looks, or when the online period ends (before a failure's restart decision reads the
   * window), is the same as doing it at that very moment, and costs no timer. Says so on `log`
   * (debug) the first time it empties the window for that period, and returns true then.
   */
  markStable(since: number, now: number, stableAfter: number, log?: Logger): boolean {
    if (stableAfter <= 0) return false;
    const at = since + stableAfter;
    if (now < at) return false;
    const first = this.stableAt !== at;
    if (first) log?.debug(`online since ${since} for stableAfter (${stableAfter} ms): restart window emptied`);
    this.stableAt = at;
    this.clear();
    return first;
  }
}

/** What {@link planRestart} decided for a failed resource. */
export type RestartPlan =
  /** No restart: `restartAction` is `'none'`, or the failure is permanent (see `cause`). */
  | { readonly kind: 'none'; readonly permanent: Error | null }
  /** Restart after `delayMs`; `attempt` counts the restarts in the window, this one included. */
  | { readonly kind: 'restart'; readonly delayMs: number; readonly attempt: number }
  /**
   * The threshold is spent (`restarts` within `periodMs`): escalate when the action says so, and
   * retry after `retryMs` (`retryPeriodOnFailure`), or never when it is null.
   */
  | { readonly kind: 'spent'; readonly restarts: number; readonly periodMs: number; readonly escalate: boolean; readonly retryMs: number | null };

/**
 * The restart decision (DESIGN §4) for a resource that failed at `now` with `cause` (null when
 * no error stands behind the failure): a pure function of the policy and the restart window.
 * A permanent failure (bad properties, an OCF agent not installed or not configured) does not heal
 * by restarting; otherwise the resource restarts while the window holds fewer than
 * `restartThreshold` restarts, with the back-off delay of `restartDelayOf`.
 */
export function planRestart(policy: ResourcePolicy, book: RestartBook, now: number, cause: Error | null): RestartPlan {
  if (policy.restartAction === 'none') return { kind: 'none', permanent: null };
  if (cause && isPermanentFailure(cause)) return { kind: 'none', permanent: cause };
  const inWindow = book.inWindow(now, policy.restartPeriod);
  if (inWindow < policy.restartThreshold) return { kind: 'restart', delayMs: restartDelayOf(policy, inWindow), attempt: inWindow + 1 };
  return {
    kind: 'spent',
    restarts: inWindow,
    periodMs: policy.restartPeriod,
    escalate: policy.restartAction === 'restart-escalate',
    retryMs: policy.retryPeriodOnFailure === Number.POSITIVE_INFINITY ? null : policy.retryPeriodOnFailure,
  };
}

/** What applying the restart policy needs from a failed resource (the resource itself). */
export interface RestartOwner {
  readonly name: string;
  readonly group: string | null;
  readonly policy: ResourcePolicy;
  /** Failed under operation `op` still, and not disposed nor asked to go offline: a restart decision or a restart still applies. */
  restartable(op: number): boolean;
  /** A restart is due: false when the monitor refuses it now (its dependencies are down). */
  mayRestart(): boolean;
  /** Starts the restart's online attempt. */
  startAttempt(reason: string): void;
  /** Runs `fn` through the monitor's work queue (at once unless a burst spent this turn's budget). */
  whenBudgetAllows(fn: () => void): void;
}

/**
 * Applies the restart policy to a resource that failed under operation `op` with `cause`, once
 * the failure's terminate has ended: plans with {@link planRestart}, then logs, escalates and
 * schedules the restart (or the retry) on `book`. The restart, when due, starts only if the
 * resource is still restartable and the monitor allows it; a retry empties the window.
 */
export function applyRestartPolicy(owner: RestartOwner, book: RestartBook, sink: EventSink, log: Logger, op: number, cause: Error | null): void {
  if (!owner.restartable(op)) return;
  const plan = planRestart(owner.policy, book, sink.clock.now(), cause);
  const schedule = (delayMs: number, attempt: number, retry: boolean) => {
    book.schedule(sink.clock, delayMs, () => owner.whenBudgetAllows(() => {
      if (!owner.restartable(op)) return;
      if (!owner.mayRestart()) {
        // Its dependencies are down: the monitor takes it offline and brings it back with them.
        log.debug('restart not started: its dependencies are not online');
        return;
      }
      if (retry) book.clear();
      else book.record(sink.clock.now());
      owner.startAttempt(retry ? `retry after ${delayMs} ms (retryPeriodOnFailure)` : `restart ${attempt} after ${delayMs} ms`);
    }));
    emitRestartScheduled(sink, owner.name, attempt, delayMs, retry);
  };
  switch (plan.kind) {
    case 'none':
      if (plan.permanent) log.error(`not restarted: ${plan.permanent.message}; fix the properties, then call online()`);
      return;
    case 'restart':
      schedule(plan.delayMs, plan.attempt, false);
      return;
    case 'spent':
      if (plan.escalate) emitEscalated(sink, owner.name, plan.restarts, plan.periodMs, owner.group);
      log.warn(`restart threshold spent (${plan.restarts} in ${plan.periodMs} ms)`);
      if (plan.retryMs !== null) schedule(plan.retryMs, 1, true);
  }
}

import type { Clock } from './clock.js';

/** How many jobs run in one synchronous stretch before the rest wait for the next turn. */
export const WORK_BUDGET = 100;

/**
 * A monitor's bounded work queue for failures and restarts: a job runs at once while fewer than
 * `budget` have run in the current synchronous stretch (so one failure reacts exactly as fast
 * as without the queue); past that, jobs wait, in order, and run `budget` per turn of the event
 * loop, each turn a `clock.setTimeout(…, 0)`. A burst of 10,000 failures in one tick therefore
 * spreads over 100 turns instead of stalling the loop for all of them at once.
 *
 * The stretch ends at the next microtask checkpoint. Waiting jobs are kept in one array that
 * is reused once it has drained.
 */
export class WorkQueue {
  /** What waits, in order (a slot is cleared once its job has run). */
  private readonly jobs: ((() => void) | null)[] = [];
  private head = 0;
  /** Jobs run in the current synchronous stretch. */
  private ran = 0;
  private resetQueued = false;
  private handle: unknown = null;
  private readonly onReset = (): void => {
    this.ran = 0;
    this.resetQueued = false;
  };
  private readonly onTurn = (): void => this.drain();

  constructor(
    private readonly clock: Clock,
    readonly budget = WORK_BUDGET,
  ) {}

  /** Jobs waiting for a later turn. */
  get waiting(): number {
    return this.jobs.length - this.head;
  }

  /**
   * Runs `fn` now if the budget allows and nothing waits, else after what waits. `fn` should not
   * throw; a throw is reported as uncaught, never lost.
   */
  run(fn: () => void): void {
    if (this.head === this.jobs.length && this.ran < this.budget) {
      this.spend();
      this.call(fn);
      return;
    }
    this.jobs.push(fn);
    if (this.handle === null) this.handle = this.clock.setTimeout(this.onTurn, 0);
  }

  private spend(): void {
    this.ran++;
    if (!this.resetQueued) {
      this.resetQueued = true;
      queueMicrotask(this.onReset);
    }
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  /** One turn: up to `budget` waiting jobs, in order; the rest on the next turn. */
  private drain(): void {
    this.handle = null;
    // A turn of its own: the budget starts afresh.
    this.ran = 0;
    const { jobs } = this;
    while (this.head < jobs.length && this.ran < this.budget) {
      const i = this.head++;
      const fn = jobs[i] as () => void;
      jobs[i] = null;
      this.spend();
      this.call(fn);
    }
    if (this.head < jobs.length) this.handle = this.clock.setTimeout(this.onTurn, 0);
    else {
      jobs.length = 0;
      this.head = 0;
    }
  }
}

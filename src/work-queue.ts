import type { Clock } from './clock.js';

/** An owner of queued work: called once for each `add` of it. */
export interface Job {
  /** Runs the work tagged `tag`. Should not throw; a throw is reported as uncaught, never lost. */
  runJob(tag: number): void;
}

/** How many jobs run in one synchronous stretch before the rest wait for the next turn. */
export const WORK_BUDGET = 100;

/**
 * A monitor's bounded work queue for failures and restarts: a job runs at once while fewer than
 * `budget` have run in the current synchronous stretch (so one failure reacts exactly as fast
 * as without the queue); past that, jobs wait, in order, and run `budget` per turn of the event
 * loop, each turn a `clock.setTimeout(…, 0)`. A burst of 10,000 failures in one tick therefore
 * spreads over 100 turns instead of stalling the loop for all of them at once.
 *
 * The stretch ends at the next microtask checkpoint. Jobs are kept in two arrays (owner, tag),
 * so queueing allocates nothing once they have grown.
 */
export class WorkQueue {
  /** What waits: an owner with its tag, or a function (tag unused). */
  private readonly jobs: (Job | (() => void) | null)[] = [];
  private readonly tags: number[] = [];
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

  /** Runs `fn` now if the budget allows and nothing waits, else after what waits. */
  run(fn: () => void): void {
    this.add(fn, 0);
  }

  /** Runs `owner.runJob(tag)` now if the budget allows and nothing waits, else after what waits. */
  add(owner: Job | (() => void), tag: number): void {
    if (this.head === this.jobs.length && this.ran < this.budget) {
      this.spend();
      this.call(owner, tag);
      return;
    }
    this.jobs.push(owner);
    this.tags.push(tag);
    if (this.handle === null) this.handle = this.clock.setTimeout(this.onTurn, 0);
  }

  private spend(): void {
    this.ran++;
    if (!this.resetQueued) {
      this.resetQueued = true;
      queueMicrotask(this.onReset);
    }
  }

  private call(owner: Job | (() => void), tag: number): void {
    try {
      if (typeof owner === 'function') owner();
      else owner.runJob(tag);
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
    const { jobs, tags } = this;
    while (this.head < jobs.length && this.ran < this.budget) {
      const i = this.head++;
      const owner = jobs[i] as Job | (() => void);
      jobs[i] = null;
      this.spend();
      this.call(owner, tags[i] as number);
    }
    if (this.head < jobs.length) this.handle = this.clock.setTimeout(this.onTurn, 0);
    else {
      jobs.length = tags.length = 0;
      this.head = 0;
    }
  }
}

import type { TimerWheel, WheelEntry as Entry, WheelOwner } from './timer-wheel.js';
import { WheelEntry } from './timer-wheel.js';
import type { CheckKind } from './types.js';

const LOOKS = 0;
const IS = 1;

/** What a schedule calls when a poll is due (its owner: a method, not a closure per resource). */
export interface PollTarget {
  /** A poll of `kind` is due; the schedule counts its check as running from now. */
  pollDue(kind: CheckKind): void;
}

/**
 * The two poll schedules of one resource while it is online. Each kind has at most one poll
 * armed and at most one check running or queued: the next poll of a kind is armed from the end
 * of the previous one, so checks never pile up.
 *
 * Arming a poll is the hot path: it moves one of the schedule's two wheel entries (built once)
 * in the monitor's {@link TimerWheel}, which allocates nothing and arms no clock timer of its
 * own. A jittered delay is a whole number of milliseconds.
 */
export class PollSchedule implements WheelOwner {
  private readonly looks: Entry;
  private readonly is: Entry;
  /** A check of this kind is running or waiting for the lane. */
  private looksBusy = false;
  private isBusy = false;

  constructor(
    private readonly wheel: TimerWheel,
    private looksInterval: number,
    private isInterval: number,
    private jitter: number,
    private readonly target: PollTarget,
  ) {
    this.looks = new WheelEntry(this, LOOKS);
    this.is = new WheelEntry(this, IS);
  }

  /** @internal The wheel's callback. */
  onDue(tag: number): void {
    if (tag === LOOKS) {
      this.looksBusy = true;
      this.target.pollDue('looksAlive');
    } else {
      this.isBusy = true;
      this.target.pollDue('isAlive');
    }
  }

  /** Arms both schedules (looksAlive only when its interval is > 0). */
  start(): void {
    this.arm('isAlive');
    if (this.looksInterval > 0) this.arm('looksAlive');
  }

  /**
   * New intervals (a live policy change). While `running` (the resource is online), each kind
   * whose check is not running or queued is re-armed from now; one that is running is armed with
   * the new interval when it ends, so checks still never pile up.
   */
  configure(looksInterval: number, isInterval: number, jitter: number, running: boolean): void {
    this.looksInterval = looksInterval;
    this.isInterval = isInterval;
    this.jitter = jitter;
    if (!running) return;
    if (!this.isBusy) this.arm('isAlive');
    if (looksInterval <= 0) this.wheel.cancel(this.looks);
    else if (!this.looksBusy) this.arm('looksAlive');
  }

  /** Cancels both polls. A check already running finishes; its result is then ignored by the caller. */
  stop(): void {
    this.wheel.cancel(this.looks);
    this.wheel.cancel(this.is);
    this.looksBusy = this.isBusy = false;
  }

  /** Marks a check of `kind` as started outside its schedule (isAlive at once after a looksAlive failure). */
  claim(kind: CheckKind): boolean {
    if (kind === 'isAlive' ? this.isBusy : this.looksBusy) return false;
    if (kind === 'isAlive') {
      this.wheel.cancel(this.is);
      this.isBusy = true;
    } else {
      this.wheel.cancel(this.looks);
      this.looksBusy = true;
    }
    return true;
  }

  /**
   * A check of `kind` ended: arm the next one from now, after its interval (or after `interval`,
   * as the sooner isAlive after a failed one that did not fail the resource yet).
   */
  arm(kind: CheckKind, interval = kind === 'looksAlive' ? this.looksInterval : this.isInterval): void {
    if (interval <= 0) return;
    const delay = this.jitter > 0 ? interval + Math.floor(interval * this.jitter * Math.random()) : interval;
    if (kind === 'looksAlive') {
      this.wheel.schedule(this.looks, delay);
      this.looksBusy = false;
    } else {
      this.wheel.schedule(this.is, delay);
      this.isBusy = false;
    }
  }
}

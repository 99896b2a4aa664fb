import { after, type Clock, MAX_TIMER_MS, type Timer } from './clock.js';
import type { CheckKind } from './types.js';

/**
 * The two poll schedules of one resource while it is online. Each kind has at most one timer
 * armed and at most one check running or queued: the next poll of a kind is armed from the end
 * of the previous one (DESIGN §5.3), so checks never pile up.
 *
 * Arming a poll is the hot path: it costs one `clock.setTimeout` and nothing else (the timer
 * callbacks are built once per schedule). A jittered delay is a whole number of milliseconds:
 * Node keeps one timer list per distinct duration, so fractional delays would give every timer a
 * list of its own.
 */
export class PollSchedule {
  private looksHandle: unknown = null;
  private isHandle: unknown = null;
  /** A split timer (interval past setTimeout's limit) of each kind, else null. */
  private looksLong: Timer | null = null;
  private isLong: Timer | null = null;
  /** A check of this kind is running or waiting for the lane. */
  private looksBusy = false;
  private isBusy = false;

  constructor(
    private readonly clock: Clock,
    private looksInterval: number,
    private isInterval: number,
    private jitter: number,
    private readonly fire: (kind: CheckKind) => void,
  ) {}

  private readonly onLooks = (): void => {
    this.looksHandle = this.looksLong = null;
    this.looksBusy = true;
    this.fire('looksAlive');
  };

  private readonly onIs = (): void => {
    this.isHandle = this.isLong = null;
    this.isBusy = true;
    this.fire('isAlive');
  };

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
    if (looksInterval <= 0) this.cancel('looksAlive');
    else if (!this.looksBusy) this.arm('looksAlive');
  }

  /** Cancels both timers. A check already running finishes; its result is then ignored by the caller. */
  stop(): void {
    this.cancel('looksAlive');
    this.cancel('isAlive');
    this.looksBusy = this.isBusy = false;
  }

  /** Marks a check of `kind` as started outside its schedule (isAlive at once after a looksAlive failure). */
  claim(kind: CheckKind): boolean {
    if (kind === 'isAlive' ? this.isBusy : this.looksBusy) return false;
    this.cancel(kind);
    if (kind === 'isAlive') this.isBusy = true;
    else this.looksBusy = true;
    return true;
  }

  /**
   * A check of `kind` ended: arm the next one from now, after its interval (or after `interval`,
   * as the sooner isAlive after a failed one that did not fail the resource yet).
   */
  arm(kind: CheckKind, interval = kind === 'looksAlive' ? this.looksInterval : this.isInterval): void {
    const looks = kind === 'looksAlive';
    if (interval <= 0) return;
    const delay = this.jitter > 0 ? interval + Math.floor(interval * this.jitter * Math.random()) : interval;
    this.cancel(kind);
    const fn = looks ? this.onLooks : this.onIs;
    const long = delay > MAX_TIMER_MS ? after(this.clock, delay, fn) : null;
    const handle = long ? null : this.clock.setTimeout(fn, delay);
    if (looks) {
      this.looksHandle = handle;
      this.looksLong = long;
      this.looksBusy = false;
    } else {
      this.isHandle = handle;
      this.isLong = long;
      this.isBusy = false;
    }
  }

  private cancel(kind: CheckKind): void {
    if (kind === 'looksAlive') {
      if (this.looksHandle !== null) this.clock.clearTimeout(this.looksHandle);
      this.looksLong?.cancel();
      this.looksHandle = this.looksLong = null;
    } else {
      if (this.isHandle !== null) this.clock.clearTimeout(this.isHandle);
      this.isLong?.cancel();
      this.isHandle = this.isLong = null;
    }
  }
}

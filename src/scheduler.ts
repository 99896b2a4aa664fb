import { after, type Clock, type Timer } from './clock.js';
import type { CheckKind } from './types.js';

/**
 * The two poll schedules of one resource while it is online. Each kind has at most one timer
 * armed and at most one check running or queued: the next poll of a kind is armed from the end
 * of the previous one (DESIGN §5.3), so checks never pile up.
 */
export class PollSchedule {
  private looksTimer: Timer | null = null;
  private isTimer: Timer | null = null;
  /** A check of this kind is running or waiting for the lane. */
  private looksBusy = false;
  private isBusy = false;

  constructor(
    private readonly clock: Clock,
    private readonly looksInterval: number,
    private readonly isInterval: number,
    private readonly jitter: number,
    private readonly fire: (kind: CheckKind) => void,
  ) {}

  /** Arms both schedules (looksAlive only when its interval is > 0). */
  start(): void {
    this.arm('isAlive');
    if (this.looksInterval > 0) this.arm('looksAlive');
  }

  /** Cancels both timers. A check already running finishes; its result is then ignored by the caller. */
  stop(): void {
    this.looksTimer?.cancel();
    this.isTimer?.cancel();
    this.looksTimer = this.isTimer = null;
    this.looksBusy = this.isBusy = false;
  }

  /** Marks a check of `kind` as started outside its schedule (isAlive at once after a looksAlive failure). */
  claim(kind: CheckKind): boolean {
    if (kind === 'isAlive') {
      if (this.isBusy) return false;
      this.isTimer?.cancel();
      this.isTimer = null;
      this.isBusy = true;
    } else {
      if (this.looksBusy) return false;
      this.looksTimer?.cancel();
      this.looksTimer = null;
      this.looksBusy = true;
    }
    return true;
  }

  /** Whether a check of `kind` is running or queued. */
  busy(kind: CheckKind): boolean {
    return kind === 'isAlive' ? this.isBusy : this.looksBusy;
  }

  /** A check of `kind` ended: arm the next one from now. */
  arm(kind: CheckKind): void {
    const looks = kind === 'looksAlive';
    const interval = looks ? this.looksInterval : this.isInterval;
    if (interval <= 0) return;
    const delay = this.jitter > 0 ? interval * (1 + this.jitter * Math.random()) : interval;
    const timer = after(this.clock, delay, () => {
      if (looks) {
        this.looksTimer = null;
        this.looksBusy = true;
      } else {
        this.isTimer = null;
        this.isBusy = true;
      }
      this.fire(kind);
    });
    if (looks) {
      this.looksTimer?.cancel();
      this.looksTimer = timer;
      this.looksBusy = false;
    } else {
      this.isTimer?.cancel();
      this.isTimer = timer;
      this.isBusy = false;
    }
  }
}

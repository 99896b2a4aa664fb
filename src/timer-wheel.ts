import { type Clock, MAX_TIMER_MS } from './clock.js';

/** What a {@link WheelEntry} calls when it is due. */
export interface WheelOwner {
  /** The entry tagged `tag` is due. Called from the wheel's timer; a throw is reported, never lost. */
  onDue(tag: number): void;
}

/**
 * One thing a {@link TimerWheel} can schedule: owned by its user and reused for every arming, so
 * arming allocates nothing. An entry is in at most one slot at a time; scheduling it again moves it.
 */
export class WheelEntry {
  /** @internal When it is due, in whole milliseconds since the wheel's origin. */
  due = 0;
  /** @internal Arming order: entries due in the same millisecond run in this order. */
  seq = 0;
  /** @internal The slot it is linked in (see TimerWheel), -1 when not armed. */
  slot = -1;
  /** @internal */
  prev: WheelEntry | null = null;
  /** @internal */
  next: WheelEntry | null = null;

  constructor(
    readonly owner: WheelOwner,
    readonly tag: number,
  ) {}

  /** Scheduled and not yet run. */
  get armed(): boolean {
    return this.slot >= 0;
  }
}

// The levels: 256 slots of 1 ms, then four levels of 64 slots, each slot as long as the whole
// level below (256 ms, 16.4 s, 17.5 min, 18.6 h); past 49.7 days an entry waits in an overflow
// list. Slots are numbered in one flat space, so an entry's slot is one number.
const L0_SLOTS = 256;
const LN_SLOTS = 64;
const LEVELS = 5;
/** Slot length of each level, in ms. */
const SPAN = [1, 256, 16_384, 1_048_576, 67_108_864] as const;
/** First flat slot of each level. */
const BASE = [0, 256, 320, 384, 448] as const;
const OVERFLOW = 512;
/** The entries of the millisecond being run, taken out of their slot. */
const FIRING = 513;
const SLOTS = FIRING + 1;

/**
 * Every poll of a monitor on one clock timer: a hierarchical timing wheel (Varghese and Lauck,
 * the layout of Linux's timer wheel) whose entries are intrusive list nodes owned by their user,
 * so scheduling, moving and cancelling an entry are O(1) and allocate nothing, and 100,000
 * schedules cost one `clock.setTimeout` (armed for the earliest entry, re-armed only when an
 * earlier one comes or when it fires).
 *
 * Firing is exact to the millisecond: an entry due at `t` runs when the clock timer fires at `t`
 * (`clock.now()` then, with a fake clock, is `t`), never earlier. Higher levels are cascaded
 * down when the wheel's time enters their slot, and the next wake-up is the exact earliest due
 * time, so a quiet wheel wakes only when something is due.
 *
 * **Order.** Entries due in the same millisecond run in the order they were scheduled (the last
 * scheduling of each counts), one after the other in one callback of the wheel's timer, before
 * anything they queue (microtasks, other timers). Entries due at different times run in time
 * order. Relative to the clock's other timers due in the same millisecond, the wheel's timer
 * runs where the clock puts it: it was armed when the earliest of its entries was scheduled,
 * or when it last fired.
 */
export class TimerWheel {
  /** The wheel's time: every entry due before it has run. Whole ms since `origin`. */
  private cur = 0;
  private readonly origin: number;
  private seq = 0;
  private count = 0;
  private readonly heads: (WheelEntry | null)[] = new Array<WheelEntry | null>(SLOTS).fill(null);
  private readonly tails: (WheelEntry | null)[] = new Array<WheelEntry | null>(SLOTS).fill(null);
  /** One bit per slot: it is not empty. */
  private readonly bits = new Uint32Array(Math.ceil(SLOTS / 32));
  /** The clock timer, and the wheel time it is armed for (Infinity: none). */
  private handle: unknown = null;
  private timerDue = Number.POSITIVE_INFINITY;
  private running = false;
  /** While running: the wheel time the run goes up to. */
  private until = 0;
  private disposed = false;
  private readonly onTimer = (): void => this.fire();

  constructor(private readonly clock: Clock) {
    this.origin = Math.floor(clock.now());
  }

  /** How many entries are scheduled. */
  get size(): number {
    return this.count;
  }

  /**
   * Schedules `entry` to run after `delayMs` (at least 1 ms; an infinite delay never runs and
   * leaves the entry unarmed), moving it if it was scheduled already.
   */
  schedule(entry: WheelEntry, delayMs: number): void {
    if (entry.slot >= 0) this.unlink(entry);
    if (this.disposed || !(delayMs < Number.POSITIVE_INFINITY)) return;
    const due = Math.ceil(this.clock.now() - this.origin + (delayMs >= 1 ? delayMs : 1));
    // Never in the past of the wheel, nor (from an entry running now) in the run going on.
    const least = (this.running ? this.until : this.cur) + 1;
    entry.due = due >= least ? due : least;
    entry.seq = ++this.seq;
    this.count++;
    this.place(entry);
    if (entry.due < this.timerDue && !this.running) this.arm(entry.due);
  }

  /** Cancels `entry` (nothing when it is not armed). */
  cancel(entry: WheelEntry): void {
    if (entry.slot < 0) return;
    this.unlink(entry);
    // Nothing left to wait for: no timer stays armed (a fake clock counts none, a process can exit).
    if (this.count === 0 && !this.running) this.disarm();
  }

  /** Stops the clock timer for good; entries still scheduled never run. */
  dispose(): void {
    this.disposed = true;
    this.disarm();
  }

  // ---- the slots ------------------------------------------------------------------------------

  /** Links `entry` into the slot of its due time (in a millisecond's slot, after every entry scheduled before it). */
  private place(entry: WheelEntry): void {
    const due = entry.due;
    const cur = this.cur;
    let slot: number;
    if (due - cur < L0_SLOTS) slot = due & (L0_SLOTS - 1);
    else {
      slot = OVERFLOW;
      for (let level = 1; level < LEVELS; level++) {
        const span = SPAN[level] as number;
        const block = Math.floor(due / span);
        if (block - Math.floor(cur / span) < LN_SLOTS) {
          slot = (BASE[level] as number) + (block & (LN_SLOTS - 1));
          break;
        }
      }
    }
    entry.slot = slot;
    // A millisecond's slot keeps arming order: usually the newest entry (append); one coming
    // down from a coarser slot goes before those of its millisecond armed after it. A coarser
    // slot is unordered (its entries are ordered when they come down).
    let after = this.tails[slot] as WheelEntry | null;
    if (slot < L0_SLOTS) while (after !== null && after.seq > entry.seq) after = after.prev;
    const before = after === null ? this.heads[slot] : after.next;
    entry.prev = after;
    entry.next = before ?? null;
    if (after === null) this.heads[slot] = entry;
    else after.next = entry;
    if (before) before.prev = entry;
    else this.tails[slot] = entry;
    (this.bits as Uint32Array)[slot >>> 5] |= 1 << (slot & 31);
  }

  private unlink(entry: WheelEntry): void {
    const slot = entry.slot;
    const { prev, next } = entry;
    if (prev) prev.next = next;
    else this.heads[slot] = next;
    if (next) next.prev = prev;
    else this.tails[slot] = prev;
    if (this.heads[slot] === null) this.bits[slot >>> 5] &= ~(1 << (slot & 31));
    entry.prev = entry.next = null;
    entry.slot = -1;
    this.count--;
  }

  /**
   * The first non-empty slot of the level whose `n` slots start at flat slot `base` (both whole
   * words of the bitmap), from index `from` on and wrapping round; -1 when the level is empty.
   */
  private firstSet(base: number, n: number, from: number): number {
    const words = n >>> 5;
    const w0 = base >>> 5;
    const startWord = from >>> 5;
    const startBit = from & 31;
    for (let k = 0; k <= words; k++) {
      const wi = (startWord + k) % words;
      let w = this.bits[w0 + wi] as number;
      if (k === 0) w &= -1 << startBit;
      else if (k === words) w &= (1 << startBit) - 1;
      if (w !== 0) return wi * 32 + (31 - Math.clz32(w & -w));
    }
    return -1;
  }

  /** The earliest due time of any entry (Infinity when empty). */
  private nextDue(): number {
    if (this.count === 0) return Number.POSITIVE_INFINITY;
    const cur = this.cur;
    let best = Number.POSITIVE_INFINITY;
    const i0 = this.firstSet(0, L0_SLOTS, cur & (L0_SLOTS - 1));
    if (i0 >= 0) best = cur + ((i0 - cur) & (L0_SLOTS - 1));
    // A level's entries are all due after the current slot of that level: look up only while
    // the best so far is past it.
    for (let level = 1; level < LEVELS; level++) {
      const span = SPAN[level] as number;
      const curBlock = Math.floor(cur / span);
      if (best < (curBlock + 1) * span) return best;
      const i = this.firstSet(BASE[level] as number, LN_SLOTS, (curBlock + 1) & (LN_SLOTS - 1));
      if (i >= 0) best = Math.min(best, this.minOf((BASE[level] as number) + i));
    }
    if (this.heads[OVERFLOW] !== null) best = Math.min(best, this.minOf(OVERFLOW));
    return best;
  }

  private minOf(slot: number): number {
    let min = Number.POSITIVE_INFINITY;
    for (let e = this.heads[slot] as WheelEntry | null; e !== null; e = e.next) if (e.due < min) min = e.due;
    return min;
  }

  /** Moves the wheel's time to `to` (no entry is due before it), cascading the slots it enters. */
  private moveTo(to: number): void {
    const from = this.cur;
    if (to <= from) return;
    this.cur = to;
    if (Math.floor(to / (SPAN[LEVELS - 1] as number)) !== Math.floor(from / (SPAN[LEVELS - 1] as number))) this.cascade(OVERFLOW);
    for (let level = LEVELS - 1; level >= 1; level--) {
      const span = SPAN[level] as number;
      const block = Math.floor(to / span);
      if (block !== Math.floor(from / span)) this.cascade((BASE[level] as number) + (block & (LN_SLOTS - 1)));
    }
  }

  /** Re-places every entry of `slot` (they now belong lower down), keeping their order. */
  private cascade(slot: number): void {
    let e = this.heads[slot] as WheelEntry | null;
    if (e === null) return;
    this.heads[slot] = this.tails[slot] = null;
    this.bits[slot >>> 5] &= ~(1 << (slot & 31));
    while (e !== null) {
      const next: WheelEntry | null = e.next;
      this.place(e);
      e = next;
    }
  }

  // ---- the clock timer ------------------------------------------------------------------------

  private arm(due: number): void {
    this.disarm();
    if (this.disposed) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(this.origin + due - this.clock.now())));
    this.timerDue = due;
    this.handle = this.clock.setTimeout(this.onTimer, wait);
  }

  private disarm(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  /** The clock timer fired: run every entry due by now, in order, then arm for the next. */
  private fire(): void {
    const armedFor = this.timerDue;
    this.handle = null;
    this.timerDue = Number.POSITIVE_INFINITY;
    if (this.disposed) return;
    // The timer's own due time counts as reached even if the clock reads a hair earlier (Node's
    // timers and Date.now() are different clocks); a timer capped at MAX_TIMER_MS is not due.
    const now = Math.floor(this.clock.now() - this.origin);
    const until = armedFor < Number.POSITIVE_INFINITY && armedFor > now && armedFor - now <= 1 ? armedFor : now;
    this.running = true;
    this.until = until;
    try {
      for (;;) {
        const due = this.nextDue();
        if (due > until) break;
        this.moveTo(due);
        // Take the millisecond's entries out of their slot: what they schedule goes to a later
        // time, and one they cancel or move meanwhile leaves this list (it does not run).
        const slot = due & (L0_SLOTS - 1);
        let e = this.heads[slot] as WheelEntry | null;
        this.heads[FIRING] = e;
        this.tails[FIRING] = this.tails[slot] as WheelEntry | null;
        this.heads[slot] = this.tails[slot] = null;
        this.bits[slot >>> 5] &= ~(1 << (slot & 31));
        for (; e !== null; e = e.next) e.slot = FIRING;
        while ((e = this.heads[FIRING] as WheelEntry | null) !== null) {
          this.unlink(e);
          try {
            e.owner.onDue(e.tag);
          } catch (error) {
            // As a timer callback's throw would: reported, and the other entries still run.
            queueMicrotask(() => {
              throw error;
            });
          }
        }
      }
      this.moveTo(until);
    } finally {
      this.running = false;
    }
    const next = this.nextDue();
    if (next < Number.POSITIVE_INFINITY && !this.disposed) this.arm(next);
  }
}

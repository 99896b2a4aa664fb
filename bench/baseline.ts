/**
 * The floor resmon is measured against: what a user writes by hand instead of using resmon, a
 * setTimeout chain per resource that calls their checks, and on a failure terminates and
 * restarts. No lock, no deadline, no events, no state machine beyond a field: just enough to do
 * the same work as the scenario asks of resmon (the same check functions, intervals, jitter and
 * restart delay), written the way a careful user would (async/await, try/catch, re-arm from the
 * end of each check).
 */

/** What the baseline calls: the same shape as a resmon plugin's entry points, without a context. */
export interface HandChecks {
  online(): unknown;
  offline(): unknown;
  terminate(): unknown;
  looksAlive(): boolean | Promise<boolean>;
  isAlive(): boolean | Promise<boolean>;
}

export interface HandOptions {
  looksAlivePollInterval: number;
  isAlivePollInterval: number;
  pollJitter: number;
  restartDelay: number;
  /** The timer function (a sampling wrapper of setTimeout, or setTimeout itself). */
  setTimer?: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;
  /** Called on every state change (the hand-written loop's "event"). */
  onState?: (name: string, state: HandState) => void;
}

export type HandState = 'offline' | 'online-pending' | 'online' | 'offline-pending' | 'failed';

/** One hand-monitored resource. */
export class HandResource {
  state: HandState = 'offline';
  private looksTimer: ReturnType<typeof setTimeout> | undefined;
  private isTimer: ReturnType<typeof setTimeout> | undefined;
  private run = 0;

  constructor(
    readonly name: string,
    private readonly checks: HandChecks,
    private readonly o: HandOptions,
  ) {}

  private set(state: HandState): void {
    this.state = state;
    this.o.onState?.(this.name, state);
  }

  private delay(interval: number): number {
    // Whole milliseconds, as resmon does: Node keeps a timer list per distinct duration.
    return this.o.pollJitter > 0 ? interval + Math.floor(interval * this.o.pollJitter * Math.random()) : interval;
  }

  private armLooks(): void {
    const run = this.run;
    const setTimer = this.o.setTimer ?? setTimeout;
    this.looksTimer = setTimer(() => void this.looks(run), this.delay(this.o.looksAlivePollInterval));
  }

  private armIs(): void {
    const run = this.run;
    const setTimer = this.o.setTimer ?? setTimeout;
    clearTimeout(this.isTimer);
    this.isTimer = setTimer(() => void this.deep(run), this.delay(this.o.isAlivePollInterval));
  }

  private stopPolls(): void {
    this.run++;
    clearTimeout(this.looksTimer);
    clearTimeout(this.isTimer);
  }

  async online(): Promise<void> {
    this.set('online-pending');
    await this.checks.online();
    this.set('online');
    if (this.o.looksAlivePollInterval > 0) this.armLooks();
    this.armIs();
  }

  async offline(): Promise<void> {
    this.stopPolls();
    this.set('offline-pending');
    try {
      await this.checks.offline();
    } catch {
      await this.checks.terminate();
    }
    this.set('offline');
  }

  /** The resource failed: terminate it and restart after restartDelay. */
  fail(): void {
    if (this.state !== 'online') return;
    this.stopPolls();
    this.set('failed');
    void this.restart();
  }

  private async restart(): Promise<void> {
    try {
      await this.checks.terminate();
    } catch {
      // a hand-written loop logs and carries on
    }
    const setTimer = this.o.setTimer ?? setTimeout;
    setTimer(() => void this.online(), this.o.restartDelay);
  }

  private async looks(run: number): Promise<void> {
    let ok: boolean;
    try {
      ok = (await this.checks.looksAlive()) === true;
    } catch {
      ok = false;
    }
    if (run !== this.run) return;
    if (ok) this.armLooks();
    else await this.deep(run, true);
  }

  private async deep(run: number, thenLooks = false): Promise<void> {
    let ok: boolean;
    try {
      ok = (await this.checks.isAlive()) === true;
    } catch {
      ok = false;
    }
    if (run !== this.run) return;
    if (!ok) return this.fail();
    this.armIs();
    if (thenLooks) this.armLooks();
  }

  stop(): void {
    this.stopPolls();
    this.state = 'offline';
  }
}

/** What the synchronous loop calls: checks that answer at once. */
export interface SyncChecks {
  online(): unknown;
  offline(): unknown;
  terminate(): unknown;
  looksAlive(): boolean;
  isAlive(): boolean;
}

/**
 * The cheapest loop a user would write: a `setTimeout` chain per check kind calling a synchronous
 * check, re-armed at once when it passes; a failed looksAlive asks isAlive, a failed isAlive
 * terminates and restarts after the delay. No promise, no try/catch, no state beyond a field:
 * the floor under the floor, for checks that answer synchronously (a `kill(pid, 0)`, a flag).
 */
export class SyncResource {
  state: HandState = 'offline';
  private looksTimer: ReturnType<typeof setTimeout> | undefined;
  private isTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly setTimer: (fn: () => void, ms: number) => ReturnType<typeof setTimeout>;

  constructor(
    readonly name: string,
    private readonly checks: SyncChecks,
    private readonly o: HandOptions,
  ) {
    this.setTimer = o.setTimer ?? setTimeout;
  }

  private set(state: HandState): void {
    this.state = state;
    this.o.onState?.(this.name, state);
  }

  private delay(interval: number): number {
    return this.o.pollJitter > 0 ? interval + Math.floor(interval * this.o.pollJitter * Math.random()) : interval;
  }

  private readonly looks = (): void => {
    if (this.checks.looksAlive() || this.checks.isAlive()) this.looksTimer = this.setTimer(this.looks, this.delay(this.o.looksAlivePollInterval));
    else this.fail();
  };

  private readonly deep = (): void => {
    if (this.checks.isAlive()) this.isTimer = this.setTimer(this.deep, this.delay(this.o.isAlivePollInterval));
    else this.fail();
  };

  private readonly restart = (): void => void this.online();

  online(): void {
    this.set('online-pending');
    this.checks.online();
    this.set('online');
    if (this.o.looksAlivePollInterval > 0) this.looksTimer = this.setTimer(this.looks, this.delay(this.o.looksAlivePollInterval));
    this.isTimer = this.setTimer(this.deep, this.delay(this.o.isAlivePollInterval));
  }

  offline(): void {
    this.stop();
    this.set('offline-pending');
    this.checks.offline();
    this.set('offline');
  }

  fail(): void {
    if (this.state !== 'online') return;
    clearTimeout(this.looksTimer);
    clearTimeout(this.isTimer);
    this.set('failed');
    this.checks.terminate();
    this.setTimer(this.restart, this.o.restartDelay);
  }

  stop(): void {
    clearTimeout(this.looksTimer);
    clearTimeout(this.isTimer);
    this.state = 'offline';
  }
}

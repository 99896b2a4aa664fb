/**
 * The restart bookkeeping of one resource: when its restarts started, so the monitor can count
 * those within the sliding `restartPeriod` window (DESIGN §4).
 */
export class RestartBook {
  /** Start times of the restarts still inside the window, oldest first. */
  private times: number[] = [];
  /** Restarts since the resource was added. */
  total = 0;

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
}

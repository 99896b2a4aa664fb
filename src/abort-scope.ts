/**
 * What a call's `parent` is read for: whether it aborted and why. An `AbortSignal` is one; so
 * is an {@link AbortScope}, which costs far less to make and to abort.
 */
export interface Abortable {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/**
 * An abort that builds its `AbortController` only when someone asks for a real `signal` (a
 * wait that listens to it), and its reason only when someone reads it. The monitor makes one per
 * online period and aborts it on every failure, offline and terminate; the calls of the period
 * only read `aborted` (and `reason` when one is abandoned), so most periods never make either.
 * Aborting an AbortController builds and dispatches an Event, which made it the largest cost of
 * a failure (see docs/performance.md).
 */
export class AbortScope implements Abortable {
  aborted = false;
  private why: unknown = undefined;
  private makeWhy: (() => unknown) | null = null;
  private controller: AbortController | null = null;

  /** Why it aborted (built now if it was given as a function); undefined while not aborted. */
  get reason(): unknown {
    const make = this.makeWhy;
    if (make !== null) {
      this.makeWhy = null;
      this.why = make();
    }
    return this.why;
  }

  /** A real AbortSignal that follows this scope (made on first read; aborted already if the scope is). */
  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === null) {
      controller = this.controller = new AbortController();
      if (this.aborted) controller.abort(this.reason);
    }
    return controller.signal;
  }

  /** Aborts with `reason` (once; later calls do nothing). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.why = reason;
    this.controller?.abort(reason);
  }

  /** Aborts with the reason `make()` returns, built when first read (once; later calls do nothing). */
  abortWith(make: () => unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.controller !== null) this.controller.abort((this.why = make()));
    else this.makeWhy = make;
  }
}

import type { Abortable } from './abort-scope.js';
import { after, type Clock, MAX_TIMER_MS } from './clock.js';
import { CallTimeoutError, StateError } from './errors.js';
import type { EntryPoint } from './types.js';

/**
 * How one call into a plugin ended. `syncMs`: how long the plugin function ran before it
 * returned (its value or its promise), the time it blocked the event loop.
 */
export type CallOutcome<T> =
  | { kind: 'ok'; value: T; durationMs: number; syncMs?: number }
  | { kind: 'error'; error: unknown; durationMs: number; syncMs?: number }
  | { kind: 'timeout'; timeoutMs: number; durationMs: number; syncMs?: number }
  | { kind: 'abandoned'; durationMs: number; syncMs?: number };

const RESOLVED = Promise.resolve();

/**
 * One call in flight: what its context needs, and what terminate needs to preempt it.
 *
 * Cheap when nothing goes wrong (the hot path of every poll): the AbortController is built only
 * when someone reads `signal`, and the `released` promise only when someone awaits it.
 */
export class ActiveCall {
  /** The plugin's promise has settled (or the call returned synchronously). */
  settled = false;
  /** The call was abandoned (deadline, preemption, its parent aborted): nothing it does counts. */
  abandoned = false;
  /** Clock time of the last progress report (or of the start). */
  lastProgressAt: number;
  /** @internal The lane's hook, run once when the call is abandoned. */
  onAbandon: (() => void) | null = null;
  /** @internal The lane's hook, run when the plugin's promise settles after the call was given up. */
  onSettled: (() => void) | null = null;
  private controller: AbortController | null = null;
  private reason: unknown = undefined;
  private isReleased = false;
  private releasedPromise: Promise<void> | null = null;
  private resolveReleased: (() => void) | null = null;

  constructor(
    public entryPoint: EntryPoint,
    /** Progress resets the deadline (online, offline). */
    public pending: boolean,
    now: number,
    /** The operation this call belongs to (see {@link CallSpec.parent}). */
    public parent: Abortable | undefined,
  ) {
    this.lastProgressAt = now;
  }

  /** @internal Makes a finished call a new one (the lane's spare, see {@link CallLane.runNow}). */
  reuse(entryPoint: EntryPoint, now: number, parent: Abortable | undefined): void {
    this.entryPoint = entryPoint;
    this.pending = false;
    this.parent = parent;
    this.lastProgressAt = now;
    this.settled = this.abandoned = this.isReleased = false;
    this.onAbandon = this.onSettled = null;
    this.controller = null;
    this.reason = undefined;
    this.releasedPromise = null;
    this.resolveReleased = null;
  }

  /** The signal handed to the plugin: aborted, with the reason, when the call is abandoned. */
  get signal(): AbortSignal {
    let controller = this.controller;
    if (!controller) {
      controller = this.controller = new AbortController();
      if (this.abandoned) controller.abort(this.reason);
    }
    return controller.signal;
  }

  /**
   * Resolves once the lane is free again after this call (at once, or when an abandoned call
   * settles or `abortGrace` passes).
   */
  get released(): Promise<void> {
    if (this.isReleased) return RESOLVED;
    return (this.releasedPromise ??= new Promise<void>((resolve) => {
      this.resolveReleased = resolve;
    }));
  }

  /** Abandons the call: aborts its signal with `reason` (once; later calls do nothing). */
  abandon(reason: unknown): void {
    if (this.abandoned) return;
    this.abandoned = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onAbandon?.();
  }

  /** Records progress; false when the call cannot report progress (not pending, or abandoned). */
  progress(now: number): boolean {
    if (!this.pending || this.abandoned) return false;
    this.lastProgressAt = now;
    return true;
  }

  /** @internal The plugin's promise settled. */
  settle(): void {
    this.settled = true;
    const hook = this.onSettled;
    this.onSettled = null;
    hook?.();
  }

  /** @internal The lane released this call (resolves `released`); true the first time only. */
  markReleased(): boolean {
    if (this.isReleased) return false;
    this.isReleased = true;
    this.resolveReleased?.();
    return true;
  }
}

/** What one call needs: its entry point, its deadline, and how to call the plugin. */
export interface CallSpec<T> {
  entryPoint: EntryPoint;
  /** `pendingTimeout` for online and offline (re-armed by progress), `deadlockTimeout` for the rest. */
  timeoutMs: number;
  /**
   * Aborted when the operation this call belongs to is abandoned: a call whose parent is aborted
   * does not start, and `preempt()` (which the owner calls right after aborting the parent)
   * abandons the call in flight with the parent's reason.
   */
  parent?: Abortable | undefined;
  /** Takes the lock before the queued calls (terminate). */
  urgent?: boolean;
  /** Calls the plugin with a context built on `call`. */
  invoke(call: ActiveCall): T | Promise<T>;
}

/** What {@link CallLane.runNow} calls: an object reused from call to call, not a closure per call. */
export interface Invoker {
  /** Calls the plugin with a context built on (or pointed at) `call`. */
  invoke(call: ActiveCall): unknown;
  /** The call returned synchronously and is over: let go of it (the lanes reuse call objects). */
  ended(): void;
}

/**
 * A call that ended synchronously, for the next {@link CallLane.runNow} of any lane to reuse, and
 * runNow's `ok` outcome: one of each per process, not per resource (a synchronous call is over
 * before the next starts; the caller reads the outcome at once).
 */
let spare: ActiveCall | null = null;
const okNow: { kind: 'ok'; value: unknown; durationMs: number; syncMs: number } = { kind: 'ok', value: undefined, durationMs: 0, syncMs: 0 };

/** A call waiting for the lane. */
interface Waiter {
  readonly urgent: boolean;
  /** Hands the lane over; `grantedAt` is the preemption count at that moment. */
  readonly go: (grantedAt: number) => void;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The lane of one resource: its calls run one at a time (DESIGN §5.1), in the order they asked,
 * terminate first. A call that is abandoned (deadline, preemption) keeps the lane until it
 * settles or `abortGrace` passes, whichever is first; then the next call runs (§5.2).
 *
 * One verb for freeing the lane: a call *holds* it from the moment it is handed the lane; when
 * the call returns it is *released* (`releaseAfter`: at once, or for an abandoned call still
 * running once it settles or abortGrace passes; `release` does it once, and marks the call
 * released for whoever awaits `call.released`); releasing *hands the lane over* (`handOver`) to
 * the next waiter, or frees it.
 *
 * The hot path (a check on an idle lane that settles in time) allocates the call, its outcome and,
 * for a promise, one deadline timer: the lock is a flag and a queue built only under contention,
 * no listener is added to any signal, and no Error is built unless the deadline passes.
 * That is why the lane keeps its own deadline instead of `abortable()` (`abort.ts`, the primitive
 * for every other wait): p-timeout builds a wrapper promise, an Error with a stack trace and an
 * abort listener per wait, which made a check cost 2.7 to 6 times the CPU when the lane used it
 * (figures in the README's Architecture section).
 */
export class CallLane {
  /** A call holds the lane (running, or abandoned and still settling within abortGrace). */
  private held = false;
  /** Calls waiting for the lane, urgent ones first, each group in arrival order; built on first contention. */
  private queue: Waiter[] | null = null;
  private inflight: ActiveCall | null = null;
  /** An abandoned call still settling, and the abortGrace timer that will free the lane from it. */
  private draining: { call: ActiveCall; grace: { cancel(): void } } | null = null;
  /** dispose() was called. */
  private disposed = false;
  /** How many times preempt() was called (a call handed the lane before the last one is abandoned). */
  private preempts = 0;

  constructor(
    private readonly clock: Clock,
    private readonly abortGrace: number,
    private readonly resource: string,
  ) {}

  /**
   * Aborts the call in flight (it becomes abandoned); queued calls are left to their parents.
   * The owner calls this right after aborting a call's parent: the call is then abandoned with
   * the parent's reason (the lane does not listen to parents, which would cost a listener per
   * online period and an event dispatch per abort).
   */
  preempt(reason: string): void {
    this.preempts++;
    const call = this.inflight;
    if (call && call.entryPoint !== 'terminate' && !call.abandoned) {
      const parent = call.parent;
      call.abandon(parent?.aborted ? parent.reason : new StateError(this.resource, `${call.entryPoint} abandoned: ${reason}`));
    }
  }

  /** Runs one call: waits for the lane, calls the plugin, enforces the deadline. Never rejects. */
  async run<T>(spec: CallSpec<T>): Promise<CallOutcome<T>> {
    // Free lane: take it at once (the call still starts a microtask later, as a queued one would).
    let grantedAt: number;
    if (this.held) grantedAt = await this.wait(spec.urgent === true);
    else {
      this.held = true;
      grantedAt = this.preempts;
      await undefined;
    }
    const start = this.clock.now();
    const parent = spec.parent;
    // A preemption between the hand-over and the start abandons the call as if it had started
    // (terminate never waits behind a call that was about to run). On a disposed lane (the
    // resource is gone, its type's close ran) nothing starts: a call queued before is abandoned.
    if (this.disposed || parent?.aborted || (spec.urgent !== true && this.preempts !== grantedAt)) {
      this.handOver();
      return { kind: 'abandoned', durationMs: 0 };
    }
    const call = new ActiveCall(spec.entryPoint, spec.entryPoint === 'online' || spec.entryPoint === 'offline', start, parent);
    this.inflight = call;
    let raw: T | Promise<T>;
    try {
      raw = spec.invoke(call);
    } catch (error) {
      call.settled = true;
      this.releaseAfter(call);
      const ms = this.clock.now() - start;
      return { kind: 'error', error, durationMs: ms, syncMs: ms };
    }
    const syncMs = this.clock.now() - start;
    let thenable: boolean;
    try {
      thenable = isThenable(raw);
    } catch (error) {
      // A value whose `then` cannot be read (a getter that throws, a revoked Proxy): as a promise
      // would, it counts as a rejection with what the read threw.
      call.settled = true;
      this.releaseAfter(call);
      if (call.abandoned) return { kind: 'abandoned', durationMs: syncMs, syncMs };
      return { kind: 'error', error, durationMs: syncMs, syncMs };
    }
    if (!thenable) {
      call.settled = true;
      this.releaseAfter(call);
      // Abandoned while it ran (it reported a failure that preempted it): its result does not count.
      if (call.abandoned) return { kind: 'abandoned', durationMs: syncMs, syncMs };
      return { kind: 'ok', value: raw as T, durationMs: syncMs, syncMs };
    }
    const out = await this.race(call, raw as PromiseLike<T>, spec.timeoutMs, start);
    this.releaseAfter(call);
    out.syncMs = syncMs;
    return out;
  }

  /** Nothing holds the lane: {@link runNow} would run a call at once. */
  get free(): boolean {
    return !this.held && !this.disposed;
  }

  /**
   * The fast path of a check: when the lane is free, runs the call at once, in the caller's
   * turn, with no promise, no closure and (most times) no allocation: the call object is the
   * lane's spare, reused once a call has ended synchronously. Returns
   * - null when the lane is busy (nothing ran: use {@link run}),
   * - the outcome when the plugin answered synchronously: for `ok`, an object the lane reuses,
   *   to be read before the next call,
   * - a promise of the outcome when it returned a promise (raced against the deadline, as `run`).
   * Never rejects. Unlike `run`, the call starts before `runNow` returns; the caller makes sure
   * `parent` has not aborted (reading an AbortSignal's `aborted` costs more than the call).
   *
   * Its synchronous tail (invoke, a throw, an unreadable `then`, a plain value) repeats `run`'s on
   * purpose: `run` is async and its outcomes are fresh objects, this one must not allocate or
   * yield. A change to how a synchronous outcome is classified must be made in both.
   */
  runNow(entryPoint: EntryPoint, timeoutMs: number, parent: Abortable | undefined, invoker: Invoker): CallOutcome<unknown> | Promise<CallOutcome<unknown>> | null {
    if (this.held || this.disposed) return null;
    this.held = true;
    const start = this.clock.now();
    let call = spare;
    if (call !== null) {
      spare = null;
      call.reuse(entryPoint, start, parent);
    } else call = new ActiveCall(entryPoint, false, start, parent);
    this.inflight = call;
    let raw: unknown;
    try {
      raw = invoker.invoke(call);
    } catch (error) {
      call.settled = true;
      this.releaseAfter(call);
      const ms = this.clock.now() - start;
      return { kind: 'error', error, durationMs: ms, syncMs: ms };
    }
    const syncMs = this.clock.now() - start;
    let thenable: boolean;
    try {
      thenable = isThenable(raw);
    } catch (error) {
      call.settled = true;
      this.releaseAfter(call);
      if (call.abandoned) return { kind: 'abandoned', durationMs: syncMs, syncMs };
      return { kind: 'error', error, durationMs: syncMs, syncMs };
    }
    if (!thenable) {
      call.settled = true;
      this.releaseAfter(call);
      if (call.abandoned) return { kind: 'abandoned', durationMs: syncMs, syncMs };
      invoker.ended();
      spare = call;
      const out = okNow;
      out.value = raw;
      out.durationMs = out.syncMs = syncMs;
      return out;
    }
    const settled = call;
    return this.race(call, raw as PromiseLike<unknown>, timeoutMs, start).then((out) => {
      this.releaseAfter(settled);
      out.syncMs = syncMs;
      return out;
    });
  }

  /** Waits in the queue until the lane is handed over. */
  private wait(urgent: boolean): Promise<number> {
    return new Promise<number>((go) => {
      const queue = (this.queue ??= []);
      if (!urgent) {
        queue.push({ urgent, go });
        return;
      }
      let i = 0;
      while (i < queue.length && (queue[i] as Waiter).urgent) i++;
      queue.splice(i, 0, { urgent, go });
    });
  }

  /** Hands the lane to the next waiter, or frees it (a call that never started hands it over at once). */
  private handOver(): void {
    const next = this.queue?.shift();
    // A microtask later: the owner of the call that just ended acts on its outcome first (an
    // online that resolved makes the resource online before a queued call can report a failure).
    if (next) {
      const grantedAt = this.preempts;
      queueMicrotask(() => next.go(grantedAt));
    } else this.held = false;
  }

  /** The call returned: release the lane now, or, abandoned and still running, once it settles or abortGrace passes. */
  private releaseAfter(call: ActiveCall): void {
    if (this.inflight === call) this.inflight = null;
    // After dispose() nothing waits on the lane: an abandoned call still settling keeps no timer.
    if (call.settled || this.disposed) {
      this.release(call);
      return;
    }
    const grace = after(this.clock, this.abortGrace, () => this.release(call));
    this.draining = { call, grace };
    call.onSettled = () => {
      grace.cancel();
      this.release(call);
    };
  }

  /** `call` releases the lane (once: the first of settling and abortGrace wins) and hands it over. */
  private release(call: ActiveCall): void {
    if (this.draining?.call === call) this.draining = null;
    if (call.markReleased()) this.handOver();
  }

  /**
   * The resource is gone: stop waiting for an abandoned call to settle (cancel its abortGrace
   * timer), so nothing stays scheduled. Nothing runs on the lane afterwards.
   */
  dispose(): void {
    this.disposed = true;
    const draining = this.draining;
    if (!draining) return;
    draining.grace.cancel();
    draining.call.onSettled = null;
    this.release(draining.call);
  }

  /**
   * Waits for the plugin's promise, the deadline, or the call being abandoned, whichever is
   * first. The deadline is one timer (re-armed by progress for online and offline).
   */
  private race<T>(call: ActiveCall, raw: PromiseLike<T>, timeoutMs: number, start: number): Promise<CallOutcome<T>> {
    const clock = this.clock;
    return new Promise<CallOutcome<T>>((resolve) => {
      let done = false;
      let handle: unknown;
      let long: { cancel(): void } | null = null;
      const end = (out: CallOutcome<T>) => {
        if (done) return;
        done = true;
        if (long) long.cancel();
        else clock.clearTimeout(handle);
        call.onAbandon = null;
        resolve(out);
      };
      const arm = (ms: number) => {
        if (ms <= MAX_TIMER_MS) handle = clock.setTimeout(onDeadline, ms);
        else long = after(clock, ms, onDeadline);
      };
      const onDeadline = () => {
        if (done) return;
        long = null;
        const now = clock.now();
        const remaining = call.lastProgressAt + timeoutMs - now;
        if (call.pending && remaining > 0) {
          arm(remaining);
          return;
        }
        end({ kind: 'timeout', timeoutMs, durationMs: now - start });
        call.abandon(new CallTimeoutError(`${call.entryPoint} passed its deadline of ${timeoutMs} ms and was abandoned`, timeoutMs));
      };
      call.onAbandon = () => end({ kind: 'abandoned', durationMs: clock.now() - start });
      if (call.abandoned) {
        // Abandoned before it returned its promise (it reported a failure from inside the call).
        Promise.resolve(raw).then(
          () => call.settle(),
          () => call.settle(),
        );
        end({ kind: 'abandoned', durationMs: clock.now() - start });
        return;
      }
      // Promise.resolve: a foreign thenable whose then() throws becomes a rejection, not a throw.
      Promise.resolve(raw).then(
        (value) => {
          call.settle();
          end({ kind: 'ok', value, durationMs: clock.now() - start });
        },
        (error: unknown) => {
          call.settle();
          end({ kind: 'error', error, durationMs: clock.now() - start });
        },
      );
      arm(timeoutMs);
    });
  }
}

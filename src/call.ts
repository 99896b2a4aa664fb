import { Mutex } from 'async-mutex';
import pTimeout from 'p-timeout';
import { after, type Clock, timersOf } from './clock.js';
import { CallTimeoutError, StateError } from './errors.js';
import type { EntryPoint } from './types.js';

/** How one call into a plugin ended. */
export type CallOutcome<T> =
  | { kind: 'ok'; value: T; durationMs: number }
  | { kind: 'error'; error: unknown; durationMs: number }
  | { kind: 'timeout'; timeoutMs: number; durationMs: number }
  | { kind: 'abandoned'; durationMs: number };

/** One call in flight: what its context needs, and what terminate needs to preempt it. */
export class ActiveCall {
  /** Aborted when the call is abandoned. */
  readonly controller = new AbortController();
  /** The plugin's promise has settled (or the call returned synchronously). */
  settled = false;
  /** Clock time of the last progress report (or of the start). */
  lastProgressAt: number;
  /** Resolves once the lane is free again after this call (at once, or when an abandoned call settles or `abortGrace` passes). */
  readonly released: Promise<void>;
  /** @internal */
  markReleased!: () => void;

  constructor(
    readonly entryPoint: EntryPoint,
    /** Progress resets the deadline (online, offline). */
    readonly pending: boolean,
    now: number,
  ) {
    this.lastProgressAt = now;
    this.released = new Promise<void>((resolve) => {
      this.markReleased = resolve;
    });
  }

  /** The signal handed to the plugin. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Records progress; false when the call cannot report progress (not pending, or abandoned). */
  progress(now: number): boolean {
    if (!this.pending || this.controller.signal.aborted) return false;
    this.lastProgressAt = now;
    return true;
  }
}

/** What one call needs: its entry point, its deadline, and how to call the plugin. */
export interface CallSpec<T> {
  entryPoint: EntryPoint;
  /** `pendingTimeout` for online and offline (re-armed by progress), `deadlockTimeout` for the rest. */
  timeoutMs: number;
  /** Aborted when the operation this call belongs to is abandoned: the call is then abandoned too. */
  parent?: AbortSignal | undefined;
  /** Takes the lock before the queued calls (terminate). */
  urgent?: boolean;
  /** Calls the plugin with a context built on `call`. */
  invoke(call: ActiveCall): T | Promise<T>;
}

const TIMED_OUT = new Error('resmon: deadline');

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
 */
export class CallLane {
  private readonly mutex = new Mutex();
  private readonly timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  private inflight: ActiveCall | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly abortGrace: number,
    private readonly resource: string,
  ) {
    // p-timeout types its timers as Node's; ours split long waits and go through the clock.
    this.timers = timersOf(clock) as unknown as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  }

  /** The call running now, if any. */
  get current(): ActiveCall | null {
    return this.inflight;
  }

  /** Aborts the call in flight (it becomes abandoned); queued calls are left to their parents. */
  preempt(reason: string): void {
    const call = this.inflight;
    if (call && call.entryPoint !== 'terminate' && !call.controller.signal.aborted) {
      call.controller.abort(new StateError(this.resource, `${call.entryPoint} abandoned: ${reason}`));
    }
  }

  /** Runs one call: waits for the lane, calls the plugin, enforces the deadline. Never rejects. */
  async run<T>(spec: CallSpec<T>): Promise<CallOutcome<T>> {
    const unlock = await this.mutex.acquire(spec.urgent ? 1 : 0);
    const clock = this.clock;
    const start = clock.now();
    const parent = spec.parent;
    if (parent?.aborted) {
      unlock();
      return { kind: 'abandoned', durationMs: 0 };
    }
    const call = new ActiveCall(spec.entryPoint, spec.entryPoint === 'online' || spec.entryPoint === 'offline', start);
    const release = () => {
      unlock();
      call.markReleased();
    };
    this.inflight = call;
    let settleP: Promise<unknown> | null = null;
    const onParentAbort = () => call.controller.abort(parent?.reason);
    parent?.addEventListener('abort', onParentAbort, { once: true });
    try {
      let raw: T | Promise<T>;
      try {
        raw = spec.invoke(call);
      } catch (error) {
        call.settled = true;
        return { kind: 'error', error, durationMs: clock.now() - start };
      }
      if (!isThenable(raw)) {
        call.settled = true;
        return { kind: 'ok', value: raw, durationMs: clock.now() - start };
      }
      const promise = Promise.resolve(raw);
      settleP = promise.then(
        () => {
          call.settled = true;
        },
        () => {
          call.settled = true;
        },
      );
      return await this.await(call, promise, spec.timeoutMs, start);
    } finally {
      parent?.removeEventListener('abort', onParentAbort);
      if (this.inflight === call) this.inflight = null;
      if (call.settled || !settleP) {
        release();
      } else {
        // Abandoned and still running: hold the lane until it settles or abortGrace passes.
        const grace = after(clock, this.abortGrace, release);
        void settleP.then(() => {
          grace.cancel();
          release();
        });
      }
    }
  }

  private async await<T>(call: ActiveCall, promise: Promise<T>, timeoutMs: number, start: number): Promise<CallOutcome<T>> {
    const clock = this.clock;
    const customTimers = this.timers;
    let remaining = timeoutMs;
    for (;;) {
      try {
        const value = (await pTimeout(promise, { milliseconds: remaining, message: TIMED_OUT, customTimers, signal: call.signal })) as T;
        return { kind: 'ok', value, durationMs: clock.now() - start };
      } catch (error) {
        if (call.signal.aborted) return { kind: 'abandoned', durationMs: clock.now() - start };
        if (error !== TIMED_OUT) return { kind: 'error', error, durationMs: clock.now() - start };
        const now = clock.now();
        remaining = call.lastProgressAt + timeoutMs - now;
        if (call.pending && remaining > 0) continue;
        call.controller.abort(
          new CallTimeoutError(`${call.entryPoint} passed its deadline of ${timeoutMs} ms and was abandoned`, timeoutMs),
        );
        return { kind: 'timeout', timeoutMs, durationMs: now - start };
      }
    }
  }
}

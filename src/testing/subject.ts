import { describeValue } from '../errors.js';
import { silentLogger } from '../logger.js';
import type { EntryPoint, ResourceContext, ResourceType } from '../types.js';
import type { ConformanceLimits } from './options.js';
import type { CallDuration } from './report.js';

/** How one call ended. */
export type Outcome<T = unknown> =
  | { kind: 'ok'; value: T; ms: number }
  | { kind: 'error'; error: unknown; ms: number }
  | { kind: 'timeout'; ms: number };

/** A call in flight: its signal's controller, and its outcome once it settles (or times out). */
export interface InFlight<T = unknown> {
  readonly controller: AbortController;
  /** Settles with the outcome; never rejects. */
  readonly done: Promise<Outcome<T>>;
  /** Settles when the plugin's promise settles (no limit): the time from `start` in ms. */
  readonly settled: Promise<number>;
  readonly start: number;
}

/** A conformance case failed: the message is the report's reason. */
export class CaseFailure extends Error {}

/** The suite's own timers, so the leak case does not count them against the type. */
export const ownTimers = new WeakSet<object>();

/** Arms a timer of the suite's own. */
export function ownTimeout(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms);
  ownTimers.add(timer);
  return timer;
}

/** Wall-clock sleep with a timer that never outlives it. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => ownTimeout(resolve, ms));
}

/**
 * One resource of the type under test, driven by hand the way the monitor drives it: each entry
 * point gets a fresh context and signal, and each call is bounded by its limit so a hang fails a
 * case instead of hanging the suite. Records every call's duration.
 */
export class Subject<P = unknown, H = unknown> {
  readonly calls: CallDuration[] = [];
  readonly failures: unknown[] = [];
  handle: H | undefined = undefined;
  private opened = false;
  private closed = false;

  constructor(
    readonly type: ResourceType<P, H>,
    /** The properties in force (applyProperties may change them). */
    public properties: P,
    readonly name: string,
    readonly limits: ConformanceLimits,
    /** The type only observes the resource: it cannot take it down (see ConformanceOptions.observer). */
    readonly observer = false,
  ) {}

  private context(entryPoint: EntryPoint, signal: AbortSignal): ResourceContext<P, H> {
    return {
      resource: this.name,
      properties: this.properties,
      handle: this.handle as H,
      signal,
      reportProgress: () => {},
      reportFailure: (reason?: unknown) => {
        this.failures.push(reason ?? `reportFailure() from ${entryPoint}`);
      },
      log: silentLogger,
    };
  }

  private limitOf(entryPoint: EntryPoint): number {
    return entryPoint === 'online' || entryPoint === 'offline' ? this.limits.pendingTimeout : this.limits.deadlockTimeout;
  }

  /** Starts a call; `done` settles with its outcome within its limit. */
  start<T>(entryPoint: EntryPoint, invoke: (ctx: ResourceContext<P, H>) => T | Promise<T>, limit = this.limitOf(entryPoint)): InFlight<T> {
    const controller = new AbortController();
    const start = performance.now();
    const elapsed = () => performance.now() - start;
    let raw: Promise<T>;
    try {
      raw = Promise.resolve(invoke(this.context(entryPoint, controller.signal)));
    } catch (error) {
      raw = Promise.reject(error);
    }
    const settled = raw.then(elapsed, elapsed);
    const done = new Promise<Outcome<T>>((resolve) => {
      const timer = ownTimeout(() => resolve({ kind: 'timeout', ms: elapsed() }), limit);
      raw.then(
        (value) => {
          clearTimeout(timer);
          resolve({ kind: 'ok', value, ms: elapsed() });
        },
        (error: unknown) => {
          clearTimeout(timer);
          resolve({ kind: 'error', error, ms: elapsed() });
        },
      );
    }).then((out) => {
      this.calls.push({ entryPoint, ms: Math.round(out.ms * 10) / 10, outcome: out.kind });
      return out;
    });
    return { controller, done, settled, start };
  }

  /** Calls an entry point and waits for its outcome. */
  call<T>(entryPoint: EntryPoint, invoke: (ctx: ResourceContext<P, H>) => T | Promise<T>, limit?: number): Promise<Outcome<T>> {
    return this.start(entryPoint, invoke, limit).done;
  }

  /** Calls an entry point and fails the case unless it resolves in time. */
  async must<T>(entryPoint: EntryPoint, invoke: (ctx: ResourceContext<P, H>) => T | Promise<T>, what = entryPoint as string): Promise<T> {
    const out = await this.call(entryPoint, invoke);
    if (out.kind === 'ok') return out.value;
    if (out.kind === 'timeout') throw new CaseFailure(`${what} did not settle within ${this.limitOf(entryPoint)} ms`);
    throw new CaseFailure(`${what} failed: ${describeValue(out.error)}`);
  }

  /** `open` (once), as before the first online. */
  async open(): Promise<void> {
    if (this.opened) return;
    const open = this.type.open;
    if (open) this.handle = await this.must('open', (ctx) => open.call(this.type, ctx as unknown as ResourceContext<P, undefined>));
    this.opened = true;
  }

  async online(): Promise<void> {
    await this.open();
    await this.must('online', (ctx) => this.type.online(ctx));
  }

  async offline(): Promise<void> {
    await this.must('offline', (ctx) => this.type.offline(ctx));
  }

  async terminate(what = 'terminate'): Promise<void> {
    await this.must('terminate', (ctx) => this.type.terminate(ctx), what);
  }

  /** Runs a health check; true/false for its verdict, or fails the case when it throws a non-verdict or hangs. */
  async check(kind: 'isAlive' | 'looksAlive'): Promise<{ alive: boolean; why: string }> {
    const fn = kind === 'isAlive' ? this.type.isAlive : this.type.looksAlive;
    if (!fn) return { alive: true, why: 'absent' };
    const out = await this.call(kind, (ctx) => fn.call(this.type, ctx));
    if (out.kind === 'timeout') throw new CaseFailure(`${kind} did not settle within deadlockTimeout (${this.limits.deadlockTimeout} ms)`);
    if (out.kind === 'error') return { alive: false, why: `threw ${describeValue(out.error)}` };
    if (out.value === true) return { alive: true, why: 'returned true' };
    return { alive: false, why: out.value === false ? 'returned false' : `returned a non-boolean (${String(out.value)})` };
  }

  /** isAlive (and looksAlive, when present) must say the resource is up. */
  async expectUp(when: string): Promise<void> {
    for (const kind of ['isAlive', 'looksAlive'] as const) {
      if (kind === 'looksAlive' && !this.type.looksAlive) continue;
      const { alive, why } = await this.check(kind);
      if (!alive) throw new CaseFailure(`${kind} ${why} ${when}; expected true`);
    }
  }

  /** isAlive must say the resource is down (false, or a throw: both fail the case). */
  async expectDown(when: string): Promise<void> {
    if (this.observer) return;
    const { alive } = await this.check('isAlive');
    if (alive) throw new CaseFailure(`isAlive returned true ${when}: the resource is still up`);
  }

  /** Best-effort cleanup: terminate (ignoring errors), then close. Bounded by the limits. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.opened) return;
    await this.call('terminate', (ctx) => this.type.terminate(ctx));
    const close = this.type.close;
    if (close) await this.call('close', (ctx) => close.call(this.type, ctx));
  }
}

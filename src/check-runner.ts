import type { ActiveCall, Invoker } from './call.js';
import type { Logger } from './logger.js';
import type { CheckKind, EntryPoint, ResourceContext, ResourceType } from './types.js';

/** What the checks' context needs from its resource. */
export interface CheckHost {
  readonly name: string;
  /** `ctx.reportFailure(reason)` from a call of operation `op`. Must not throw. */
  failureReported(op: number, entryPoint: EntryPoint, reason: unknown): void;
}

/** What it needs from the monitor: whether event listeners are running now. */
export interface CheckEnv {
  delivering(): boolean;
}

/**
 * A check's `ctx.reportProgress`: progress resets the deadline of `online` and `offline` only,
 * so from a check it does nothing (as from a fresh context), and one function serves them all.
 */
function noProgress(): void {}

/** The signal of a check that has ended: never aborted. */
const NEVER_ABORTED = new AbortController().signal;

type Check = NonNullable<ResourceType['looksAlive']>;
/** The context as this runner holds it: its per-check fields writable. */
interface MutableContext extends Omit<ResourceContext<unknown, unknown>, 'properties' | 'handle' | 'log' | 'fencingToken'> {
  fencingToken?: number;
  properties: unknown;
  handle: unknown;
  log: Logger;
}

/**
 * Calls a resource's checks (looksAlive, isAlive) on its lane: one object per resource, reused
 * for every check, and one context per online period, reused by every check of that period.
 * A check started by `CallLane.runNow` costs no closure and no context object; the context's `signal` is the running call's,
 * built only when the plugin reads it.
 *
 * What a check sees in its context is what it would see in a fresh one: the properties, handle
 * and fencing token in force when it starts, its own `signal` and `log`. A plugin that keeps the
 * context past its check reads the next check's values there (keep what you need, not the
 * context).
 */
export class CheckRunner implements Invoker {
  /** The check about to run or running. */
  kind: CheckKind = 'looksAlive';
  private fn: Check | null = null;
  private type: ResourceType<unknown, unknown> | null = null;
  /** The call in flight (the context's `signal` is its); null once a synchronous one ended. */
  call: ActiveCall | null = null;
  /** The context of operation `op` (an online period). */
  private ctx: MutableContext | null = null;
  private op = -1;

  constructor(
    private readonly host: CheckHost,
    private readonly env: CheckEnv,
  ) {}

  /**
   * Sets up the next check: `fn` of `type`, of `kind`, for operation `op`, with the properties,
   * handle, fencing token and logger in force now. Then hand this runner to the lane (only to a
   * lane that runs it at once: a queued check would find the runner set up for another).
   */
  prepare(
    kind: CheckKind,
    fn: Check,
    type: ResourceType<unknown, unknown>,
    op: number,
    properties: unknown,
    handle: unknown,
    fencingToken: number | undefined,
    log: Logger,
  ): this {
    this.fn = fn;
    this.type = type;
    this.kind = kind;
    let ctx = this.ctx;
    if (ctx === null || this.op !== op || ctx.fencingToken !== fencingToken) ctx = this.build(op, fencingToken);
    ctx.properties = properties;
    ctx.handle = handle;
    ctx.log = log;
    return this;
  }

  /** @internal The lane's callback: the call ended synchronously (the lane reuses the call object). */
  ended(): void {
    this.call = null;
  }

  /** @internal The lane's callback. */
  invoke(call: ActiveCall): unknown {
    this.call = call;
    return (this.fn as Check).call(this.type, this.ctx as unknown as ResourceContext<unknown, unknown>);
  }

  private build(op: number, fencingToken: number | undefined): MutableContext {
    const ctx = new CheckContext(this, this.host, this.env, op, fencingToken);
    this.ctx = ctx;
    this.op = op;
    return ctx;
  }
}

/** Where a check context finds its runner (not enumerable: `{ ...ctx }` copies what a fresh context has). */
const RUNNER = Symbol('resmon.checkRunner');

/** `ctx.signal` of every check context: one function, reading the context's runner. */
function signalOf(this: CheckContext): AbortSignal {
  // After a check that returned synchronously, its call is over: nothing aborts it any more.
  const call = this[RUNNER].call;
  return call === null ? NEVER_ABORTED : call.signal;
}

/**
 * The context of a resource's checks in one online period. A class, not an object literal: a
 * literal with a getter is kept in dictionary mode (a hash table, ~0.5 KB per resource);
 * instances share one map, `signal` is an own accessor with one getter for all of them, and
 * the properties are own and enumerable as in a fresh context.
 */
class CheckContext implements MutableContext {
  resource: string;
  properties: unknown = undefined;
  handle: unknown = undefined;
  declare readonly signal: AbortSignal;
  reportProgress: (message?: string, checkpoint?: number) => void = noProgress;
  reportFailure: (reason?: unknown) => void;
  log: Logger = undefined as unknown as Logger;
  declare fencingToken?: number;
  declare [RUNNER]: CheckRunner;

  constructor(runner: CheckRunner, host: CheckHost, env: CheckEnv, op: number, fencingToken: number | undefined) {
    this.resource = host.name;
    Object.defineProperty(this, 'signal', { get: signalOf, enumerable: true, configurable: true });
    this.reportProgress = noProgress;
    this.reportFailure = (reason?: unknown) => {
      const entryPoint = runner.kind;
      // From inside a listener: act once the transition that emitted the event is done.
      if (env.delivering()) queueMicrotask(() => host.failureReported(op, entryPoint, reason));
      else host.failureReported(op, entryPoint, reason);
    };
    this.log = undefined as unknown as Logger;
    if (fencingToken !== undefined) this.fencingToken = fencingToken;
    Object.defineProperty(this, RUNNER, { value: runner, enumerable: false, writable: false });
  }
}

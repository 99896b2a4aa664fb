import type { ActiveCall } from './call.js';
import { describeValue } from './errors.js';
import type { ProgressEvent } from './events.js';
import { type Logger, tagged } from './logger.js';
import type { EventSink } from './resource-events.js';
import type { EntryPoint, ResourceContext } from './types.js';

/** What the contexts of a resource's calls need from its monitor. */
export interface ContextEnv extends EventSink {
  readonly logger: Logger;
  /** Listeners are running now (a call from one of them waits a microtask, see the monitor). */
  delivering(): boolean;
}

/** Who hears `ctx.reportFailure` (the resource itself). */
export interface FailureOwner {
  /** `ctx.reportFailure(reason)` from a call of operation `op`. Must not throw. */
  failureReported(op: number, entryPoint: EntryPoint, reason: unknown): void;
}

/**
 * Builds the `ctx` each call into the plugin receives, for one resource. `reportFailure` is
 * handed the number of the operation that made the call (`op`), so a failure reported by a call
 * of an operation that has ended is recognised as stale by the resource.
 *
 * Built for every call (every poll): one object and two closures; `signal` is a getter, so the
 * call's AbortController is made only when the plugin reads it.
 */
export class ContextBuilder {
  /** The tagged logger of each entry point, made on first use. */
  private readonly logs: Partial<Record<EntryPoint, Logger>> = {};

  constructor(
    private readonly resource: string,
    private readonly env: ContextEnv,
    private readonly owner: FailureOwner,
  ) {}

  /** The context of `call`, made by operation `op` with these properties, handle and fencing token. */
  build(call: ActiveCall, op: number, properties: unknown, handle: unknown, fencingToken: number | undefined): ResourceContext<unknown, unknown> {
    const { env, resource } = this;
    const entryPoint = call.entryPoint;
    return {
      resource,
      properties: properties as Readonly<unknown>,
      handle,
      get signal() {
        return call.signal;
      },
      reportProgress: (message?: string, checkpoint?: number) => {
        if (!call.progress(env.clock.now()) || !env.wants('progress')) return;
        const event: ProgressEvent = { resource, at: env.clock.now(), entryPoint };
        if (message !== undefined) event.message = typeof message === 'string' ? message : describeValue(message);
        if (typeof checkpoint === 'number' && Number.isFinite(checkpoint)) event.checkpoint = checkpoint;
        env.emit('progress', event);
      },
      reportFailure: (reason?: unknown) => {
        if (env.delivering()) {
          // From inside a listener: act once the transition that emitted the event is done.
          queueMicrotask(() => this.owner.failureReported(op, entryPoint, reason));
          return;
        }
        this.owner.failureReported(op, entryPoint, reason);
      },
      log: this.logFor(entryPoint),
      ...(fencingToken === undefined ? {} : { fencingToken }),
    };
  }

  private logFor(entryPoint: EntryPoint): Logger {
    return (this.logs[entryPoint] ??= tagged(this.env.logger, { resource: this.resource, entryPoint }));
  }
}

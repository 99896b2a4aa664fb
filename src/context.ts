import type { ActiveCall } from './call.js';
import { describeValue } from './errors.js';
import type { ProgressEvent } from './events.js';
import type { Logger } from './logger.js';
import type { EventSink } from './resource-events.js';
import type { EntryPoint, ResourceContext } from './types.js';

/** What the contexts of a resource's calls need from its monitor. */
export interface ContextEnv extends EventSink {
  readonly logger: Logger;
  /** Listeners are running now (a call from one of them waits a microtask, see the monitor). */
  delivering(): boolean;
}

/** The resource a context belongs to (the resource itself). */
export interface ContextOwner {
  readonly name: string;
  /** `ctx.reportFailure(reason)` from a call of operation `op`. Must not throw. */
  failureReported(op: number, entryPoint: EntryPoint, reason: unknown): void;
}

/**
 * The `ctx` a call into the plugin receives: made for `call`, by operation `op` of `owner`, with
 * the properties, handle and fencing token in force, and `log` tagged with the entry point.
 * `reportFailure` carries `op`, so a failure reported by a call of an operation that has ended is
 * recognised as stale; from inside an event listener it waits a microtask, until the transition
 * that emitted the event is done.
 *
 * Built for every call (every poll): one object and two closures; `signal` is a getter, so the
 * call's AbortController is made only when the plugin reads it.
 */
export function pluginContext(
  call: ActiveCall,
  op: number,
  owner: ContextOwner,
  env: ContextEnv,
  log: Logger,
  properties: unknown,
  handle: unknown,
  fencingToken: number | undefined,
): ResourceContext<unknown, unknown> {
  const resource = owner.name;
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
        queueMicrotask(() => owner.failureReported(op, entryPoint, reason));
        return;
      }
      owner.failureReported(op, entryPoint, reason);
    },
    log,
    ...(fencingToken === undefined ? {} : { fencingToken }),
  };
}

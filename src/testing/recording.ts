import type { EntryPoint, ResourceContext, ResourceType } from '../types.js';

/** One recorded call of a plugin's entry point. */
export interface RecordedCall {
  entryPoint: EntryPoint;
  /** The resource's name. */
  resource: string;
  /** When it started and settled (from `options.now`); `end` is null while it runs. */
  start: number;
  end: number | null;
  /** `running`, then `ok` (returned or resolved), or `error` (threw or rejected). */
  outcome: 'running' | 'ok' | 'error';
  /** What it returned or resolved with (`ok`). */
  value?: unknown;
  /** What it threw or rejected with (`error`). */
  error?: unknown;
  /** Its signal aborted (the monitor abandoned it), and when. */
  abortedAt: number | null;
}

/** What `recordCalls` returns. */
export interface Recording<P, H> {
  /** The wrapped type: register this one. It has the same name and the same optional entry points. */
  readonly type: ResourceType<P, H>;
  /** Every call, in the order they started. */
  readonly calls: RecordedCall[];
  /** The calls of one entry point (all when omitted). */
  of(entryPoint?: EntryPoint): RecordedCall[];
  /**
   * Pairs of calls of one resource that ran at the same time although neither had been
   * abandoned first: the monitor never does that (a resource's calls run one at a time).
   */
  overlaps(): [RecordedCall, RecordedCall][];
  /** Forgets the calls so far. */
  clear(): void;
}

const ENTRY_POINTS: EntryPoint[] = ['open', 'online', 'offline', 'terminate', 'looksAlive', 'isAlive', 'close', 'applyProperties', 'control'];

/**
 * Wraps a resource type so that every entry point call is logged with its start and end times,
 * its outcome and whether it was abandoned, then passed on unchanged. Pass your fake clock's
 * `now` to get times on it.
 *
 * @example
 * ```ts
 * const clock = createFakeClock();
 * const rec = recordCalls(myType, { now: clock.now });
 * monitor.registerType(rec.type);
 * // ...
 * expect(rec.of('terminate')).toHaveLength(1);
 * expect(rec.overlaps()).toEqual([]);
 * ```
 */
export function recordCalls<P, H>(type: ResourceType<P, H>, options: { now?: () => number } = {}): Recording<P, H> {
  const now = options.now ?? Date.now;
  const calls: RecordedCall[] = [];
  const wrapped: Record<string, unknown> = { ...type };
  for (const entryPoint of ENTRY_POINTS) {
    const fn = (type as unknown as Record<string, unknown>)[entryPoint];
    if (typeof fn !== 'function') continue;
    wrapped[entryPoint] = (ctx: ResourceContext<P, H>, ...args: unknown[]) => {
      const call: RecordedCall = { entryPoint, resource: ctx.resource, start: now(), end: null, outcome: 'running', abortedAt: null };
      calls.push(call);
      if (ctx.signal.aborted) call.abortedAt = call.start;
      else ctx.signal.addEventListener('abort', () => (call.abortedAt = now()), { once: true });
      const ok = (value: unknown) => {
        call.end = now();
        call.outcome = 'ok';
        call.value = value;
        return value;
      };
      const fail = (error: unknown) => {
        call.end = now();
        call.outcome = 'error';
        call.error = error;
        return error;
      };
      let out: unknown;
      try {
        out = (fn as (c: ResourceContext<P, H>, ...rest: unknown[]) => unknown).call(type, ctx, ...args);
      } catch (error) {
        throw fail(error);
      }
      if (typeof (out as PromiseLike<unknown> | null)?.then === 'function') {
        return Promise.resolve(out).then(ok, (error: unknown) => {
          throw fail(error);
        });
      }
      return ok(out);
    };
  }
  const overlaps = () => {
    const bad: [RecordedCall, RecordedCall][] = [];
    for (let i = 0; i < calls.length; i++) {
      for (let j = i + 1; j < calls.length; j++) {
        const a = calls[i] as RecordedCall;
        const b = calls[j] as RecordedCall;
        if (a.resource !== b.resource) continue;
        const aRunning = a.end === null || a.end > b.start;
        const abandonedFirst = a.abortedAt !== null && a.abortedAt <= b.start;
        if (aRunning && !abandonedFirst && b.start >= a.start && !(a.end !== null && a.end === b.start)) bad.push([a, b]);
      }
    }
    return bad;
  };
  return {
    type: wrapped as unknown as ResourceType<P, H>,
    calls,
    of: (entryPoint) => calls.filter((c) => !entryPoint || c.entryPoint === entryPoint),
    overlaps,
    clear: () => {
      calls.length = 0;
    },
  };
}

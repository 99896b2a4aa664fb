import type { EntryPoint, ResourceContext, ResourceType } from 'resmon';

/** One recorded entry-point call. */
export interface Span {
  entryPoint: EntryPoint;
  resource: string;
  start: number;
  end: number | null;
  /** The call's signal was aborted (it was abandoned). */
  aborted: boolean;
}

export type Behaviour = (ctx: ResourceContext) => unknown;

/**
 * A plugin whose every entry point records when it starts and ends, and behaves as the test
 * says (by default: resolves at once, checks pass).
 */
export function recordingType(name = 'rec', behaviour: Partial<Record<EntryPoint, Behaviour>> = {}) {
  const spans: Span[] = [];
  const wrap =
    (entryPoint: EntryPoint, fallback: Behaviour) =>
    (ctx: ResourceContext) => {
      const span: Span = { entryPoint, resource: ctx.resource, start: Date.now(), end: null, aborted: false };
      spans.push(span);
      ctx.signal.addEventListener('abort', () => {
        span.aborted = true;
      });
      const done = () => {
        span.end = Date.now();
      };
      let out: unknown;
      try {
        out = (behaviour[entryPoint] ?? fallback)(ctx);
      } catch (error) {
        done();
        throw error;
      }
      if (out && typeof (out as Promise<unknown>).then === 'function') {
        return (out as Promise<unknown>).then(
          (v) => {
            done();
            return v;
          },
          (e) => {
            done();
            throw e;
          },
        );
      }
      done();
      return out;
    };
  const type: ResourceType = {
    name,
    open: wrap('open', () => ({ opened: true })) as NonNullable<ResourceType['open']>,
    online: wrap('online', () => undefined) as NonNullable<ResourceType['online']>,
    offline: wrap('offline', () => undefined) as NonNullable<ResourceType['offline']>,
    terminate: wrap('terminate', () => undefined) as NonNullable<ResourceType['terminate']>,
    looksAlive: wrap('looksAlive', () => true) as NonNullable<ResourceType['looksAlive']>,
    isAlive: wrap('isAlive', () => true) as NonNullable<ResourceType['isAlive']>,
    close: wrap('close', () => undefined) as NonNullable<ResourceType['close']>,
  };
  const calls = (entryPoint?: EntryPoint) => spans.filter((s) => !entryPoint || s.entryPoint === entryPoint);
  /** Asserts that no two calls overlapped, except calls that were abandoned (DESIGN §5.1). */
  const overlaps = () => {
    const bad: [Span, Span][] = [];
    const live = spans.filter((s) => !s.aborted);
    for (let i = 0; i < live.length; i++) {
      for (let j = i + 1; j < live.length; j++) {
        const a = live[i]!;
        const b = live[j]!;
        if (a.resource !== b.resource) continue;
        const aEnd = a.end ?? Number.POSITIVE_INFINITY;
        const bEnd = b.end ?? Number.POSITIVE_INFINITY;
        if (a.start < bEnd && b.start < aEnd && !(a.start === aEnd || b.start === bEnd)) bad.push([a, b]);
      }
    }
    return bad;
  };
  return { type, spans, calls, overlaps };
}

/** A promise and its resolvers. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that never settles. */
export const never = () => new Promise<never>(() => {});

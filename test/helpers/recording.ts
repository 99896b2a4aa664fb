import type { EntryPoint, ResourceContext, ResourceType } from 'resmon';
import { type RecordedCall, recordCalls } from 'resmon/testing';

/** One recorded entry-point call: the published `RecordedCall`, and whether it was abandoned. */
export interface Span extends RecordedCall {
  /** The call's signal was aborted (it was abandoned). */
  readonly aborted: boolean;
}

export type Behaviour = (ctx: ResourceContext) => unknown;

const asSpan = (call: RecordedCall): Span => ({ ...call, aborted: call.abortedAt !== null });

/**
 * A plugin whose entry points behave as the test says (by default: `open` returns a handle, the
 * rest resolve at once, checks pass), recorded by the published `recordCalls` of resmon/testing
 * on `Date.now()` (fake timers move it). `spans` and `calls()` read the recording as it is now.
 */
export function recordingType(name = 'rec', behaviour: Partial<Record<EntryPoint, Behaviour>> = {}) {
  const act = (entryPoint: EntryPoint, fallback: Behaviour) => (ctx: ResourceContext) => (behaviour[entryPoint] ?? fallback)(ctx);
  const plugin: ResourceType = {
    name,
    open: act('open', () => ({ opened: true })) as NonNullable<ResourceType['open']>,
    online: act('online', () => undefined) as NonNullable<ResourceType['online']>,
    offline: act('offline', () => undefined) as NonNullable<ResourceType['offline']>,
    terminate: act('terminate', () => undefined) as NonNullable<ResourceType['terminate']>,
    looksAlive: act('looksAlive', () => true) as NonNullable<ResourceType['looksAlive']>,
    isAlive: act('isAlive', () => true) as NonNullable<ResourceType['isAlive']>,
    close: act('close', () => undefined) as NonNullable<ResourceType['close']>,
  };
  const recording = recordCalls(plugin);
  return {
    type: recording.type,
    recording,
    get spans(): Span[] {
      return recording.calls.map(asSpan);
    },
    calls: (entryPoint?: EntryPoint): Span[] => recording.of(entryPoint).map(asSpan),
    /** Calls of one resource that ran at once although neither was abandoned first (never, by the contract). */
    overlaps: () => recording.overlaps(),
  };
}

/** A recording type `flaky` whose isAlive fails while `state.broken`, and whose online fails while `state.refuse`. */
export function flaky() {
  const state = { broken: false, refuse: false };
  const rec = recordingType('flaky', {
    online: () => (state.refuse ? Promise.reject(new Error('refused')) : undefined),
    isAlive: () => !state.broken,
  });
  return { state, rec };
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

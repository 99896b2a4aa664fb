import type { ContextEnv } from './context.js';
import type { TimerWheel } from './timer-wheel.js';
import type { ResourceState } from './types.js';
import type { WorkQueue } from './work-queue.js';

/**
 * What a resource needs from its monitor (the clock, the logger and the events through
 * {@link ContextEnv}). `R` is the resource as the monitor's callbacks receive it (`Resource`).
 */
export interface ResourceEnv<R> extends ContextEnv {
  /** The monitor's shared poll timer. */
  readonly wheel: TimerWheel;
  /** The monitor's bounded queue for failures' terminates and restarts (a burst spreads over turns). */
  readonly work: WorkQueue;
  readonly abortGrace: number;
  /**
   * Called after every state change (`from` differs from the state now), and with `from` equal
   * to it once a failure's restart decision is made: the monitor follows dependencies and groups.
   * Must not throw.
   */
  observe?(resource: R, from: ResourceState): void;
  /** Asked when a restart is due: false while the resource's dependencies are not online (it is not started then). */
  mayRestart?(resource: R): boolean;
}

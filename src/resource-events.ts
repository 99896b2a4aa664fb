import type { CallOutcome } from './call.js';
import type { Clock } from './clock.js';
import type { ResourceMonitorEvents } from './events.js';
import type { Logger } from './logger.js';
import type { CheckKind, EntryPoint, ResourceState } from './types.js';

/** Where a resource's events go: the monitor's emitter, behind the cheap "does anyone listen" test. */
export interface EventSink {
  readonly clock: Clock;
  /** Whether anyone listens to `event` (payloads are built only then). */
  wants(event: keyof ResourceMonitorEvents): boolean;
  /** Emits `event`; a throwing listener is logged, never propagated. */
  emit<K extends keyof ResourceMonitorEvents>(event: K, payload: Parameters<ResourceMonitorEvents[K]>[0]): void;
}

/**
 * The events of one resource, as methods named for what happened. Each builds its payload only
 * when someone listens (the hot path emits nothing otherwise) and stamps it with the clock.
 */
export class ResourceEvents {
  constructor(
    private readonly resource: string,
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {}

  /**
   * A call ended: `callTimeout` (and a warning) when it passed its deadline, `slowCall` when it
   * took longer than `budgetMs`. online and offline may take long asynchronously (WSFC's
   * ERROR_IO_PENDING): only the time they blocked the event loop before returning counts.
   */
  callEnded(entryPoint: EntryPoint, out: CallOutcome<unknown>, budgetMs: number): void {
    const { sink } = this;
    if (out.kind === 'timeout') {
      this.log.warn(`${entryPoint} passed its deadline of ${out.timeoutMs} ms and was abandoned`);
      if (sink.wants('callTimeout')) {
        sink.emit('callTimeout', { resource: this.resource, at: sink.clock.now(), entryPoint, timeoutMs: out.timeoutMs });
      }
      return;
    }
    if (out.kind === 'abandoned') return;
    const ms = entryPoint === 'online' || entryPoint === 'offline' ? (out.syncMs ?? 0) : out.durationMs;
    if (ms > budgetMs && sink.wants('slowCall')) {
      sink.emit('slowCall', { resource: this.resource, at: sink.clock.now(), entryPoint, durationMs: ms, budgetMs });
    }
  }

  /** `check`: a check ended at `at`; `reason` is null when it passed. */
  checked(kind: CheckKind, at: number, durationMs: number, reason: string | null, consecutiveFailures: number): void {
    if (!this.sink.wants('check')) return;
    this.sink.emit(
      'check',
      reason === null
        ? { resource: this.resource, at, kind, ok: true, durationMs, consecutiveFailures: 0 }
        : { resource: this.resource, at, kind, ok: false, durationMs, reason, consecutiveFailures },
    );
  }

  /** `stateChange`. */
  stateChanged(at: number, from: ResourceState, to: ResourceState, reason: string, generation: number): void {
    if (this.sink.wants('stateChange')) this.sink.emit('stateChange', { resource: this.resource, at, from, to, reason, generation });
  }

  /** `restartScheduled`. */
  restartScheduled(attempt: number, delayMs: number, retry: boolean): void {
    if (this.sink.wants('restartScheduled')) {
      this.sink.emit('restartScheduled', { resource: this.resource, at: this.sink.clock.now(), attempt, delayMs, retry });
    }
  }

  /** `escalated`: the restart threshold is spent; `group` is left out when the resource has none. */
  escalated(restarts: number, periodMs: number, group: string | null): void {
    if (!this.sink.wants('escalated')) return;
    const at = this.sink.clock.now();
    this.sink.emit(
      'escalated',
      group === null ? { resource: this.resource, at, restarts, periodMs } : { resource: this.resource, at, restarts, periodMs, group },
    );
  }
}

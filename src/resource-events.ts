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

// The events of one resource, one function for each thing that happens. Each builds its payload
// only when someone listens (the hot path emits nothing otherwise). Functions, not an object per
// resource: a monitor holds many resources, and these hold no state.

/**
 * A call ended: `callTimeout` (and a warning) when it passed its deadline, `slowCall` when it
 * took longer than `budgetMs`. online and offline may take long asynchronously (WSFC's
 * ERROR_IO_PENDING): only the time they blocked the event loop before returning counts.
 */
export function emitCallEnded(sink: EventSink, log: Logger, resource: string, entryPoint: EntryPoint, out: CallOutcome<unknown>, budgetMs: number): void {
  if (out.kind === 'timeout') {
    log.warn(`${entryPoint} passed its deadline of ${out.timeoutMs} ms and was abandoned`);
    if (sink.wants('callTimeout')) sink.emit('callTimeout', { resource, at: sink.clock.now(), entryPoint, timeoutMs: out.timeoutMs });
    return;
  }
  if (out.kind === 'abandoned') return;
  const ms = entryPoint === 'online' || entryPoint === 'offline' ? (out.syncMs ?? 0) : out.durationMs;
  if (ms > budgetMs && sink.wants('slowCall')) sink.emit('slowCall', { resource, at: sink.clock.now(), entryPoint, durationMs: ms, budgetMs });
}

/** `check`: a check ended at `at`; `reason` is null when it passed. */
export function emitCheck(sink: EventSink, resource: string, kind: CheckKind, at: number, durationMs: number, reason: string | null, consecutiveFailures: number): void {
  if (!sink.wants('check')) return;
  sink.emit(
    'check',
    reason === null
      ? { resource, at, kind, ok: true, durationMs, consecutiveFailures: 0 }
      : { resource, at, kind, ok: false, durationMs, reason, consecutiveFailures },
  );
}

/** `stateChange`. */
export function emitStateChange(sink: EventSink, resource: string, at: number, from: ResourceState, to: ResourceState, reason: string, generation: number): void {
  if (sink.wants('stateChange')) sink.emit('stateChange', { resource, at, from, to, reason, generation });
}

/** `restartScheduled`. */
export function emitRestartScheduled(sink: EventSink, resource: string, attempt: number, delayMs: number, retry: boolean): void {
  if (sink.wants('restartScheduled')) sink.emit('restartScheduled', { resource, at: sink.clock.now(), attempt, delayMs, retry });
}

/** `escalated`: the restart threshold is spent; `group` is left out when the resource has none. */
export function emitEscalated(sink: EventSink, resource: string, restarts: number, periodMs: number, group: string | null): void {
  if (!sink.wants('escalated')) return;
  const at = sink.clock.now();
  sink.emit('escalated', group === null ? { resource, at, restarts, periodMs } : { resource, at, restarts, periodMs, group });
}

import type { ResourceMonitorEvents } from './events.js';
import type { ResourceMonitor } from './monitor.js';

/** Listeners for some of a monitor's events, keyed by event name. */
export type MonitorListeners = { [K in keyof ResourceMonitorEvents]?: ResourceMonitorEvents[K] };

/**
 * Adds `listeners` to the monitor and returns the function that stops them: it removes every
 * one, then runs `onStop` (release what the listeners fed), once; later calls do nothing. The
 * exporters (`collect()`, `instrument()`, the CLI's `/metrics`) are built on it.
 */
export function subscribe(monitor: ResourceMonitor, listeners: MonitorListeners, onStop?: () => void): () => void {
  // One cast for the lot: Object.entries loses the pairing of each event with its listener's type.
  const entries = Object.entries(listeners) as [keyof ResourceMonitorEvents, ResourceMonitorEvents[keyof ResourceMonitorEvents]][];
  for (const [event, listener] of entries) monitor.on(event, listener as never);
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    for (const [event, listener] of entries) monitor.off(event, listener as never);
    onStop?.();
  };
}

import { vi } from 'vitest';
import { MONITOR_EVENTS, ResourceMonitor, type ResourceMonitorEvents, type ResourceMonitorOptions, type ResourceSpec, type ResourceType } from 'resmon';

type Recorded = { [K in keyof ResourceMonitorEvents]: { event: K } & Parameters<ResourceMonitorEvents[K]>[0] }[keyof ResourceMonitorEvents];

/** A monitor with every event recorded in order; `await using` it to close the monitor at the end of the scope. */
export function recordedMonitor(options: ResourceMonitorOptions = {}) {
  const monitor = new ResourceMonitor(options);
  const events: Recorded[] = [];
  for (const name of MONITOR_EVENTS) {
    const record = (payload: object) => void events.push({ event: name, ...payload } as Recorded);
    monitor.on(name, record as never);
  }
  const of = <K extends keyof ResourceMonitorEvents>(name: K) =>
    events.filter((e): e is Extract<Recorded, { event: K }> => e.event === name);
  /** State changes as `at from->to`. */
  const transitions = (resource?: string) =>
    of('stateChange')
      .filter((e) => !resource || e.resource === resource)
      .map((e) => `${e.at} ${e.from}->${e.to}`);
  return { monitor, events, of, transitions, [Symbol.asyncDispose]: () => closeMonitor(monitor) };
}

/**
 * The arrange step most tests share: a {@link recordedMonitor} with `type` registered and one
 * resource of it added (named `r` unless `resource` says otherwise). `await using` it.
 */
export function oneResource(type: ResourceType, options: ResourceMonitorOptions = {}, resource: Omit<ResourceSpec, 'type' | 'name'> & { name?: string } = {}) {
  const recorded = recordedMonitor(options);
  recorded.monitor.registerType(type);
  recorded.monitor.addResource({ name: 'r', type: type.name, ...resource });
  return recorded;
}

/**
 * Closes `monitor`, for `await using`. Under fake timers it runs the clock forward until close()
 * settles: a test that failed with a call in flight leaves close() waiting for deadlines and
 * abortGrace on the fake clock, and would report a timeout instead of its own failure.
 */
export async function closeMonitor(monitor: ResourceMonitor): Promise<void> {
  let settled = false;
  const closing = monitor.close().finally(() => void (settled = true));
  // An already closed monitor settles within a few microtasks: then the clock does not move.
  for (let i = 0; i < 10 && !settled; i++) await Promise.resolve();
  for (let i = 0; i < 3_600 && !settled && vi.isFakeTimers(); i++) await vi.advanceTimersByTimeAsync(1_000);
  await closing;
}

/** A ResourceMonitor that `await using` closes with {@link closeMonitor}. */
export class TestMonitor extends ResourceMonitor {
  override [Symbol.asyncDispose](): Promise<void> {
    return closeMonitor(this);
  }
}

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
  return { monitor, events, of, transitions, [Symbol.asyncDispose]: () => monitor.close() };
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

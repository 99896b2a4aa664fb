import type { ResourceContext, ResourceType } from '../types.js';
import { type Fields, numberAt, objectAt } from './fields.js';
import { type Probe, runProbe, untilReady } from './probes.js';

/** What an endpoint resource (`http`, `tcp`) keeps besides its probe. */
export interface EndpointConfig<P extends Probe = Probe> {
  readonly probe: P;
  /** Milliseconds between tries while waiting for the first success. */
  readonly interval: number;
  /** Milliseconds online waits for the first success before it fails. */
  readonly startTimeout: number;
}

/** The properties every endpoint type (`http`, `tcp`) takes besides its probe's. */
export interface EndpointTiming {
  /** Milliseconds between tries while online waits for the first successful probe. @default 1000 */
  interval?: number;
  /** Milliseconds online waits for the first successful probe before it fails. @default 60000 */
  startTimeout?: number;
}

/** The keys of {@link EndpointTiming}. */
const ENDPOINT_KEYS = ['interval', 'startTimeout'] as const;

/** Parses a probe from a properties object, accepting `extra` keys besides its own (throws `ConfigError` naming the field). */
type ProbeParser<P extends Probe> = (object: Fields, prefix: string, extra: readonly string[]) => P;

/**
 * Checks an endpoint resource's properties: the probe's fields (parsed by `parse`) and
 * {@link EndpointTiming}; throws `ConfigError` naming the field. `needs` says what the properties
 * must be at least (for the message when they are not an object).
 */
function endpointConfig<P extends Probe>(properties: unknown, parse: ProbeParser<P>, needs: string): EndpointConfig<P> {
  const probe = parse(objectAt(properties, 'properties', needs), '', ENDPOINT_KEYS);
  const p = objectAt(properties, 'properties');
  return {
    probe,
    interval: numberAt(p, 'interval', '', 1_000, { min: 0, exclusive: true }),
    startTimeout: numberAt(p, 'startTimeout', '', 60_000, { min: 0, exclusive: true }),
  };
}

/**
 * A resource type that watches an endpoint the monitor does not own: online resolves at the
 * first successful probe (reporting progress on each failed try), isAlive runs the probe,
 * offline and terminate only stop watching (the monitor stops polling; nothing is stopped).
 * New properties (`monitor.setProperties()`: another URL, host or port) apply at once: the next
 * isAlive probes the new endpoint.
 */
export function endpointType<P extends Probe>(name: string, parse: ProbeParser<P>, needs: string): ResourceType<EndpointConfig<P>, undefined> {
  return {
    name,
    defaults: { isAlivePollInterval: 10_000 },
    validate: (properties) => endpointConfig(properties, parse, needs),
    async online(ctx: ResourceContext<EndpointConfig<P>, undefined>) {
      const { probe, interval, startTimeout } = ctx.properties;
      await untilReady(probe, { signal: ctx.signal, interval, startTimeout, onRetry: (message) => ctx.reportProgress(message) });
    },
    offline() {},
    terminate() {},
    // Nothing runs that holds the old endpoint: the next check reads the new properties.
    applyProperties() {},
    async isAlive(ctx) {
      await runProbe(ctx.properties.probe, ctx.signal);
      return true;
    },
  };
}

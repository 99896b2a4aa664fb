import type { ResourceType } from '../types.js';
import { type EndpointConfig, ENDPOINT_KEYS, endpointConfig, endpointType } from './endpoint.js';
import { objectAt } from './fields.js';
import { httpProbe, type HttpProbeSpec, type Probe } from './probes.js';

/**
 * The properties of an `http` resource: an HTTP endpoint resmon watches but does not own.
 * @example { url: 'http://127.0.0.1:8080/health', status: 200, body: 'ok', timeout: 2000 }
 */
export interface HttpProperties extends HttpProbeSpec {
  /** Milliseconds between tries while online waits for the first success. @default 1000 */
  interval?: number;
  /** Milliseconds online waits for the first success before it fails. @default 60000 */
  startTimeout?: number;
}

/** Checks an `http` resource's properties; throws `ConfigError` naming the field. */
export function validateHttpProperties(properties: unknown): EndpointConfig<Probe & { kind: 'http' }> {
  return endpointConfig(properties, httpProbe(objectAt(properties, 'properties', 'an object with at least `url`'), '', ENDPOINT_KEYS));
}

/**
 * The built-in `http` resource type: watches an HTTP endpoint (see {@link HttpProperties}).
 * online resolves at the first successful GET; isAlive repeats it; offline and terminate stop
 * watching.
 */
export const httpType: ResourceType<EndpointConfig<Probe & { kind: 'http' }>, undefined> = endpointType('http', validateHttpProperties);

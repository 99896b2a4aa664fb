import type { ResourceType } from '../types.js';
import { type EndpointConfig, ENDPOINT_KEYS, endpointConfig, endpointType } from './endpoint.js';
import { objectAt } from './fields.js';
import { type Probe, tcpProbe, type TcpProbeSpec } from './probes.js';

/**
 * The properties of a `tcp` resource: a TCP port resmon watches but does not own.
 * @example { host: '127.0.0.1', port: 6379 }
 */
export interface TcpProperties extends TcpProbeSpec {
  /** Milliseconds between tries while online waits for the first connection. @default 1000 */
  interval?: number;
  /** Milliseconds online waits for the first connection before it fails. @default 60000 */
  startTimeout?: number;
}

/** Checks a `tcp` resource's properties; throws `ConfigError` naming the field. */
export function validateTcpProperties(properties: unknown): EndpointConfig<Probe & { kind: 'tcp' }> {
  return endpointConfig(properties, tcpProbe(objectAt(properties, 'properties', 'an object with at least `port`'), '', ENDPOINT_KEYS));
}

/**
 * The built-in `tcp` resource type: watches a TCP port (see {@link TcpProperties}). online
 * resolves at the first connection that opens; isAlive connects again; offline and terminate
 * stop watching.
 */
export const tcpType: ResourceType<EndpointConfig<Probe & { kind: 'tcp' }>, undefined> = endpointType('tcp', validateTcpProperties);

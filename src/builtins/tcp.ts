import type { ResourceType } from '../types.js';
import { type EndpointConfig, type EndpointTiming, endpointType } from './endpoint.js';
import { type Probe, tcpProbe, type TcpProbeSpec } from './probes.js';

/**
 * The properties of a `tcp` resource: a TCP port resmon watches but does not own (`interval` and
 * `startTimeout`: while online waits for the first connection that opens).
 * @example { host: '127.0.0.1', port: 6379 }
 */
export interface TcpProperties extends TcpProbeSpec, EndpointTiming {}

/**
 * The built-in `tcp` resource type: watches a TCP port (see {@link TcpProperties}). online
 * resolves at the first connection that opens; isAlive connects again; offline and terminate
 * stop watching.
 */
export const tcpType: ResourceType<EndpointConfig<Probe & { kind: 'tcp' }>, undefined> = endpointType('tcp', tcpProbe, 'an object with at least `port`');

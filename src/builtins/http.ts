import type { ResourceType } from '../types.js';
import { type EndpointConfig, type EndpointTiming, endpointType } from './endpoint.js';
import { httpProbe, type HttpProbeSpec, type Probe } from './probes.js';

/**
 * The properties of an `http` resource: an HTTP endpoint resmon watches but does not own
 * (`interval` and `startTimeout`: while online waits for the first successful GET).
 * @example { url: 'http://127.0.0.1:8080/health', status: 200, body: 'ok', timeout: 2000 }
 */
export interface HttpProperties extends HttpProbeSpec, EndpointTiming {}

/**
 * The built-in `http` resource type: watches an HTTP endpoint (see {@link HttpProperties}).
 * online resolves at the first successful GET; isAlive repeats it; offline and terminate stop
 * watching.
 */
export const httpType: ResourceType<EndpointConfig<Probe & { kind: 'http' }>, undefined> = endpointType('http', httpProbe, 'an object with at least `url`');

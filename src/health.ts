import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from './errors.js';
import type { ResourceMonitor } from './monitor.js';
import { assertKnownOptions } from './options.js';
import type { ResourceState, ResourceStatus } from './types.js';

/** Options of {@link healthHandler}. All are optional. */
export interface HealthHandlerOptions {
  /**
   * `/readyz` looks only at these resources (a name that is not in the monitor counts as not
   * ready). With `groups` too, a resource counts when either selects it.
   * @default every resource
   */
  resources?: readonly string[];
  /**
   * `/readyz` looks only at the resources of these groups.
   * @default every resource
   */
  groups?: readonly string[];
  /**
   * The path of the liveness probe.
   * @default '/livez'
   */
  livePath?: string;
  /**
   * The path of the readiness probe.
   * @default '/readyz'
   */
  readyPath?: string;
}

/** One resource that keeps `/readyz` from answering 200. */
export interface NotReadyResource {
  /** The resource's name. */
  name: string;
  /** Its state; `null` when `options.resources` names a resource the monitor does not have. */
  state: ResourceState | null;
  /** The state it is wanted in: its target state, `'online'`. */
  target: 'online';
  /** Clock time of its last state change (`null` when it does not exist). */
  since: number | null;
  /** Why it is not ready, in words. */
  reason: string;
}

/** The JSON body of `/readyz`. */
export interface ReadinessReport {
  /** `true` when every selected resource that is wanted online is online (then the status is 200, else 503). */
  ready: boolean;
  /** The selected resources that are wanted online. */
  checked: number;
  /** Those that are not online, in the order they were added. */
  notReady: NotReadyResource[];
}

/** The JSON body of `/livez`. */
export interface LivenessReport {
  /** `true` when the monitor is not closed and its event loop answered (200), else `false` (503). */
  live: boolean;
  /** How long the event loop took to come round (a `setImmediate`), in milliseconds. */
  loopMs: number;
  /** Why it is not live, when it is not. */
  reason?: string;
}

/**
 * A request handler for `node:http`, express and fastify: `(req, res, next?)`.
 *
 * - node:http and express: `(req, res, next?)`. A path other than the two probes calls `next()`
 *   when given (express middleware), else answers 404.
 * - fastify: pass the request and the reply as they come (`(request, reply)`); the handler
 *   answers through `reply.code().header().send()`.
 */
export type HealthHandler = (req: HealthRequest, res: HealthResponse, next?: (error?: unknown) => void) => void;

/** The request side: a node `IncomingMessage` (express's request is one), or fastify's request. */
export type HealthRequest = Pick<IncomingMessage, 'url' | 'method'> | { url: string; method: string; raw: IncomingMessage };

/** The response side: a node `ServerResponse` (express's response is one), or fastify's reply. */
export type HealthResponse = ServerResponse | FastifyLikeReply;

/** The part of fastify's reply the handler uses. */
export interface FastifyLikeReply {
  /** Sets the status code. */
  code(status: number): FastifyLikeReply;
  /** Sets a header. */
  header(name: string, value: string): FastifyLikeReply;
  /** Sends the body and ends the reply. */
  send(body: string): unknown;
  /** The underlying node response (present on a fastify reply; used to recognise one). */
  raw: ServerResponse;
}

/** Whether a resource is wanted online: its target state (the last online()/offline()/terminate() asked for). */
function wantedOnline(status: ResourceStatus): boolean {
  return status.target === 'online';
}

function notReadyReason(status: ResourceStatus): string {
  if (status.state !== 'failed') return `${status.state}, wanted online`;
  const { isAlive, looksAlive } = status.lastChecks;
  const check = isAlive && !isAlive.ok ? isAlive : looksAlive && !looksAlive.ok ? looksAlive : null;
  const why = check?.reason ? ` (last failed check: ${check.reason})` : '';
  return `failed${why}${status.nextRestartAt !== null ? '; a restart is scheduled' : ''}`;
}

function checkNames(value: unknown, field: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((n) => typeof n !== 'string' || n.length === 0)) {
    throw new ConfigError(`options.${field}`, value, 'must be a list of non-empty names', { context: 'healthHandler()' });
  }
  return [...value] as string[];
}

function checkPath(value: unknown, field: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new ConfigError(`options.${field}`, value, "must be a path starting with '/'", { context: 'healthHandler()' });
  }
  return value;
}

/**
 * What `/readyz` answers, as a value: every selected resource whose target state is online
 * must be online.
 */
export function readiness(monitor: ResourceMonitor, options: Pick<HealthHandlerOptions, 'resources' | 'groups'> = {}): ReadinessReport {
  const resources = checkNames(options.resources, 'resources');
  const groups = checkNames(options.groups, 'groups');
  const all = monitor.isClosed() ? [] : monitor.snapshot();
  let selected = all;
  const notReady: NotReadyResource[] = [];
  if (resources || groups) {
    const names = new Set(resources ?? []);
    const groupSet = new Set(groups ?? []);
    selected = all.filter((s) => names.has(s.name) || (s.group !== null && groupSet.has(s.group)));
    const present = new Set(all.map((s) => s.name));
    for (const name of names) {
      if (!present.has(name)) notReady.push({ name, state: null, target: 'online', since: null, reason: 'no such resource' });
    }
  }
  let checked = notReady.length;
  for (const status of selected) {
    if (!wantedOnline(status)) continue;
    checked++;
    if (status.state !== 'online') {
      notReady.push({ name: status.name, state: status.state, target: 'online', since: status.since, reason: notReadyReason(status) });
    }
  }
  return { ready: notReady.length === 0 && !monitor.isClosed(), checked, notReady };
}

/**
 * A `(req, res)` handler answering the two probes Kubernetes (and most load balancers) use:
 *
 * - `GET /livez`: 200 while the monitor is not closed and its event loop comes round (the answer
 *   is sent from the next turn of the loop), else 503. Body: {@link LivenessReport}.
 * - `GET /readyz`: 200 when every selected resource that is wanted online is online, else 503.
 *   A resource is wanted online when its target state (`inspect().target`) is online; offline
 *   resources nobody asked for do not count. Body: {@link ReadinessReport}, naming each resource
 *   that is not ready. `options.resources` / `options.groups` choose which resources count.
 *
 * Both answer `HEAD` too, with no body; other methods get 405. The answers are JSON with
 * `cache-control: no-store`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { healthHandler } from 'resmon';
 * createServer(healthHandler(monitor)).listen(8081);
 * // express:  app.use(healthHandler(monitor, { groups: ['web'] }));
 * // fastify:  const h = healthHandler(monitor);
 * //           app.get('/livez', (req, reply) => h(req, reply)); app.get('/readyz', (req, reply) => h(req, reply));
 * ```
 */
export function healthHandler(monitor: ResourceMonitor, options: HealthHandlerOptions = {}): HealthHandler {
  assertKnownOptions(options, ['resources', 'groups', 'livePath', 'readyPath'], 'healthHandler()');
  const selection: Pick<HealthHandlerOptions, 'resources' | 'groups'> = {};
  const resources = checkNames(options.resources, 'resources');
  const groups = checkNames(options.groups, 'groups');
  if (resources) selection.resources = resources;
  if (groups) selection.groups = groups;
  const livePath = checkPath(options.livePath, 'livePath', '/livez');
  const readyPath = checkPath(options.readyPath, 'readyPath', '/readyz');

  return (req, res, next) => {
    const path = pathOf(req.url);
    if (path !== livePath && path !== readyPath) {
      if (next) return next();
      return send(res, 404, { error: `not found: try ${livePath} or ${readyPath}` }, req.method === 'HEAD');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, { error: `${req.method} is not allowed: use GET or HEAD` }, false, { allow: 'GET, HEAD' });
    }
    const head = req.method === 'HEAD';
    if (path === readyPath) {
      const report = readiness(monitor, selection);
      return send(res, report.ready ? 200 : 503, report, head);
    }
    if (monitor.isClosed()) return send(res, 503, { live: false, loopMs: 0, reason: 'the monitor is closed' } satisfies LivenessReport, head);
    const start = performance.now();
    setImmediate(() => {
      const loopMs = Math.round((performance.now() - start) * 1000) / 1000;
      if (monitor.isClosed()) return send(res, 503, { live: false, loopMs, reason: 'the monitor is closed' } satisfies LivenessReport, head);
      send(res, 200, { live: true, loopMs } satisfies LivenessReport, head);
    });
  };
}

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function isFastifyReply(res: HealthResponse): res is FastifyLikeReply {
  return typeof (res as FastifyLikeReply).code === 'function' && typeof (res as FastifyLikeReply).send === 'function' && 'raw' in res;
}

function send(res: HealthResponse, status: number, body: unknown, head: boolean, headers: Record<string, string> = {}): void {
  const text = head ? '' : `${JSON.stringify(body)}\n`;
  const all: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers };
  if (isFastifyReply(res)) {
    let reply = res.code(status);
    for (const [name, value] of Object.entries(all)) reply = reply.header(name, value);
    reply.send(text);
    return;
  }
  res.writeHead(status, { ...all, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

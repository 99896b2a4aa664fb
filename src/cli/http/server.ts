import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reasonOf } from '../../errors.js';
import { healthHandler } from '../../health.js';
import type { Logger } from '../../logger.js';
import type { ResourceMonitor } from '../../monitor.js';
import { MONITOR_EVENTS } from '../../events.js';
import { PROMETHEUS_CONTENT_TYPE, TextMetrics } from './metrics.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS, FAVICON_SVG } from './page.js';
import { Timeline } from './timeline.js';

/** Where `resmon run --http` listens. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Options of {@link startHttp}. */
export interface HttpOptions {
  /** Where to listen. */
  listen: ListenAddress;
  /** The bearer token mutating endpoints require; without one they answer 403. */
  token: string | null;
  /** What the page shows as the title (the config file). */
  title: string;
  logger: Logger;
  /** The monitor's clock (`ResourceStatus` times are on it). @default Date.now */
  now?: () => number;
  /**
   * The control API to serve under `/v1/` (the control socket's handler, with mutations allowed
   * by {@link bearerAllows}); `/v1/timeline` stays this module's. Without it, this module
   * serves the read-only endpoints and the actions itself, with the same paths.
   */
  control?: MountedApi;
}

/** A `(req, res)` handler mounted under `/v1/`; `close()` ends the streams it holds open. */
export interface MountedApi {
  (req: IncomingMessage, res: ServerResponse): void;
  close?(): void;
}

/** A running HTTP listener. */
export interface HttpListener {
  /** `http://HOST:PORT` as bound (the port is the real one when 0 was asked). */
  readonly url: string;
  /** Closes the server, every event stream and timer. */
  close(): Promise<void>;
}

const ACTIONS = new Set(['online', 'offline', 'restart', 'terminate']);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);
/** A server-sent events client is dropped when this much is waiting to be written. */
const MAX_BUFFERED = 1 << 20;

/** True for a loopback host name or address. */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\./.test(host);
}

/**
 * Parses `HOST:PORT`, `:PORT`, `PORT` or `[V6]:PORT`; the host defaults to 127.0.0.1 (loopback).
 * Throws an Error naming the rule.
 */
export function parseListen(value: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(value) ?? /^()()(\d+)$/.exec(value);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`must be HOST:PORT, :PORT or PORT (a port 0-65535; the host defaults to 127.0.0.1), got ${JSON.stringify(value)}`);
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** Whether a request may use the actions: its bearer token is `token` (never when `token` is null). */
export const bearerAllows =
  (token: string | null) =>
  (req: IncomingMessage): boolean =>
    authorized(req, token);

/** Compares a request's bearer token with the configured one in constant time. */
function authorized(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return false;
  const header = req.headers.authorization ?? '';
  const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // Everything the page needs comes from here; no inline script or style.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function asset(res: ServerResponse, type: string, body: string, head: boolean): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-cache', ...SECURITY_HEADERS });
  res.end(head ? undefined : body);
}

/**
 * The request handler of `resmon run --http`: the status page, the read-only JSON API (the
 * control socket's paths), server-sent events, `/metrics`, `/livez`, `/readyz`, and the
 * mutating endpoints behind the bearer token. Returns the handler and a function that releases
 * its listeners, streams and timers.
 */
export function createHttpHandler(monitor: ResourceMonitor, options: Omit<HttpOptions, 'listen'> & { loopbackOnly: boolean }) {
  const now = options.now ?? Date.now;
  const metrics = new TextMetrics(monitor);
  const timeline = new Timeline(monitor);
  const health = healthHandler(monitor);
  const streams = new Set<ServerResponse>();
  const forward = MONITOR_EVENTS.map((event) => {
    const fn = (payload: object) => {
      const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const res of streams) {
        if (res.writableLength > MAX_BUFFERED) {
          streams.delete(res);
          res.destroy();
          continue;
        }
        res.write(frame);
      }
    };
    monitor.on(event, fn as never);
    return [event, fn] as const;
  });
  // A comment every 15 s keeps proxies from closing idle streams.
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 15_000);
  heartbeat.unref();

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://resmon.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    // DNS rebinding: a loopback listener answers only requests addressed to a loopback name.
    if (options.loopbackOnly) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      if (!isLoopback(host)) return json(res, 421, { error: `this listener answers only loopback host names, not ${JSON.stringify(host)}` });
    }
    if (options.control && path.startsWith('/v1/') && path !== '/v1/timeline') return options.control(req, res);
    if (method === 'POST') {
      req.resume(); // the actions take no body: drain whatever came
      const m = /^\/v1\/resources\/([^/]+)\/([a-z]+)$/.exec(path);
      if (!authorized(req, options.token)) {
        return json(res, 403, {
          error: options.token === null ? 'mutating requests are disabled: no token is configured (http.token or RESMON_TOKEN)' : 'a valid Authorization: Bearer token is required',
        });
      }
      if (!m || !ACTIONS.has(m[2] as string)) return json(res, 404, { error: `no such action: POST ${path}` });
      let name: string;
      try {
        name = decodeURIComponent(m[1] as string);
      } catch {
        return json(res, 400, { error: 'the resource name is not valid percent-encoding' });
      }
      return void act(name, m[2] as string).then(
        (status) => json(res, 200, status),
        (error: unknown) => json(res, (error as { code?: string }).code === 'ERR_RESMON_UNKNOWN_RESOURCE' ? 404 : 409, { error: reasonOf(error) }),
      );
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD, POST');
      return json(res, 405, { error: `${method} is not allowed` });
    }
    const head = method === 'HEAD';
    switch (path) {
      case '/':
      case '/index.html':
        return asset(res, 'text/html; charset=utf-8', PAGE_HTML, head);
      case '/app.js':
        return asset(res, 'text/javascript; charset=utf-8', PAGE_JS, head);
      case '/app.css':
        return asset(res, 'text/css; charset=utf-8', PAGE_CSS, head);
      case '/favicon.svg':
      case '/favicon.ico':
        return asset(res, 'image/svg+xml', FAVICON_SVG, head);
      case '/livez':
      case '/readyz':
        return health(req, res);
      case '/metrics': {
        const text = metrics.text();
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
        return void res.end(head ? undefined : text);
      }
      case '/v1/status':
        return json(res, 200, { title: options.title, now: now(), resources: monitor.isClosed() ? [] : monitor.snapshot() });
      case '/v1/timeline':
        return json(res, 200, { now: now(), windowMs: timeline.windowMs, resources: timeline.get(now()) });
      case '/v1/events': {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.write(`retry: 1000\n: connected ${now()}\n\n`);
        streams.add(res);
        res.on('close', () => streams.delete(res));
        return;
      }
    }
    const r = /^\/v1\/resources\/([^/]+)$/.exec(path);
    if (r) {
      try {
        return json(res, 200, monitor.inspect(decodeURIComponent(r[1] as string)));
      } catch (error) {
        return json(res, 404, { error: reasonOf(error) });
      }
    }
    return json(res, 404, { error: `not found: ${path}` });
  };

  async function act(name: string, action: string) {
    monitor.inspect(name); // UnknownResourceError → 404
    options.logger.info({ resource: name, action }, `${action} requested over HTTP`);
    if (action === 'online') await monitor.online(name);
    else if (action === 'offline') await monitor.offline(name);
    else if (action === 'terminate') await monitor.terminate(name);
    else {
      // An operator's restart: offline, then online (the restart window is untouched).
      await monitor.offline(name);
      await monitor.online(name);
    }
    return monitor.inspect(name);
  }

  const dispose = () => {
    clearInterval(heartbeat);
    metrics.stop();
    timeline.stop();
    for (const [event, fn] of forward) monitor.off(event, fn as never);
    for (const res of streams) res.end();
    streams.clear();
    options.control?.close?.();
  };
  return { handler, dispose };
}

/** Starts the HTTP listener of `resmon run --http`; resolves once it listens. */
export async function startHttp(monitor: ResourceMonitor, options: HttpOptions): Promise<HttpListener> {
  const { handler, dispose } = createHttpHandler(monitor, { ...options, loopbackOnly: isLoopback(options.listen.host) });
  const server: Server = createServer((req, res) => {
    try {
      handler(req, res);
    } catch (error) {
      options.logger.error({ err: error }, `http: ${req.method} ${req.url} failed`);
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        dispose();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

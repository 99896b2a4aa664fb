/**
 * The control API of `resmon run`: HTTP/1.1 with JSON bodies, as a plain Node
 * `(req, res)` handler, so the same handler serves the Unix control socket and can be
 * mounted on any other `http.Server` (a TCP listener with its own authentication).
 *
 * | method and path | answer |
 * |---|---|
 * | `GET /v1/status` | `{ file, pid, startedAt, groups: { NAME: state }, resources: [status + reason, pid] }` |
 * | `GET /v1/resources/NAME` | one resource: its status, why it last changed state, its process (pid, last exit, log files) |
 * | `GET /v1/resources/NAME/logs?lines=N&follow=1&stream=stdout\|stderr` | NDJSON `{ "stream", "line" }`: the last N lines (default 50) of each stream, then, with `follow=1`, every new line until the client hangs up |
 * | `GET /v1/events` | server-sent events, one per monitor event (`event: stateChange`, `data: {…}`) |
 * | `POST /v1/resources/NAME/online` (`offline`, `restart`, `terminate`) | `{ ok: true, status }` once done; `restart` is offline then online and does not count in the restart window |
 * | `POST /v1/reload` | the reload report (what was added, removed, changed, left alone, and what failed) |
 * | `POST /v1/shutdown` | `{ ok: true }`, then every resource goes offline and `resmon run` exits 0 |
 *
 * Errors are `{ "error": { "code", "message", "details"? } }` with status 400 (malformed
 * request), 403 (mutations not allowed here), 404 (unknown path or resource), 405 (wrong
 * method), 409 (the action failed: the reason is the message), 422 (a reload found errors in
 * the file: `details` lists them), 503 (shutting down).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isMonitorClosedError, isUnknownResourceError, reasonOf } from '../errors.js';
import type { ResourceMonitor } from '../monitor.js';
import type { ProcessOutput } from '../builtins/process.js';
import type { ResourceStatus } from '../types.js';
import { BoundedWriter } from '../cli/bounded.js';
import { MONITOR_EVENTS } from '../events.js';
import type { LogFiles, LogLine } from './logs.js';

/** What a reload did (`POST /v1/reload`, `resmon reload`). */
export interface ReloadReport {
  /** True when every change was applied. */
  ok: boolean;
  /** Resources added and brought online. */
  added: string[];
  /** Resources taken offline and removed. */
  removed: string[];
  /** Resources changed, each with how: `properties applied`, `policy applied`, `restarted`, `replaced`. */
  changed: { name: string; how: string[] }[];
  /** Resources the new file leaves as they were. */
  unchanged: string[];
  /** Changes that were not made, each with why (an online that rejected, a setting that needs a restart of resmon). */
  failed: { name: string; action: string; reason: string }[];
}

/** A reload refused because the new file has errors: nothing changed. */
export class ReloadRejected extends Error {
  override name = 'ReloadRejected';
  constructor(
    message: string,
    /** One line per problem: `file:line:col: path rule (got value)`. */
    readonly errors: string[],
  ) {
    super(message);
  }
}

/** What the handler controls: the monitor and what `resmon run` adds around it. */
export interface ControlTarget {
  readonly monitor: ResourceMonitor;
  /** Facts about the daemon for `GET /v1/status` (`file`, `pid`, `startedAt`…). */
  info(): Record<string, unknown>;
  /** Runs `action` after every control action and reload before it (one at a time). */
  serialize<T>(action: () => Promise<T>): Promise<T>;
  /** Why each resource last changed state (and its latest progress message). */
  note?(name: string): { reason?: string | undefined; progress?: string | undefined } | undefined;
  /** The process of a `process` resource, or null. */
  processOf?(name: string): ProcessOutput | null;
  /** The log files of `process` resources. */
  logs?: LogFiles;
  /** Reloads the config file; rejects with {@link ReloadRejected} when it has errors. */
  reload?(): Promise<ReloadReport>;
  /** Starts a graceful shutdown. */
  shutdown?(): void;
  /** The config has `cluster:`: a lease decides where resources run; actions go to the cluster member. */
  readonly clustered?: boolean;
  /**
   * With `cluster:`, the member: online, offline, terminate and restart act on the resource's unit
   * (its group, or itself) cluster-wide, on the member that owns it (409 `action-failed` elsewhere).
   */
  readonly cluster?: ClusterControl | null;
}

/** What the control API needs of a cluster member (`ClusterMember` has it). */
export interface ClusterControl {
  /** The unit of a resource: its group, or itself. */
  unitOf(resource: string): string;
  /** Brings a unit online cluster-wide (on its owner). */
  online(unit: string): Promise<void>;
  /** Takes a unit offline cluster-wide (on its owner); it stays offline on every member until online. */
  offline(unit: string): Promise<void>;
  /** As offline, with terminate. */
  terminate(unit: string): Promise<void>;
}

/** How {@link createControlHandler} behaves. */
export interface ControlHandlerOptions {
  /**
   * Whether the POST endpoints may run: `true` on the owner-only Unix socket; a function to
   * decide per request (a bearer token on a TCP listener). Refused requests get 403.
   * @default false
   */
  allowMutations?: boolean | ((req: IncomingMessage) => boolean);
  /** Path prefix the handler is mounted under (`/api` makes `/api/v1/status`). @default '' */
  prefix?: string;
  /** Bytes an event stream or log stream may hold for a slow client before lines are dropped. @default 1 MiB */
  streamLimit?: number;
}

/** The handler, plus a way to end the streams it holds open (`/v1/events`, `logs?follow=1`). */
export interface ControlHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every open stream (on shutdown). */
  close(): void;
}

const ACTIONS = ['online', 'offline', 'restart', 'terminate'] as const;
type Action = (typeof ACTIONS)[number];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Reads and drops a request body (at most 64 KiB; the API takes none). */
function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > 65_536) reject(new HttpError(413, 'too-large', 'the request body is too large (the API takes none)'));
    });
    req.on('end', () => resolve());
    req.on('error', reject);
  });
}

/**
 * Makes the control API's request handler (see the module comment for the endpoints).
 *
 * @example
 * ```ts
 * const handler = createControlHandler(target, { allowMutations: (req) => req.headers.authorization === `Bearer ${token}` });
 * http.createServer(handler).listen(8080, '127.0.0.1');
 * ```
 */
export function createControlHandler(target: ControlTarget, options: ControlHandlerOptions = {}): ControlHandler {
  const prefix = options.prefix ?? '';
  const limit = options.streamLimit ?? 1 << 20;
  const open = new Set<ServerResponse>();
  const { monitor } = target;

  const allowed = (req: IncomingMessage) =>
    typeof options.allowMutations === 'function' ? options.allowMutations(req) : options.allowMutations === true;

  const statusOf = (s: ResourceStatus) => {
    const note = target.note?.(s.name);
    const proc = target.processOf?.(s.name) ?? null;
    return { ...s, reason: note?.reason ?? null, progress: note?.progress ?? null, pid: proc?.running ? proc.pid : null };
  };

  const resource = (name: string): ResourceStatus => {
    try {
      return monitor.inspect(name);
    } catch (error) {
      if (isUnknownResourceError(error)) {
        const known = monitor.snapshot().map((s) => s.name);
        throw new HttpError(404, 'unknown-resource', `no resource "${name}" (resources: ${known.join(', ') || 'none'})`);
      }
      throw error;
    }
  };

  async function act(name: string, action: Action): Promise<ResourceStatus> {
    resource(name);
    if (target.clustered) {
      const member = target.cluster;
      if (!member) throw new HttpError(409, 'clustered', `${action} ${name} refused: this resmon run's cluster member is not running`);
      return target.serialize(async () => {
        resource(name);
        const unit = member.unitOf(name);
        try {
          if (action === 'restart') {
            await member.offline(unit);
            await member.online(unit);
          } else {
            await member[action](unit);
          }
        } catch (error) {
          throw new HttpError(409, 'action-failed', `${action} ${name} (cluster unit "${unit}") failed: ${reasonOf(error)}`);
        }
        return monitor.inspect(name);
      });
    }
    return target.serialize(async () => {
      resource(name); // a reload may have removed it meanwhile
      try {
        if (action === 'restart') {
          await monitor.offline(name);
          await monitor.online(name);
        } else {
          await monitor[action](name);
        }
      } catch (error) {
        throw new HttpError(409, 'action-failed', `${action} ${name} failed: ${reasonOf(error)}`);
      }
      return monitor.inspect(name);
    });
  }

  function stream(res: ServerResponse, contentType: string): BoundedWriter {
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store', connection: 'keep-alive' });
    res.flushHeaders();
    open.add(res);
    res.once('close', () => open.delete(res));
    return new BoundedWriter(res, (d) => (contentType.startsWith('text/event-stream') ? `event: dropped\ndata: ${JSON.stringify({ count: d.count, events: d.kinds })}\n\n` : `${JSON.stringify({ dropped: d.count })}\n`), limit);
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    const out = stream(res, 'text/event-stream; charset=utf-8');
    const offs: (() => void)[] = [];
    for (const event of MONITOR_EVENTS) {
      const listener = (payload: object) => {
        let data: string;
        try {
          data = JSON.stringify(payload);
        } catch {
          data = JSON.stringify({ unserialisable: true });
        }
        out.write(`event: ${event}\ndata: ${data}\n\n`, event);
      };
      monitor.on(event, listener);
      offs.push(() => monitor.off(event, listener));
    }
    out.write(`: resmon ${process.pid}\n\n`, 'comment');
    const ping = setInterval(() => out.write(': ping\n\n', 'ping'), 15_000);
    ping.unref();
    const stop = () => {
      clearInterval(ping);
      for (const off of offs) off();
    };
    req.once('close', stop);
    res.once('close', stop);
  }

  function logs(req: IncomingMessage, res: ServerResponse, name: string, query: URLSearchParams): void {
    resource(name);
    const files = target.logs;
    if (!files) throw new HttpError(404, 'no-logs', `resource "${name}" has no log files (only process resources of resmon run have)`);
    const raw = query.get('lines') ?? '50';
    const lines = Number(raw);
    if (!/^\d+$/.test(raw) || lines > 100_000) throw new HttpError(400, 'bad-request', `lines must be an integer 0..100000 (got ${JSON.stringify(raw)})`);
    const only = query.get('stream');
    if (only !== null && only !== 'stdout' && only !== 'stderr') throw new HttpError(400, 'bad-request', `stream must be stdout or stderr (got ${JSON.stringify(only)})`);
    const streams = only ? [only as 'stdout' | 'stderr'] : (['stdout', 'stderr'] as const);
    const follow = query.get('follow') === '1' || query.get('follow') === 'true';
    const out = stream(res, 'application/x-ndjson; charset=utf-8');
    for (const s of streams) for (const line of files.tail(name, s, lines)) out.write(`${JSON.stringify({ stream: s, line } satisfies LogLine)}\n`, s);
    if (!follow) {
      res.end();
      return;
    }
    const off = files.follow(name, (line) => {
      if (streams.includes(line.stream)) out.write(`${JSON.stringify(line)}\n`, line.stream);
    });
    req.once('close', off);
    res.once('close', off);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://resmon');
    if (!url.pathname.startsWith(`${prefix}/v1/`)) throw new HttpError(404, 'not-found', `no such endpoint: ${req.method} ${url.pathname} (the API is under ${prefix}/v1/)`);
    const parts = url.pathname.slice(prefix.length + 4).split('/').map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new HttpError(400, 'bad-request', `malformed path: ${url.pathname}`);
      }
    });
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';
    const post = method === 'POST';
    const wrong = (allowedMethod: string) => new HttpError(405, 'method-not-allowed', `${method} ${url.pathname}: use ${allowedMethod}`);
    const mutate = async () => {
      if (!post) throw wrong('POST');
      if (!allowed(req)) throw new HttpError(403, 'forbidden', 'this listener does not allow changes (read-only)');
      await drain(req);
    };

    if (parts.length === 1 && parts[0] === 'status') {
      if (!get) throw wrong('GET');
      const resources = monitor.snapshot();
      const groups: Record<string, string> = {};
      for (const r of resources) if (r.group && !(r.group in groups)) groups[r.group] = monitor.groupStatus(r.group).state;
      return send(res, 200, { ...target.info(), groups, resources: resources.map(statusOf) });
    }
    if (parts.length === 1 && parts[0] === 'events') {
      if (!get) throw wrong('GET');
      return events(req, res);
    }
    if (parts.length === 1 && parts[0] === 'reload') {
      await mutate();
      if (!target.reload) throw new HttpError(404, 'not-found', 'this daemon cannot reload');
      try {
        const report = await target.reload();
        return send(res, report.ok ? 200 : 409, report);
      } catch (error) {
        if (error instanceof ReloadRejected) throw new HttpError(422, 'invalid-config', error.message, error.errors);
        throw error;
      }
    }
    if (parts.length === 1 && parts[0] === 'shutdown') {
      await mutate();
      if (!target.shutdown) throw new HttpError(404, 'not-found', 'this daemon cannot shut down');
      send(res, 202, { ok: true, message: 'shutting down: every resource goes offline' });
      target.shutdown();
      return;
    }
    if (parts[0] === 'resources' && parts.length >= 2 && parts[1]) {
      const name = parts[1];
      if (parts.length === 2) {
        if (!get) throw wrong('GET');
        const status = statusOf(resource(name));
        const proc = target.processOf?.(name) ?? null;
        const files = proc && target.logs ? target.logs.paths(name) : null;
        return send(res, 200, { ...status, process: proc ? { pid: proc.pid, running: proc.running, lastExit: proc.lastExit } : null, logs: files });
      }
      if (parts.length === 3 && parts[2] === 'logs') {
        if (!get) throw wrong('GET');
        return logs(req, res, name, url.searchParams);
      }
      if (parts.length === 3 && (ACTIONS as readonly string[]).includes(parts[2] as string)) {
        await mutate();
        const status = await act(name, parts[2] as Action);
        return send(res, 200, { ok: true, status: statusOf(status) });
      }
    }
    throw new HttpError(404, 'not-found', `no such endpoint: ${method} ${url.pathname}`);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        send(res, error.status, { error: { code: error.code, message: error.message, ...(error.details !== undefined ? { details: error.details } : {}) } });
      } else if (isMonitorClosedError(error)) {
        send(res, 503, { error: { code: 'shutting-down', message: 'resmon is shutting down' } });
      } else {
        send(res, 500, { error: { code: 'internal', message: reasonOf(error) } });
      }
    });
  }) as ControlHandler;
  handler.close = () => {
    for (const res of open) res.end();
    open.clear();
  };
  return handler;
}

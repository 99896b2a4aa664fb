/**
 * The client commands: `resmon status|online|offline|restart|terminate|logs|reload|stop`, which
 * talk to a running `resmon run` over its control socket.
 *
 * Exit codes: 0 done, 1 the action failed (the reason is printed), 2 bad usage, 3 no
 * `resmon run` found (saying where it looked).
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { readConfigFile } from '../config/file.js';
import type { ResourceStatus } from '../types.js';
import { ControlSocketError, connectError, request } from '../daemon/socket.js';
import { type FlagSpec, parseFlags, SYNOPSIS, UsageError, wantsHelp } from './args.js';
import { type RowNote, renderFrame } from './table.js';

/** Config file names looked for in the current folder when no `-c` is given. */
const CONFIG_NAMES = ['resmon.yaml', 'resmon.yml', 'resmon.json'];

const COMMON = {
  config: { type: 'string', short: 'c' },
  control: { type: 'string' },
} as const satisfies Record<string, FlagSpec>;

/** Where the control socket is, and how it was found (for "no daemon found" messages). */
export async function findSocket(flags: { config?: string | undefined; control?: string | undefined }): Promise<{ socket: string; how: string }> {
  if (flags.control) return { socket: path.resolve(flags.control), how: '--control' };
  let file = flags.config;
  let how = `-c ${flags.config}${flags.config && !existsSync(flags.config) ? ', a file that does not exist' : ''}`;
  if (!file) {
    file = CONFIG_NAMES.find((name) => existsSync(name));
    how = file ? `./${file}` : 'the current folder';
  }
  if (!file) return { socket: path.resolve('.resmon/control.sock'), how };
  const dir = path.dirname(path.resolve(file));
  let socket: unknown;
  try {
    const parsed = await readConfigFile(file);
    const data = parsed.data as { control?: { socket?: unknown } } | null;
    socket = data?.control?.socket;
  } catch {
    socket = undefined;
  }
  return { socket: path.resolve(dir, typeof socket === 'string' && socket ? socket : '.resmon/control.sock'), how };
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}
const io: Io = { out: (s) => void process.stdout.write(s), err: (s) => void process.stderr.write(s) };

/** Runs one request; maps the outcome to an exit code, printing what went wrong. */
async function call(
  name: string,
  socket: { socket: string; how: string },
  method: string,
  urlPath: string,
): Promise<{ code: number; body: Record<string, unknown> | null }> {
  let answer: { status: number; body: string };
  try {
    answer = await request(socket.socket, method, urlPath);
  } catch (error) {
    return { code: failure(name, socket, error), body: null };
  }
  let body: Record<string, unknown> | null = null;
  try {
    body = JSON.parse(answer.body) as Record<string, unknown>;
  } catch {
    io.err(`resmon ${name}: the daemon answered ${answer.status} with no JSON: ${answer.body.slice(0, 200)}\n`);
    return { code: 1, body: null };
  }
  if (answer.status >= 400 || (answer.status >= 300 && body && 'error' in body)) {
    const error = (body?.error ?? {}) as { message?: string; details?: unknown };
    io.err(`resmon ${name}: ${error.message ?? `failed (${answer.status})`}\n`);
    if (Array.isArray(error.details)) for (const d of error.details) io.err(`  ${String(d)}\n`);
    return { code: 1, body };
  }
  return { code: 0, body };
}

function failure(name: string, socket: { socket: string; how: string }, error: unknown): number {
  if (error instanceof ControlSocketError) {
    if (error.code === 'not-found') {
      io.err(`resmon ${name}: ${error.message} (looked there because of ${socket.how}; start one with resmon run FILE, or pass -c FILE or --control PATH)\n`);
      return 3;
    }
    io.err(`resmon ${name}: ${error.message}\n`);
    return 1;
  }
  io.err(`resmon ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}

const USAGE: Record<string, string> = SYNOPSIS;

/** The synopsis of a client command. */
export const clientUsage = (name: string): string => USAGE[name] as string;

function usageError(name: string, error: unknown): number {
  if (!(error instanceof UsageError)) throw error;
  io.err(`resmon ${name}: ${error.message}\n`);
  return 2;
}

/** Formats a reload report (or a rejection) for people. */
function printReload(body: Record<string, unknown>): void {
  const list = (key: string) => (Array.isArray(body[key]) ? (body[key] as string[]) : []);
  const changed = Array.isArray(body.changed) ? (body.changed as { name: string; how: string[] }[]) : [];
  const failed = Array.isArray(body.failed) ? (body.failed as { name: string; action: string; reason: string }[]) : [];
  io.out(`added: ${list('added').join(', ') || '-'}\n`);
  io.out(`removed: ${list('removed').join(', ') || '-'}\n`);
  io.out(`changed: ${changed.map((c) => `${c.name} (${c.how.join(', ')})`).join(', ') || '-'}\n`);
  io.out(`unchanged: ${list('unchanged').join(', ') || '-'}\n`);
  for (const f of failed) io.err(`not applied: ${f.name}: ${f.action}: ${f.reason}\n`);
}

/** `resmon status`, `online`, `offline`, `restart`, `terminate`, `reload`, `stop`. */
export function clientCommand(name: 'status' | 'online' | 'offline' | 'restart' | 'terminate' | 'reload' | 'stop') {
  return async (argv: string[]): Promise<number> => {
    if (wantsHelp(argv)) {
      io.out(`usage: ${USAGE[name]}\n`);
      return 0;
    }
    const needsName = ['online', 'offline', 'restart', 'terminate'].includes(name);
    let parsed;
    try {
      parsed = parseFlags(
        argv,
        { ...COMMON, json: { type: 'boolean' } },
        USAGE[name] as string,
        needsName ? 1 : name === 'status' ? [0, 1] : 0,
        needsName || name === 'status' ? 'resource name' : 'argument',
      );
      if (parsed.flags.json && name !== 'status') throw new UsageError(`--json is for resmon status\nusage: ${USAGE[name]}`);
    } catch (error) {
      return usageError(name, error);
    }
    const socket = await findSocket(parsed.flags);
    const resource = parsed.positionals[0];
    if (name === 'status') {
      const { code, body } = await call(name, socket, 'GET', resource ? `/v1/resources/${encodeURIComponent(resource)}` : '/v1/status');
      if (code !== 0 || !body) return code;
      if (parsed.flags.json) io.out(`${JSON.stringify(body, null, 2)}\n`);
      else io.out(`${statusText(resource ? { file: socket.socket, resources: [body] } : body).join('\n')}\n`);
      return 0;
    }
    if (needsName) {
      const { code, body } = await call(name, socket, 'POST', `/v1/resources/${encodeURIComponent(resource as string)}/${name}`);
      if (code !== 0 || !body) return code;
      const status = body.status as { state?: string } | undefined;
      io.out(`${resource}: ${status?.state ?? 'done'}\n`);
      return 0;
    }
    if (name === 'reload') {
      const { code, body } = await call(name, socket, 'POST', '/v1/reload');
      if (body && !('error' in body)) printReload(body);
      return code;
    }
    const { code } = await call(name, socket, 'POST', '/v1/shutdown');
    if (code === 0) io.out('resmon is stopping: every resource goes offline\n');
    return code;
  };
}

/** The status table, once (the same columns as the live view of resmon run). */
export function statusText(body: Record<string, unknown>, columns = process.stdout.columns || 120, color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR): string[] {
  const resources = (Array.isArray(body.resources) ? body.resources : []) as (ResourceStatus & { reason?: string | null; progress?: string | null; pid?: number | null })[];
  const notes = new Map<string, RowNote>(resources.map((r) => [r.name, { reason: r.reason ?? undefined, progress: r.progress ?? undefined }]));
  const started = typeof body.startedAt === 'number' ? `, up since ${new Date(body.startedAt).toISOString().slice(0, 19)}Z` : '';
  const pid = typeof body.pid === 'number' ? `resmon pid ${body.pid}${started}` : '';
  const lines = renderFrame(
    {
      title: String(body.file ?? ''),
      statuses: resources,
      notes,
      groups: new Map(Object.entries((body.groups ?? {}) as Record<string, string>)),
      recent: [],
      now: Date.now(),
      status: pid,
    },
    { columns, rows: resources.length + 10, color },
  );
  // cluster: each unit's owner and fencing token, as this member last saw them.
  const cluster = body.cluster as
    | { node?: unknown; members?: string[] | null; units?: { unit: string; owner: string | null; token: number | null; offline?: boolean }[] }
    | undefined;
  if (cluster && Array.isArray(cluster.units)) {
    const members = Array.isArray(cluster.members) ? ` (live members: ${cluster.members.join(', ')})` : '';
    lines.push(`cluster member ${String(cluster.node)}${members}:`);
    for (const u of cluster.units) {
      lines.push(`  ${u.unit}  owner ${u.owner ?? '-'}  token ${u.token ?? '-'}${u.owner === cluster.node ? '  (this machine)' : ''}${u.offline ? '  offline cluster-wide' : ''}`);
    }
  }
  return lines;
}

/** `resmon logs NAME [-f] [-n N]`: stdout lines to stdout, stderr lines to stderr. */
export async function logsMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    io.out(`usage: ${USAGE.logs}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      { ...COMMON, follow: { type: 'boolean', short: 'f' }, lines: { type: 'string', short: 'n' }, stream: { type: 'string' } },
      USAGE.logs as string,
      1,
      'resource name',
    );
    const n = parsed.flags.lines;
    if (n !== undefined && !/^\d+$/.test(n)) throw new UsageError(`-n must be a number of lines (got ${JSON.stringify(n)})\nusage: ${USAGE.logs}`);
    const s = parsed.flags.stream;
    if (s !== undefined && s !== 'stdout' && s !== 'stderr') throw new UsageError(`--stream must be stdout or stderr (got ${JSON.stringify(s)})\nusage: ${USAGE.logs}`);
  } catch (error) {
    return usageError('logs', error);
  }
  const socket = await findSocket(parsed.flags);
  const query = new URLSearchParams({ lines: parsed.flags.lines ?? '50' });
  if (parsed.flags.follow) query.set('follow', '1');
  if (parsed.flags.stream) query.set('stream', parsed.flags.stream);
  const urlPath = `/v1/resources/${encodeURIComponent(parsed.positionals[0] as string)}/logs?${query}`;
  return new Promise<number>((resolve) => {
    const req = http.request({ socketPath: socket.socket, method: 'GET', path: urlPath }, (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          let message = body;
          try {
            message = (JSON.parse(body) as { error: { message: string } }).error.message;
          } catch {
            // as is
          }
          io.err(`resmon logs: ${message.trim()}\n`);
          resolve(1);
        });
        return;
      }
      const lines = createInterface({ input: res });
      lines.on('line', (text) => {
        try {
          const item = JSON.parse(text) as { stream?: string; line?: string; dropped?: number };
          if (item.dropped !== undefined) io.err(`[resmon: ${item.dropped} lines dropped: this terminal was behind]\n`);
          else if (item.stream === 'stderr') io.err(`${item.line}\n`);
          else io.out(`${item.line}\n`);
        } catch {
          io.out(`${text}\n`);
        }
      });
      res.on('end', () => resolve(0));
      res.on('error', () => resolve(0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(failure('logs', socket, connectError(socket.socket, error))));
    req.end();
    const stop = () => {
      req.destroy();
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { abortable, delay } from '../abort.js';
import { ConfigError, reasonOf } from '../errors.js';
import { at, type Fields, numberAt, objectAt, onlyKeys, portAt, stringAt, stringsAt } from './fields.js';
import { signalGroup } from './group.js';
import { OutputTail } from './output.js';

/**
 * An HTTP probe: a GET of `url` passes when the status matches and, if `body` is given, the
 * response body contains it.
 * @example { url: 'http://127.0.0.1:8080/health', status: 200, body: 'ok', timeout: 2000 }
 */
export interface HttpProbeSpec {
  /** An absolute `http://` or `https://` URL. */
  url: string;
  /** The status that passes. @default any of 200..399 */
  status?: number;
  /** Text the response body must contain (the first 64 KiB are read). @default no body check */
  body?: string;
  /** Milliseconds before the probe fails. @default 2000 */
  timeout?: number;
}

/**
 * A TCP probe: passes when a connection to `host:port` opens.
 * @example { host: '127.0.0.1', port: 6379, timeout: 1000 }
 */
export interface TcpProbeSpec {
  /** Host name or address. @default '127.0.0.1' */
  host?: string;
  /** Port, 1..65535. */
  port: number;
  /** Milliseconds before the probe fails. @default 2000 */
  timeout?: number;
}

/**
 * An exec probe: runs `command` with `args` (no shell), in its own process group; exit code 0
 * passes. A probe past its `timeout` is killed with its group.
 * @example { command: 'pg_isready', args: ['-h', '127.0.0.1'], timeout: 5000 }
 */
export interface ExecProbeSpec {
  /** The program to run (looked up on PATH). */
  command: string;
  /** Its arguments. @default [] */
  args?: string[];
  /** Milliseconds before the probe is killed and fails. @default 5000 */
  timeout?: number;
}

/** A probe as written in properties: exactly one of `http`, `tcp` or `exec`. */
export type ProbeSpec = { http: HttpProbeSpec } | { tcp: TcpProbeSpec } | { exec: ExecProbeSpec };

/** A validated probe, defaults filled in. */
export type Probe =
  | { readonly kind: 'http'; readonly url: string; readonly status: number | null; readonly body: string | null; readonly timeout: number }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly timeout: number }
  | { readonly kind: 'exec'; readonly command: string; readonly args: readonly string[]; readonly timeout: number };

/** Where an exec probe runs (a process resource passes its own `cwd` and `env`). */
export interface ProbeOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

const KINDS = ['http', 'tcp', 'exec'] as const;
const BODY_LIMIT = 64 * 1024;

/** Checks the fields of an HTTP probe at `prefix`. */
export function httpProbe(object: Fields, prefix: string, extra: readonly string[] = []): Probe & { kind: 'http' } {
  onlyKeys(object, ['url', 'status', 'body', 'timeout', ...extra], prefix);
  const url = stringAt(object, 'url', prefix, true);
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new ConfigError(at(prefix, 'url'), url, 'must be an absolute http:// or https:// URL');
  }
  const status = object.status === undefined ? null : numberAt(object, 'status', prefix, 0, { min: 100, max: 599, integer: true });
  const body = stringAt(object, 'body', prefix) ?? null;
  const timeout = numberAt(object, 'timeout', prefix, 2_000, { min: 0, exclusive: true });
  return { kind: 'http', url: parsed.href, status, body, timeout };
}

/** Checks the fields of a TCP probe at `prefix`. */
export function tcpProbe(object: Fields, prefix: string, extra: readonly string[] = []): Probe & { kind: 'tcp' } {
  onlyKeys(object, ['host', 'port', 'timeout', ...extra], prefix);
  const host = stringAt(object, 'host', prefix) ?? '127.0.0.1';
  const port = portAt(object, 'port', prefix);
  const timeout = numberAt(object, 'timeout', prefix, 2_000, { min: 0, exclusive: true });
  return { kind: 'tcp', host, port, timeout };
}

/** Checks the fields of an exec probe at `prefix`. */
export function execProbe(object: Fields, prefix: string): Probe & { kind: 'exec' } {
  onlyKeys(object, ['command', 'args', 'timeout'], prefix);
  const command = stringAt(object, 'command', prefix, true);
  const args = stringsAt(object, 'args', prefix);
  const timeout = numberAt(object, 'timeout', prefix, 5_000, { min: 0, exclusive: true });
  return { kind: 'exec', command, args, timeout };
}

/**
 * Checks a probe written as `{ http: {...} }`, `{ tcp: {...} }` or `{ exec: {...} }` at
 * `field`; `extra` names sibling keys the caller reads itself (a readiness `interval`).
 */
export function parseProbe(value: unknown, field: string, extra: readonly string[] = []): Probe {
  const object = objectAt(value, field, 'a probe: exactly one of { http: {...} }, { tcp: {...} } or { exec: {...} }');
  onlyKeys(object, [...KINDS, ...extra], field);
  const kinds = KINDS.filter((k) => object[k] !== undefined);
  if (kinds.length !== 1) {
    throw new ConfigError(field, value, `must hold exactly one of http, tcp or exec (found ${kinds.length === 0 ? 'none' : kinds.join(' and ')})`);
  }
  const kind = kinds[0] as (typeof KINDS)[number];
  const prefix = `${field}.${kind}`;
  const body = objectAt(object[kind], prefix);
  if (kind === 'http') return httpProbe(body, prefix);
  if (kind === 'tcp') return tcpProbe(body, prefix);
  return execProbe(body, prefix);
}

/** A short name for messages: `GET http://…`, `tcp 127.0.0.1:6379`, `exec pg_isready`. */
export function describeProbe(probe: Probe): string {
  if (probe.kind === 'http') return `GET ${probe.url}`;
  if (probe.kind === 'tcp') return `tcp ${probe.host}:${probe.port}`;
  return `exec ${probe.command}`;
}

/**
 * Runs a probe once. Resolves when it passes; rejects with an Error that says why it failed
 * (its message is the check's reason). Aborting `signal` stops it at once.
 */
export function runProbe(probe: Probe, signal: AbortSignal, options: ProbeOptions = {}): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  if (probe.kind === 'http') return runHttp(probe, signal);
  if (probe.kind === 'tcp') return runTcp(probe, signal);
  return runExec(probe, signal, options);
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('probe aborted');
}

/**
 * Runs `body` (which starts the probe, calls `finish` once with its verdict, and returns how to
 * stop it) within `timeoutMs` and until `signal` aborts; the probe is stopped however it ends.
 */
function probeWithin(
  signal: AbortSignal,
  timeoutMs: number,
  body: (finish: (error?: Error) => void) => () => void,
): Promise<void> {
  let stop: () => void = () => {};
  const verdict = new Promise<void>((resolve, reject) => {
    stop = body((error) => (error ? reject(error) : resolve()));
  });
  return abortable(verdict, {
    timeoutMs,
    signal,
    onTimeout: () => {
      throw new Error(`timed out after ${timeoutMs} ms`);
    },
  }).finally(() => stop());
}

function runHttp(probe: Probe & { kind: 'http' }, signal: AbortSignal): Promise<void> {
  return probeWithin(signal, probe.timeout, (finish) => {
    const client = probe.url.startsWith('https:') ? https : http;
    const req = client.request(probe.url, { method: 'GET', agent: false, headers: { 'user-agent': 'resmon-probe' } }, (res) => {
      const status = res.statusCode ?? 0;
      const statusOk = probe.status === null ? status >= 200 && status < 400 : status === probe.status;
      if (!statusOk) {
        res.resume();
        finish(new Error(`GET ${probe.url} answered ${status}, expected ${probe.status ?? '200..399'}`));
        return;
      }
      if (probe.body === null) {
        res.resume();
        res.on('end', () => finish());
        res.on('error', (error) => finish(error));
        return;
      }
      const wanted = probe.body;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < BODY_LIMIT) text += chunk;
        if (text.includes(wanted)) finish();
      });
      res.on('end', () => finish(text.includes(wanted) ? undefined : new Error(`GET ${probe.url}: the body does not contain ${JSON.stringify(wanted)}`)));
      res.on('error', (error) => finish(error));
    });
    req.on('error', (error) => finish(new Error(`GET ${probe.url} failed: ${error.message}`)));
    req.end();
    return () => req.destroy();
  });
}

function runTcp(probe: Probe & { kind: 'tcp' }, signal: AbortSignal): Promise<void> {
  return probeWithin(signal, probe.timeout, (finish) => {
    const socket = net.connect({ host: probe.host, port: probe.port });
    socket.once('connect', () => finish());
    socket.once('error', (error) => finish(new Error(`connect to ${probe.host}:${probe.port} failed: ${error.message}`)));
    return () => socket.destroy();
  });
}

function runExec(probe: Probe & { kind: 'exec' }, signal: AbortSignal, options: ProbeOptions): Promise<void> {
  return probeWithin(signal, probe.timeout, (finish) => {
    const stderr = new OutputTail(5);
    const child = spawn(probe.command, probe.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const pid = child.pid;
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    child.once('error', (error) => finish(new Error(`exec ${probe.command} failed: ${error.message}`)));
    child.once('exit', (code, sig) => {
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      stderr.flush();
      const tail = stderr.last(3).join(' | ');
      if (code === 0) finish();
      else finish(new Error(`exec ${probe.command} exited with ${code === null ? `signal ${sig}` : `code ${code}`}${tail ? `: ${tail}` : ''}`));
    });
    return () => {
      if (pid !== undefined && child.exitCode === null && child.signalCode === null) signalGroup(pid, 'SIGKILL');
      child.stderr?.destroy();
    };
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return delay(ms, { signal });
}

/** How a readiness loop retries. */
export interface ReadyLoop {
  /** Aborts the loop and the probe in flight. */
  signal: AbortSignal;
  /** Milliseconds between tries. */
  interval: number;
  /** Give up (reject) when the probe has not passed within this many milliseconds. */
  startTimeout: number;
  /** Called after each failed try (the types call `ctx.reportProgress`). */
  onRetry(message: string): void;
  options?: ProbeOptions;
}

/**
 * Runs `probe` until it passes: resolves with the number of tries. After each failed try it
 * reports progress and waits `interval`; it rejects when `startTimeout` passes (with the last
 * reason) or with the signal's reason when aborted.
 */
export async function untilReady(probe: Probe, loop: ReadyLoop): Promise<number> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await runProbe(probe, loop.signal, loop.options);
      return attempt;
    } catch (error) {
      if (loop.signal.aborted) throw abortError(loop.signal);
      const reason = reasonOf(error);
      const elapsed = Date.now() - started;
      if (elapsed >= loop.startTimeout) {
        throw new Error(`not ready after ${elapsed} ms (startTimeout ${loop.startTimeout} ms, ${attempt} tries): ${reason}`);
      }
      loop.onRetry(`waiting for ${describeProbe(probe)} (try ${attempt}): ${reason}`);
    }
    await sleep(loop.interval, loop.signal);
  }
}

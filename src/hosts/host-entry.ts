/**
 * The program an isolation host runs: in a worker thread (started by worker-host.ts) or in a
 * child process (started by process-host.ts). It loads resource type modules, keeps the
 * per-resource state (validated properties, the handle `open` returned) and runs the entry
 * points the monitor asks for, with a context whose progress, failures and log lines travel
 * back as messages. It trusts nothing it is sent: a bad message is reported, never thrown.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, reasonOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EntryPoint, ResourceContext, ResourceType } from '../types.js';
import { loadTypeExport } from './load.js';
import {
  decodeError,
  encodeError,
  encodeLogArgs,
  encodeValue,
  type HostInit,
  type HostMessage,
  type LogLevel,
  type MonitorMessage,
  parseMonitorMessage,
  type TypeInfo,
} from './protocol.js';

interface HostedResource {
  readonly typeId: number;
  readonly raw: unknown;
  /** The validated properties, or why validate rejected them (computed at the first call). */
  properties?: { ok: true; value: unknown } | { ok: false; error: unknown };
  /** `open` ran in this host (the handle of an earlier host died with it). */
  opened: boolean;
  handle: unknown;
}

const port = parentPort;
const init: HostInit = port ? (workerData as HostInit) : (JSON.parse(process.argv[2] ?? '{"log":false}') as HostInit);

function send(message: HostMessage): void {
  if (port) port.postMessage(message);
  else process.send?.(message);
}

const types = new Map<number, Promise<ResourceType<unknown, unknown>>>();
const resources = new Map<string, HostedResource>();
const calls = new Map<number, AbortController>();
const noop = () => {};

function load(specifier: string, exportName: string): Promise<ResourceType<unknown, unknown>> {
  return loadTypeExport(specifier, exportName);
}

function describe(type: ResourceType<unknown, unknown>): TypeInfo {
  return {
    name: type.name,
    defaults: type.defaults ? { ...type.defaults } : undefined,
    has: {
      validate: typeof type.validate === 'function',
      open: typeof type.open === 'function',
      looksAlive: typeof type.looksAlive === 'function',
      close: typeof type.close === 'function',
    },
  };
}

function logger(resource: string, entryPoint: EntryPoint): Logger {
  if (!init.log) return { debug: noop, info: noop, warn: noop, error: noop };
  const line =
    (level: LogLevel) =>
    (...args: unknown[]) =>
      send({ t: 'log', resource, entryPoint, level, args: encodeLogArgs(args) });
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

function propertiesOf(name: string, r: HostedResource, type: ResourceType<unknown, unknown>): unknown {
  if (!r.properties) {
    try {
      r.properties = { ok: true, value: type.validate ? type.validate(r.raw) : r.raw };
    } catch (error) {
      r.properties = {
        ok: false,
        error: new ConfigError('properties', r.raw, `were rejected by type "${type.name}": ${reasonOf(error)}`, {
          context: `resource "${name}"`,
          cause: error,
        }),
      };
    }
  }
  if (!r.properties.ok) throw r.properties.error;
  return r.properties.value;
}

async function run(id: number, name: string, entryPoint: EntryPoint, signal: AbortSignal): Promise<unknown> {
  const r = resources.get(name);
  if (!r) throw new Error(`host: no resource "${name}" was added to this host`);
  const type = await (types.get(r.typeId) ?? Promise.reject(new Error(`host: type ${r.typeId} was never loaded`)));
  const properties = propertiesOf(name, r, type);
  const context = (handle: unknown, ep: EntryPoint): ResourceContext<unknown, unknown> => ({
    resource: name,
    properties: properties as Readonly<unknown>,
    handle,
    signal,
    reportProgress: (message?: string) => send(message === undefined ? { t: 'progress', id } : { t: 'progress', id, message: String(message) }),
    reportFailure: (reason?: unknown) =>
      send(reason === undefined ? { t: 'failure', id, resource: name } : { t: 'failure', id, resource: name, reason: encodeError(reason) }),
    log: logger(name, ep),
  });
  if (type.open && !r.opened) {
    // This host has no handle for the resource: open it first (its handle died with an earlier
    // host), or, when there is nothing to stop or check, skip the call.
    if (entryPoint === 'open' || entryPoint === 'online') {
      r.handle = await type.open(context(undefined, 'open') as ResourceContext<unknown, undefined>);
      r.opened = true;
      if (entryPoint === 'open') return undefined;
    } else if (entryPoint === 'looksAlive' || entryPoint === 'isAlive') {
      throw new Error(`${entryPoint} of "${name}" reached a host where it was never opened`);
    } else {
      return undefined;
    }
  }
  const fn = type[entryPoint] as ((ctx: ResourceContext<unknown, unknown>) => unknown) | undefined;
  if (entryPoint === 'open') return undefined;
  if (typeof fn !== 'function') throw new Error(`type "${type.name}" has no ${entryPoint}`);
  return await fn.call(type, context(r.handle, entryPoint));
}

function onMessage(raw: unknown): void {
  const m: MonitorMessage | string = parseMonitorMessage(raw);
  if (typeof m === 'string') {
    send({ t: 'fatal', error: encodeError(new Error(`host received a malformed message: ${m}`)) as never });
    return;
  }
  switch (m.t) {
    case 'load': {
      const loading = load(m.module, m.exportName);
      types.set(m.typeId, loading);
      loading.then(
        (type) => send({ t: 'loaded', typeId: m.typeId, info: describe(type) }),
        (error: unknown) => send({ t: 'loadFailed', typeId: m.typeId, error: encodeError(error instanceof Error ? error : new Error(reasonOf(error))) as never }),
      );
      // The failure is reported above; calls of this type reject with it.
      loading.catch(noop);
      return;
    }
    case 'add':
      resources.set(m.resource, { typeId: m.typeId, raw: m.properties, opened: false, handle: undefined });
      return;
    case 'remove':
      resources.delete(m.resource);
      return;
    case 'abort':
      calls.get(m.id)?.abort(decodeError(m.reason));
      return;
    case 'call': {
      const controller = new AbortController();
      calls.set(m.id, controller);
      run(m.id, m.resource, m.entryPoint, controller.signal).then(
        (value) => {
          calls.delete(m.id);
          send({ t: 'result', id: m.id, ok: true, value: encodeValue(value) });
        },
        (error: unknown) => {
          calls.delete(m.id);
          send({ t: 'result', id: m.id, ok: false, error: encodeError(error) });
        },
      );
      return;
    }
  }
}

if (port) {
  port.on('message', onMessage);
} else {
  process.on('message', onMessage);
  // The monitor went away: a host never outlives it.
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (error) => {
    const exit = () => process.exit(70);
    setTimeout(exit, 500).unref();
    try {
      process.send?.({ t: 'fatal', error: encodeError(error instanceof Error ? error : new Error(reasonOf(error))) }, exit);
    } catch {
      exit();
    }
  });
}
send({ t: 'ready' });

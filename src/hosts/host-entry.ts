/**
 * The program an isolation host runs: in a worker thread (started by worker-host.ts) or in a
 * child process (started by process-host.ts). It loads resource type modules, keeps the
 * per-resource state (validated properties, the handle `open` returned) and runs the entry
 * points the monitor asks for, with a context whose progress, failures and log lines travel
 * back as messages. It trusts nothing it is sent: a bad message is reported, never thrown.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, describeValue, isError, reasonOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EntryPoint, ResourceContext, ResourceType } from '../types.js';
import { loadTypeExport } from './load.js';
import {
  type CallArgs,
  decodeError,
  encodeAnswer,
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
  raw: unknown;
  /** The validated properties, or why validate rejected them (computed at the first call). */
  properties?: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
  /** `open` ran in this host (the handle of an earlier host died with it). */
  opened: boolean;
  handle: unknown;
  /**
   * An `online` call started and no `offline` or `terminate` has succeeded since: the plugin may
   * have something running that must not outlive the monitor (see {@link monitorGone}).
   */
  mayBeUp: boolean;
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
      applyProperties: typeof type.applyProperties === 'function',
      control: typeof type.control === 'function',
      typeControl: typeof type.typeControl === 'function',
    },
    reportsFailures: type.reportsFailures === true,
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

/** Runs the type's validate on `raw`: the typed properties, or a ConfigError that says why not. */
function validated(name: string, raw: unknown, type: ResourceType<unknown, unknown>): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: type.validate ? type.validate(raw) : raw };
  } catch (error) {
    return {
      ok: false,
      error: new ConfigError('properties', raw, `were rejected by type "${type.name}": ${reasonOf(error)}`, {
        context: name ? `resource "${name}"` : `type "${type.name}"`,
        cause: error,
      }),
    };
  }
}

function propertiesOf(name: string, r: HostedResource, type: ResourceType<unknown, unknown>): unknown {
  r.properties ??= validated(name, r.raw, type);
  if (!r.properties.ok) throw r.properties.error;
  return r.properties.value;
}

function loaded(typeId: number): Promise<ResourceType<unknown, unknown>> {
  return types.get(typeId) ?? Promise.reject(new Error(`host: type ${typeId} was never loaded`));
}

async function run(id: number, name: string, entryPoint: EntryPoint, signal: AbortSignal, args: CallArgs | undefined, fencingToken?: number): Promise<unknown> {
  const r = resources.get(name);
  if (!r) throw new Error(`host: no resource "${name}" was added to this host`);
  const type = await loaded(r.typeId);
  const properties = propertiesOf(name, r, type);
  const context = (handle: unknown, ep: EntryPoint): ResourceContext<unknown, unknown> => ({
    resource: name,
    properties: properties as Readonly<unknown>,
    handle,
    signal,
    reportProgress: (message?: string, checkpoint?: number) => {
      const m: HostMessage = { t: 'progress', id };
      if (message !== undefined) m.message = typeof message === 'string' ? message : describeValue(message);
      if (typeof checkpoint === 'number' && Number.isFinite(checkpoint)) m.checkpoint = checkpoint;
      send(m);
    },
    reportFailure: (reason?: unknown) =>
      send(reason === undefined ? { t: 'failure', id, resource: name } : { t: 'failure', id, resource: name, reason: encodeError(reason) }),
    log: logger(name, ep),
    ...(fencingToken === undefined ? {} : { fencingToken }),
  });
  if (entryPoint === 'applyProperties' || entryPoint === 'control') {
    // Like inline: called with the handle open returned, undefined when not opened (here).
    const handle = r.opened ? r.handle : undefined;
    if (entryPoint === 'control') {
      const { code, input } = args as { code: string; input: unknown };
      const fn = type.control;
      if (typeof fn !== 'function') throw new Error(`type "${type.name}" has no control`);
      return encodeAnswer(await fn.call(type, context(handle, entryPoint), code, input), `control("${code}") of "${name}"`);
    }
    const fn = type.applyProperties;
    if (typeof fn !== 'function') throw new Error(`type "${type.name}" has no applyProperties`);
    const next = validated(name, (args as { next: unknown }).next, type);
    if (!next.ok) throw next.error;
    return await fn.call(type, context(handle, entryPoint), next.value as Readonly<unknown>, properties as Readonly<unknown>);
  }
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
  if (entryPoint === 'online') r.mayBeUp = true;
  const value = await fn.call(type, context(r.handle, entryPoint));
  if (entryPoint === 'offline' || entryPoint === 'terminate') r.mayBeUp = false;
  return value;
}

/** How long a process host whose monitor went away spends terminating its resources before it exits. */
const ORPHAN_TERMINATE_MS = 5_000;
let leaving = false;

/**
 * The monitor's process went away (its IPC channel closed: it exited, or was SIGKILLed): a host
 * never outlives it, and neither does what its plugins started. Every running call is aborted,
 * `terminate` runs for each resource that may be up (at once, all together, with a signal that
 * aborts after {@link ORPHAN_TERMINATE_MS}), then the host exits; its exit hook SIGKILLs any
 * process group the built-in types still track.
 */
function monitorGone(): void {
  if (leaving) return;
  leaving = true;
  const gone = new Error('the monitor went away');
  for (const controller of calls.values()) controller.abort(gone);
  const deadline = AbortSignal.timeout(ORPHAN_TERMINATE_MS);
  const exit = () => process.exit(0);
  setTimeout(exit, ORPHAN_TERMINATE_MS + 100).unref();
  const up = [...resources].filter(([, r]) => r.mayBeUp);
  Promise.allSettled(
    up.map(async ([name, r]) => {
      const type = await loaded(r.typeId);
      if (type.open && !r.opened) return;
      const ctx: ResourceContext<unknown, unknown> = {
        resource: name,
        properties: propertiesOf(name, r, type) as Readonly<unknown>,
        handle: r.handle,
        signal: deadline,
        reportProgress: noop,
        reportFailure: noop,
        log: { debug: noop, info: noop, warn: noop, error: noop },
      };
      await type.terminate.call(type, ctx);
    }),
  ).then(exit, exit);
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
        (type) => {
          let info: TypeInfo;
          try {
            info = describe(type);
          } catch (error) {
            // A getter of the type that throws the second time it is read: the load fails, the host lives.
            send({ t: 'loadFailed', typeId: m.typeId, error: encodeError(new Error(`the type could not be read: ${reasonOf(error)}`)) as never });
            return;
          }
          send({ t: 'loaded', typeId: m.typeId, info });
        },
        (error: unknown) => send({ t: 'loadFailed', typeId: m.typeId, error: encodeError(isError(error) ? error : new Error(reasonOf(error))) as never }),
      );
      // The failure is reported above; calls of this type reject with it.
      loading.catch(noop);
      return;
    }
    case 'add':
      resources.set(m.resource, { typeId: m.typeId, raw: m.properties, opened: false, handle: undefined, mayBeUp: false });
      return;
    case 'remove':
      resources.delete(m.resource);
      return;
    case 'props': {
      // New properties in force (setProperties): validated again at the next call.
      const r = resources.get(m.resource);
      if (r) {
        r.raw = m.properties;
        r.properties = undefined;
      }
      return;
    }
    case 'validate':
      loaded(m.typeId)
        .then((type) => {
          const out = validated('', m.properties, type);
          if (!out.ok) throw out.error;
        })
        .then(
          () => send({ t: 'result', id: m.id, ok: true, value: undefined }),
          (error: unknown) => send({ t: 'result', id: m.id, ok: false, error: encodeError(error) }),
        );
      return;
    case 'typeCall': {
      const controller = new AbortController();
      calls.set(m.id, controller);
      const noLog = { debug: noop, info: noop, warn: noop, error: noop };
      loaded(m.typeId)
        .then(async (type) => {
          const fn = type.typeControl;
          if (typeof fn !== 'function') throw new Error(`type "${type.name}" has no typeControl`);
          const ctx = { type: type.name, signal: controller.signal, log: init.log ? logger('', 'typeControl') : noLog };
          return encodeAnswer(await fn.call(type, m.code, m.input, ctx), `typeControl("${m.code}") of type "${type.name}"`);
        })
        .then(
          (value) => {
            calls.delete(m.id);
            send({ t: 'result', id: m.id, ok: true, value });
          },
          (error: unknown) => {
            calls.delete(m.id);
            send({ t: 'result', id: m.id, ok: false, error: encodeError(error) });
          },
        );
      return;
    }
    case 'abort':
      calls.get(m.id)?.abort(decodeError(m.reason));
      return;
    case 'call': {
      const controller = new AbortController();
      calls.set(m.id, controller);
      run(m.id, m.resource, m.entryPoint, controller.signal, m.args, m.fencingToken).then(
        (value) => {
          calls.delete(m.id);
          // A control's answer is already encoded (and checked to be cloneable).
          send({ t: 'result', id: m.id, ok: true, value: m.entryPoint === 'control' ? value : encodeValue(value) });
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
  // The monitor went away: a host never outlives it (nor does what its resources started).
  process.on('disconnect', monitorGone);
  process.on('uncaughtException', (error) => {
    const exit = () => process.exit(70);
    setTimeout(exit, 500).unref();
    try {
      process.send?.({ t: 'fatal', error: encodeError(isError(error) ? error : new Error(reasonOf(error))) }, exit);
    } catch {
      exit();
    }
  });
}
send({ t: 'ready' });

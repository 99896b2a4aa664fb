/**
 * The messages between the monitor and an isolation host (a worker thread or a child process),
 * how values and errors cross, and the validation of what a host sends. A host is untrusted:
 * anything it sends that does not fit here is a protocol violation, handled as the host failing.
 */
import { describeValue, isError, reasonOf, ResmonError } from '../errors.js';
import { DEFAULT_PROCESSING, type EntryPoint } from '../types.js';

/** What a host reports about a type module it loaded. */
export interface TypeInfo {
  name: string;
  defaults: Record<string, unknown> | undefined;
  /** Which optional entry points the plugin has (the last three are optional in the message). */
  has: {
    validate: boolean;
    open: boolean;
    looksAlive: boolean;
    close: boolean;
    applyProperties?: boolean;
    control?: boolean;
    typeControl?: boolean;
  };
  /** The type reports failures itself (not polled with looksAlive). */
  reportsFailures?: boolean;
}

/** An Error (or anything thrown) as it crosses the boundary. */
export interface EncodedError {
  $error: {
    name: string;
    message: string;
    stack?: string;
    code?: string | number;
    timeoutMs?: number;
    /** The details of an `OcfError` (exitCode, ocfName, permanent...), so its guard and restart rule hold across. */
    details?: Record<string, string | number | boolean | null>;
  };
}

/** The fields of an `OcfError` that cross with it. */
const DETAILS = ['agent', 'action', 'exitCode', 'ocfName', 'exitReason', 'permanent'] as const;

// ---- monitor -> host ---------------------------------------------------------------------------

export type MonitorMessage =
  | { t: 'load'; typeId: number; module: string; exportName: string }
  | { t: 'add'; resource: string; typeId: number; properties: unknown }
  | { t: 'remove'; resource: string }
  | { t: 'call'; id: number; resource: string; entryPoint: EntryPoint; args?: CallArgs; fencingToken?: number }
  | { t: 'props'; resource: string; properties: unknown }
  | { t: 'validate'; id: number; typeId: number; properties: unknown }
  | { t: 'typeCall'; id: number; typeId: number; code: string; input: unknown }
  | { t: 'abort'; id: number; reason: EncodedError };

/** The arguments of an entry point beyond its context. */
export type CallArgs = { next: unknown } | { code: string; input: unknown };

// ---- host -> monitor ---------------------------------------------------------------------------

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type HostMessage =
  | { t: 'ready' }
  | { t: 'loaded'; typeId: number; info: TypeInfo }
  | { t: 'loadFailed'; typeId: number; error: EncodedError }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: unknown }
  | { t: 'progress'; id: number; message?: string; checkpoint?: number }
  | { t: 'failure'; id: number; resource: string; reason?: unknown }
  | { t: 'log'; resource: string; entryPoint: EntryPoint; level: LogLevel; args: unknown[] }
  | { t: 'fatal'; error: EncodedError };

/** What the host is started with (workerData, or the first argument of a child process). */
export interface HostInit {
  /** Whether ctx.log lines should be sent (false when the monitor's logger is silent). */
  log: boolean;
}

export const ENTRY_POINTS: readonly EntryPoint[] = [
  'open',
  'online',
  'offline',
  'terminate',
  'looksAlive',
  'isAlive',
  'close',
  'applyProperties',
  'control',
  'typeControl',
];
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'];

// ---- values and errors -------------------------------------------------------------------------

/** A property of a foreign object, undefined when reading it throws. */
function read(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * Encodes anything a plugin threw or passed to reportFailure. Total: a hostile value (an Error
 * whose getters throw, a revoked Proxy, a Proxy whose traps throw) is encoded as far as it can be
 * read, never thrown on, so it cannot kill the host.
 */
export function encodeError(value: unknown): EncodedError | unknown {
  if (isError(value)) {
    const name = read(value, 'name');
    const message = read(value, 'message');
    const stack = read(value, 'stack');
    const code = read(value, 'code');
    const timeoutMs = read(value, 'timeoutMs');
    const out: EncodedError['$error'] = {
      name: typeof name === 'string' ? name : 'Error',
      message: typeof message === 'string' ? message : typeof name === 'string' ? '' : describeValue(value),
    };
    if (typeof stack === 'string') out.stack = stack;
    if (typeof code === 'string' || typeof code === 'number') out.code = code;
    if (typeof timeoutMs === 'number') out.timeoutMs = timeoutMs;
    if (code === 'ERR_RESMON_OCF') {
      const details: Record<string, string | number | boolean | null> = {};
      for (const key of DETAILS) {
        const v = read(value, key);
        if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') details[key] = v;
      }
      out.details = details;
    }
    return { $error: out };
  }
  return encodeValue(value);
}

/**
 * Encodes a value returned by a plugin (a check's verdict): primitives cross as they are;
 * objects, arrays and functions cross as empty stand-ins, enough for the monitor to say what
 * came back ("returned a non-boolean (an object)") without cloning plugin state.
 */
export function encodeValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return value;
    case 'symbol':
      return { $symbol: describeValue(value) };
    case 'function':
      return { $function: true };
    default:
      if (value === null) return null;
      if (isError(value)) return encodeError(value);
      try {
        return Array.isArray(value) ? { $array: true } : { $object: true };
      } catch {
        // A revoked Proxy.
        return { $object: true };
      }
  }
}

/** The monitor-side value of something encoded by `encodeValue`/`encodeError`. */
export function decodeValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  if ('$error' in record) return decodeError(record as unknown as EncodedError);
  if ('$array' in record) return [];
  if ('$function' in record) return () => {};
  if ('$symbol' in record) return Symbol(String(record.$symbol).replace(/^Symbol\((.*)\)$/, '$1'));
  return {};
}

/**
 * An Error with the name, message, stack and code of the encoded one. Its class does not cross,
 * but a resmon error comes back as a resmon error with the same code, so the guards
 * (`isCallTimeoutError`, `isConfigError`, ...) recognise it on both sides.
 */
export function decodeError(encoded: EncodedError): Error {
  const { name, message, stack, code, timeoutMs, details } = encoded.$error;
  const error = typeof code === 'string' && code.startsWith('ERR_RESMON') ? new ResmonError(message) : new Error(message);
  Object.defineProperty(error, 'name', { value: name, writable: true, configurable: true, enumerable: false });
  if (stack !== undefined) error.stack = stack;
  if (code !== undefined) Object.defineProperty(error, 'code', { value: code, writable: true, configurable: true, enumerable: true });
  if (timeoutMs !== undefined) Object.defineProperty(error, 'timeoutMs', { value: timeoutMs, enumerable: true });
  if (typeof details === 'object' && details !== null) {
    for (const key of DETAILS) if (key in details) Object.defineProperty(error, key, { value: details[key], enumerable: true });
  }
  return error;
}

/**
 * Encodes the answer of a `control` or `typeControl` (inside the host): DEFAULT_PROCESSING
 * crosses as a marker, anything else as itself. Throws a clear Error when the answer cannot be
 * structured-cloned (a function, a class with private state, a socket), so the call fails
 * instead of the host.
 */
export function encodeAnswer(value: unknown, what: string): unknown {
  if (value === DEFAULT_PROCESSING) return { $default: true };
  try {
    structuredClone(value);
  } catch (error) {
    throw new Error(
      `${what} returned a value that cannot cross to the monitor (${reasonOf(error)}); return plain data (objects, arrays, strings, numbers, Maps, Dates...)`,
    );
  }
  return { $answer: value };
}

/** The monitor-side answer of a hosted `control` or `typeControl`. */
export function decodeAnswer(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    if ('$default' in value) return DEFAULT_PROCESSING;
    if ('$answer' in value) return (value as { $answer: unknown }).$answer;
  }
  return decodeValue(value);
}

/** An Error as a plain object for a log line (its readable name, message and stack). */
function logError(error: Error): Record<string, unknown> {
  const encoded = encodeError(error) as EncodedError;
  return { name: encoded.$error.name, message: encoded.$error.message, stack: encoded.$error.stack };
}

/** A string form of anything: `String(value)`, or its description when that throws. */
function stringOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return describeValue(value);
  }
}

/**
 * Log arguments: Errors become plain objects; what cannot be cloned becomes its string form.
 * Total: an argument that cannot be read at all (a hostile value) becomes its description.
 */
export function encodeLogArgs(args: unknown[]): unknown[] {
  return args.map((arg) => {
    try {
      if (isError(arg)) return logError(arg);
      if (typeof arg === 'object' && arg !== null && !Array.isArray(arg)) {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(arg)) {
          out[key] = isError(value) ? logError(value) : value;
        }
        try {
          structuredClone(out);
          return out;
        } catch {
          return stringOf(arg);
        }
      }
      try {
        structuredClone(arg);
        return arg;
      } catch {
        return stringOf(arg);
      }
    } catch {
      return describeValue(arg);
    }
  });
}

// ---- validation --------------------------------------------------------------------------------

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isEncodedError(v: unknown): v is EncodedError {
  if (typeof v !== 'object' || v === null) return false;
  const e = (v as { $error?: unknown }).$error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { name?: unknown }).name === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

function isTypeInfo(v: unknown): v is TypeInfo {
  if (typeof v !== 'object' || v === null) return false;
  const { name, defaults, has } = v as Record<string, unknown>;
  if (typeof name !== 'string' || name.length === 0) return false;
  if (defaults !== undefined && (typeof defaults !== 'object' || defaults === null)) return false;
  if (typeof has !== 'object' || has === null) return false;
  const h = has as Record<string, unknown>;
  if ((v as Record<string, unknown>).reportsFailures !== undefined && typeof (v as Record<string, unknown>).reportsFailures !== 'boolean') return false;
  return (
    ['validate', 'open', 'looksAlive', 'close'].every((k) => typeof h[k] === 'boolean') &&
    ['applyProperties', 'control', 'typeControl'].every((k) => h[k] === undefined || typeof h[k] === 'boolean')
  );
}

/**
 * Checks a message from a host. Returns the typed message, or a string that says what is wrong
 * with it (the caller treats the host as failed).
 */
export function parseHostMessage(raw: unknown): HostMessage | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'a message must be an object';
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case 'ready':
      return { t: 'ready' };
    case 'loaded':
      if (!isId(m.typeId) || !isTypeInfo(m.info)) return '"loaded" needs typeId and info { name, defaults?, has }';
      return { t: 'loaded', typeId: m.typeId, info: m.info };
    case 'loadFailed':
      if (!isId(m.typeId) || !isEncodedError(m.error)) return '"loadFailed" needs typeId and an encoded error';
      return { t: 'loadFailed', typeId: m.typeId, error: m.error };
    case 'result':
      if (!isId(m.id) || typeof m.ok !== 'boolean') return '"result" needs id and ok';
      return m.ok ? { t: 'result', id: m.id, ok: true, value: m.value } : { t: 'result', id: m.id, ok: false, error: m.error };
    case 'progress': {
      if (!isId(m.id) || (m.message !== undefined && typeof m.message !== 'string') || (m.checkpoint !== undefined && typeof m.checkpoint !== 'number')) {
        return '"progress" needs id, an optional string message and an optional number checkpoint';
      }
      const out: HostMessage = { t: 'progress', id: m.id };
      if (m.message !== undefined) out.message = m.message;
      if (m.checkpoint !== undefined) out.checkpoint = m.checkpoint;
      return out;
    }
    case 'failure':
      if (!isId(m.id) || typeof m.resource !== 'string') return '"failure" needs id and resource';
      return 'reason' in m ? { t: 'failure', id: m.id, resource: m.resource, reason: m.reason } : { t: 'failure', id: m.id, resource: m.resource };
    case 'log':
      if (
        typeof m.resource !== 'string' ||
        !ENTRY_POINTS.includes(m.entryPoint as EntryPoint) ||
        typeof m.level !== 'string' ||
        !LEVELS.includes(m.level) ||
        !Array.isArray(m.args)
      ) {
        return '"log" needs resource, entryPoint, a level (debug, info, warn, error) and args';
      }
      return { t: 'log', resource: m.resource, entryPoint: m.entryPoint as EntryPoint, level: m.level as LogLevel, args: m.args };
    case 'fatal':
      if (!isEncodedError(m.error)) return '"fatal" needs an encoded error';
      return { t: 'fatal', error: m.error };
    default:
      return `unknown message type ${typeof m.t === 'string' ? JSON.stringify(m.t.slice(0, 40)) : typeof m.t}`;
  }
}

/** Checks a message from the monitor (inside the host). */
export function parseMonitorMessage(raw: unknown): MonitorMessage | string {
  if (typeof raw !== 'object' || raw === null) return 'a message must be an object';
  const m = raw as Record<string, unknown>;
  switch (m.t) {
    case 'load':
      return isId(m.typeId) && typeof m.module === 'string' && typeof m.exportName === 'string' ? (m as MonitorMessage) : 'bad "load"';
    case 'add':
      return typeof m.resource === 'string' && isId(m.typeId) ? (m as MonitorMessage) : 'bad "add"';
    case 'remove':
      return typeof m.resource === 'string' ? (m as MonitorMessage) : 'bad "remove"';
    case 'call':
      return isId(m.id) && typeof m.resource === 'string' && ENTRY_POINTS.includes(m.entryPoint as EntryPoint)
        ? (m as MonitorMessage)
        : 'bad "call"';
    case 'props':
      return typeof m.resource === 'string' ? (m as MonitorMessage) : 'bad "props"';
    case 'validate':
      return isId(m.id) && isId(m.typeId) ? (m as MonitorMessage) : 'bad "validate"';
    case 'typeCall':
      return isId(m.id) && isId(m.typeId) && typeof m.code === 'string' ? (m as MonitorMessage) : 'bad "typeCall"';
    case 'abort':
      return isId(m.id) && isEncodedError(m.reason) ? (m as MonitorMessage) : 'bad "abort"';
    default:
      return 'unknown message type';
  }
}

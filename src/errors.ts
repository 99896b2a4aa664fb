/**
 * A property every resmon error carries, so the guards below recognise errors thrown by
 * another copy of the package (two versions in one dependency tree) where `instanceof` fails.
 */
const BRAND = Symbol.for('resmon.error');

/** The stable codes of resmon's errors. */
export type ResmonErrorCode =
  | 'ERR_RESMON'
  | 'ERR_RESMON_CONFIG'
  | 'ERR_RESMON_UNKNOWN_TYPE'
  | 'ERR_RESMON_UNKNOWN_RESOURCE'
  | 'ERR_RESMON_DUPLICATE'
  | 'ERR_RESMON_STATE'
  | 'ERR_RESMON_CALL_TIMEOUT'
  | 'ERR_RESMON_CLOSED'
  | 'ERR_RESMON_DEPENDENCY'
  | 'ERR_RESMON_OCF'
  | 'ERR_RESMON_PROCESS_EXIT'
  | 'ERR_RESMON_CONFIG_FILE';

/**
 * The base of every error resmon throws. Also wraps a non-Error value that a plugin threw or
 * rejected with: the value is kept as `cause`.
 */
export class ResmonError extends Error {
  /** A stable code: match on it, not on the message. */
  readonly code: ResmonErrorCode = 'ERR_RESMON';
  /** @internal */
  readonly [BRAND] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: a policy field, an option, a resource spec or properties that the type's `validate` rejected. */
export class ConfigError extends ResmonError {
  override readonly code = 'ERR_RESMON_CONFIG';
  /** The field at fault (`restartDelay`, `properties`, `options.clock`, …). */
  readonly field: string;
  /** The value that broke the rule. */
  readonly value: unknown;

  constructor(field: string, value: unknown, rule: string, options?: { cause?: unknown; context?: string }) {
    const where = options?.context ? `${options.context}: ` : '';
    super(`${where}${field} ${rule} (got ${describeValue(value)})`, options);
    this.field = field;
    this.value = value;
  }
}

/** `addResource` named a type that is not registered. */
export class UnknownTypeError extends ResmonError {
  override readonly code = 'ERR_RESMON_UNKNOWN_TYPE';
  /** The type name that was not found. */
  readonly typeName: string;
  constructor(typeName: string, resource?: string) {
    super(
      `${resource ? `resource "${resource}": ` : ''}no resource type "${typeName}" is registered; call registerType() first`,
    );
    this.typeName = typeName;
  }
}

/** A method was given the name of a resource (or, for the group methods, of a group) that is not there. */
export class UnknownResourceError extends ResmonError {
  override readonly code = 'ERR_RESMON_UNKNOWN_RESOURCE';
  /** The resource name that was not found. */
  readonly resource: string;
  constructor(resource: string, kind: 'resource' | 'group' = 'resource') {
    super(
      kind === 'group'
        ? `no group "${resource}" in this monitor; a group exists while a resource has it as its \`group\``
        : `no resource "${resource}" in this monitor; add it with addResource() first`,
    );
    this.resource = resource;
  }
}

/** A resource or a type of that name is already there. */
export class DuplicateError extends ResmonError {
  override readonly code = 'ERR_RESMON_DUPLICATE';
  /** The name that was taken. */
  readonly duplicateName: string;
  constructor(kind: 'resource' | 'resource type', name: string) {
    super(`a ${kind} named "${name}" already exists in this monitor; choose another name or remove the first`);
    this.duplicateName = name;
  }
}

/** An operation the resource's state forbids, or an online attempt that `offline()`, `terminate()` or `close()` abandoned. */
export class StateError extends ResmonError {
  override readonly code = 'ERR_RESMON_STATE';
  /** The resource concerned. */
  readonly resource: string;
  constructor(resource: string, message: string) {
    super(`resource "${resource}": ${message}`);
    this.resource = resource;
  }
}

/** A call passed its deadline (`pendingTimeout`, `deadlockTimeout`), or a `waitFor` its `timeout`. */
export class CallTimeoutError extends ResmonError {
  override readonly code = 'ERR_RESMON_CALL_TIMEOUT';
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(message);
    this.timeoutMs = timeoutMs;
  }
}

/** The monitor was closed (or is closing): it takes no more operations. */
export class MonitorClosedError extends ResmonError {
  override readonly code = 'ERR_RESMON_CLOSED';
  constructor(operation: string) {
    super(`${operation}: the monitor is closed; create a new ResourceMonitor`);
  }
}

/**
 * A dependency rule was broken: `dependsOn` names an unknown resource, makes a cycle or crosses
 * groups; `removeResource` of a resource others depend on; or `online()` could not bring a
 * dependency online (then `cause` is that dependency's error). Nothing changes when a check
 * throws it.
 */
export class DependencyError extends ResmonError {
  override readonly code = 'ERR_RESMON_DEPENDENCY';
  /** The resource concerned (the dependent, or the resource being removed). */
  readonly resource: string;
  constructor(resource: string, message: string, options?: { cause?: unknown }) {
    super(`resource "${resource}": ${message}`, options);
    this.resource = resource;
  }
}

/** The names of the OCF exit codes (OCF resource agent API), as an {@link OcfError} carries them. */
export type OcfExitName =
  | 'OCF_SUCCESS'
  | 'OCF_ERR_GENERIC'
  | 'OCF_ERR_ARGS'
  | 'OCF_ERR_UNIMPLEMENTED'
  | 'OCF_ERR_PERM'
  | 'OCF_ERR_INSTALLED'
  | 'OCF_ERR_CONFIGURED'
  | 'OCF_NOT_RUNNING'
  | 'OCF_RUNNING_PROMOTED'
  | 'OCF_FAILED_PROMOTED'
  | 'OCF_DEGRADED'
  | 'OCF_DEGRADED_PROMOTED'
  | 'OCF_UNKNOWN';

/**
 * An OCF resource agent (the built-in `ocf` type) answered an action with an error exit code
 * (1-6, 8, 9, or one the OCF API does not define), or was ended by a signal it was not sent.
 * `exitCode` 5 (`OCF_ERR_INSTALLED`) and 6 (`OCF_ERR_CONFIGURED`) are `permanent`: like a
 * `ConfigError`, the resource is not restarted after them (fix the agent or its parameters, then
 * call `online()`).
 */
export class OcfError extends ResmonError {
  override readonly code = 'ERR_RESMON_OCF';
  /** The agent, as the resource's `agent` property names it (`heartbeat/Dummy`, or a path). */
  readonly agent: string;
  /** The action that failed (`start`, `stop`, `monitor`, `validate-all`, `meta-data`). */
  readonly action: string;
  /** The agent's exit code (the OCF return code); null when a signal ended it. */
  readonly exitCode: number | null;
  /** The OCF name of `exitCode` (`OCF_ERR_CONFIGURED`...), `OCF_UNKNOWN` for a code the API does not define or a signal. */
  readonly ocfName: OcfExitName;
  /** What the agent said with `ocf_exit_reason`, or null. */
  readonly exitReason: string | null;
  /** Restarting cannot help: the exit code is 5 (`OCF_ERR_INSTALLED`) or 6 (`OCF_ERR_CONFIGURED`). */
  readonly permanent: boolean;

  constructor(
    message: string,
    details: { agent: string; action: string; exitCode: number | null; ocfName: OcfExitName; exitReason: string | null },
  ) {
    super(message);
    this.agent = details.agent;
    this.action = details.action;
    this.exitCode = details.exitCode;
    this.ocfName = details.ocfName;
    this.exitReason = details.exitReason;
    this.permanent = details.exitCode === 5 || details.exitCode === 6;
  }
}

function hasCode(error: unknown, code?: ResmonErrorCode): boolean {
  if (typeof error !== 'object' || error === null) return false;
  try {
    if ((error as Record<symbol, unknown>)[BRAND] !== true) return false;
    return code === undefined || (error as { code?: unknown }).code === code;
  } catch {
    // A revoked Proxy, or a Proxy whose get trap throws: not one of ours.
    return false;
  }
}

/** True for any resmon error, from any copy of the package. */
export const isResmonError = (error: unknown): error is ResmonError => hasCode(error);
/** True for a {@link ConfigError}, from any copy of the package. */
export const isConfigError = (error: unknown): error is ConfigError => hasCode(error, 'ERR_RESMON_CONFIG');
/** True for an {@link UnknownTypeError}, from any copy of the package. */
export const isUnknownTypeError = (error: unknown): error is UnknownTypeError => hasCode(error, 'ERR_RESMON_UNKNOWN_TYPE');
/** True for an {@link UnknownResourceError}, from any copy of the package. */
export const isUnknownResourceError = (error: unknown): error is UnknownResourceError =>
  hasCode(error, 'ERR_RESMON_UNKNOWN_RESOURCE');
/** True for a {@link DuplicateError}, from any copy of the package. */
export const isDuplicateError = (error: unknown): error is DuplicateError => hasCode(error, 'ERR_RESMON_DUPLICATE');
/** True for a {@link StateError}, from any copy of the package. */
export const isStateError = (error: unknown): error is StateError => hasCode(error, 'ERR_RESMON_STATE');
/** True for a {@link CallTimeoutError}, from any copy of the package. */
export const isCallTimeoutError = (error: unknown): error is CallTimeoutError => hasCode(error, 'ERR_RESMON_CALL_TIMEOUT');
/** True for a {@link MonitorClosedError}, from any copy of the package. */
export const isMonitorClosedError = (error: unknown): error is MonitorClosedError => hasCode(error, 'ERR_RESMON_CLOSED');
/** True for a {@link DependencyError}, from any copy of the package. */
export const isDependencyError = (error: unknown): error is DependencyError => hasCode(error, 'ERR_RESMON_DEPENDENCY');

/** True for an {@link OcfError}, from any copy of the package. */
export const isOcfError = (error: unknown): error is OcfError => hasCode(error, 'ERR_RESMON_OCF');

/**
 * True for a failure that restarting cannot heal, so the restart policy leaves the resource
 * failed: a {@link ConfigError}, or a `permanent` {@link OcfError} (exit code 5 or 6).
 */
export const isPermanentFailure = (error: unknown): boolean =>
  isConfigError(error) || (isOcfError(error) && (error as { permanent?: unknown }).permanent === true);

/** `value instanceof Error`, false instead of a throw (a Proxy whose getPrototypeOf trap throws, a revoked Proxy). */
export function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/** A string property of a foreign object, or undefined when it is not a string or reading it throws. */
function stringProperty(value: object, key: string): string | undefined {
  try {
    const v: unknown = (value as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/**
 * A short, safe rendering of any value for an error message. Total: it never throws, whatever
 * the value (an Error whose `message` or `name` getter throws, a revoked Proxy, a Proxy whose
 * traps throw, a null-prototype object, an object whose `toString` throws).
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(clip(value, 60));
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'symbol':
      try {
        return clip(value.toString(), 60);
      } catch {
        return 'a symbol';
      }
    case 'function':
      return 'a function';
  }
  if (value === null) return 'null';
  let array: boolean;
  try {
    array = Array.isArray(value);
  } catch {
    return 'an unreadable object (a revoked Proxy)';
  }
  if (array) return 'an array';
  if (isError(value)) {
    const name = stringProperty(value, 'name');
    const message = stringProperty(value, 'message');
    if (name === undefined && message === undefined) return 'an Error';
    return `${name ?? 'Error'}: ${message ?? '(unreadable message)'}`;
  }
  return 'an object';
}

/** Turns anything a plugin threw into an Error: Errors pass through, other values are wrapped. Never throws. */
export function toError(value: unknown, what: string): Error {
  if (isError(value)) return value;
  return new ResmonError(`${what} with a non-Error value: ${describeValue(value)}`, { cause: value });
}

/** A one-line reason for events and logs, from anything a plugin threw. Never throws. */
export function reasonOf(value: unknown): string {
  if (isError(value)) {
    const message = stringProperty(value, 'message');
    if (message) return message;
    const name = stringProperty(value, 'name');
    if (name) return name;
  }
  return describeValue(value);
}

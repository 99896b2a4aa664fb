import type { Abortable } from './abort-scope.js';
import type { CallOutcome } from './call.js';
import { CallTimeoutError, ConfigError, MonitorClosedError, StateError, toError } from './errors.js';
import type { PluginCalls } from './plugin-calls.js';
import type { ResourcePolicy } from './policy.js';
import { DEFAULT_PROCESSING, type ResourceStatus } from './types.js';

/** The monitor's own control codes (default processing). */
export const MONITOR_CODES = ['get-properties', 'get-policy', 'get-status'] as const;

/**
 * A control code (DESIGN §11) for `owner`: the type's `control`, as one call on the lane bounded
 * by `deadlockTimeout` whose parent is `parent` (aborted when the resource is disposed), then
 * (absent, or it returned DEFAULT_PROCESSING) the monitor's own codes.
 */
export async function runControl(owner: ControlSubject, calls: PluginCalls, parent: Abortable, code: string, input: unknown): Promise<unknown> {
  const closed = () => (owner.isDisposed ? new MonitorClosedError(`control("${owner.name}", "${code}")`) : null);
  // The operation in charge when it starts: a failure it reports counts against what runs then.
  const calling = calls.control(() => owner.currentOp(), parent, code, input);
  if (calling) {
    const out = await calling;
    calls.ended('control', out);
    const value = controlOutcome(owner.name, code, out, closed);
    if (value !== DEFAULT_PROCESSING) return value;
  }
  return monitorControl(code, owner);
}

/**
 * What a type's `control` call means (DESIGN §11): the value it returned, `DEFAULT_PROCESSING`
 * to let the monitor answer, or the error the caller gets (a rejection, a deadline, a call
 * abandoned by terminate, offline or close; `closed` builds the error for the last).
 */
export function controlOutcome(resource: string, code: string, out: CallOutcome<unknown>, closed: () => Error | null): unknown {
  switch (out.kind) {
    case 'ok':
      return out.value;
    case 'error':
      throw toError(out.error, `control("${code}") rejected`);
    case 'timeout':
      throw new CallTimeoutError(`resource "${resource}": control("${code}") passed deadlockTimeout (${out.timeoutMs} ms) and was abandoned`, out.timeoutMs);
    case 'abandoned':
      throw closed() ?? new StateError(resource, `control("${code}") was abandoned (terminate, offline or close preempted it)`);
  }
}

/** What a control code needs from its resource (the resource itself). */
export interface ControlSubject {
  readonly name: string;
  readonly isDisposed: boolean;
  /** The number of the operation in charge now. */
  currentOp(): number;
  readonly typeName: string;
  readonly policy: ResourcePolicy;
  /** The latest properties accepted. */
  configuredProperties(): unknown;
  inspect(): ResourceStatus;
}

/** The monitor's answer to one of its own codes ({@link MONITOR_CODES}); a ConfigError for any other. */
export function monitorControl(code: string, subject: ControlSubject): unknown {
  switch (code) {
    case 'get-properties':
      return subject.configuredProperties();
    case 'get-policy':
      return { ...subject.policy };
    case 'get-status':
      return subject.inspect();
    default:
      throw new ConfigError(
        'code',
        code,
        `is not a control code that type "${subject.typeName}" or the monitor knows (the monitor's own: ${MONITOR_CODES.join(', ')})`,
        { context: `control("${subject.name}")` },
      );
  }
}

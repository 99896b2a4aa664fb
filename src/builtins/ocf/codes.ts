import { OcfError, type OcfExitName } from '../../errors.js';

/** The OCF return codes (OCF resource agent API 1.1) and their names. */
export const OCF_EXIT_NAMES: Readonly<Record<number, OcfExitName>> = Object.freeze({
  0: 'OCF_SUCCESS',
  1: 'OCF_ERR_GENERIC',
  2: 'OCF_ERR_ARGS',
  3: 'OCF_ERR_UNIMPLEMENTED',
  4: 'OCF_ERR_PERM',
  5: 'OCF_ERR_INSTALLED',
  6: 'OCF_ERR_CONFIGURED',
  7: 'OCF_NOT_RUNNING',
  8: 'OCF_RUNNING_PROMOTED',
  9: 'OCF_FAILED_PROMOTED',
  190: 'OCF_DEGRADED',
  191: 'OCF_DEGRADED_PROMOTED',
});

/** The OCF name of an exit code; `OCF_UNKNOWN` for one the API does not define, or a signal (null). */
export function ocfName(exitCode: number | null): OcfExitName {
  return exitCode === null ? 'OCF_UNKNOWN' : (OCF_EXIT_NAMES[exitCode] ?? 'OCF_UNKNOWN');
}

/** How one run of an agent ended. */
export interface ActionExit {
  /** The exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal that ended it, or null. */
  readonly signal: string | null;
  /** The last `ocf-exit-reason:` line the agent wrote to stderr (without the prefix), or null. */
  readonly exitReason: string | null;
  /** The last lines of stderr (for a message when there is no exit reason). */
  readonly stderrTail: readonly string[];
}

/** What an exit means for the resmon entry point that ran the action. */
export type ActionVerdict =
  | { readonly kind: 'ok'; readonly note: string | null }
  /** A monitor answered 7 (`OCF_NOT_RUNNING`): the check failed, with this reason. */
  | { readonly kind: 'not-running'; readonly reason: string }
  | { readonly kind: 'error'; readonly error: OcfError };

/** `heartbeat/Dummy start: OCF_ERR_CONFIGURED (6): the reason` */
export function describeExit(agent: string, action: string, exit: ActionExit): string {
  const code = exit.exitCode === null ? `killed by ${exit.signal ?? 'a signal'}` : `${ocfName(exit.exitCode)} (${exit.exitCode})`;
  const why = exit.exitReason ?? (exit.stderrTail.length > 0 ? `last stderr: ${exit.stderrTail.slice(-3).join(' | ')}` : null);
  return `${agent} ${action}: ${code}${why ? `: ${why}` : ''}`;
}

/**
 * Maps an agent's exit to the resmon outcome (OCF resource agent API, "return codes"):
 *
 * - 0 `OCF_SUCCESS`: done (a check passed).
 * - `monitor` 7 `OCF_NOT_RUNNING`: the check failed (the resource is not running).
 * - `monitor` 190 `OCF_DEGRADED`: the check passed; the note says the agent reported it degraded.
 * - `validate-all` 3 `OCF_ERR_UNIMPLEMENTED`: done (the agent has nothing to validate).
 * - Anything else (1-6, 8, 9, 7 from an action other than monitor, an undefined code, a signal):
 *   an {@link OcfError} with the code, its name and the agent's exit reason; 5 and 6 are permanent.
 */
export function verdictOf(agent: string, action: string, exit: ActionExit): ActionVerdict {
  const code = exit.exitCode;
  if (code === 0) return { kind: 'ok', note: null };
  if (action === 'monitor' && code === 7) {
    return { kind: 'not-running', reason: describeExit(agent, action, exit) };
  }
  if (action === 'monitor' && code === 190) return { kind: 'ok', note: describeExit(agent, action, exit) };
  if (action === 'validate-all' && code === 3) return { kind: 'ok', note: `${agent} does not implement validate-all` };
  return {
    kind: 'error',
    error: new OcfError(describeExit(agent, action, exit), {
      agent,
      action,
      exitCode: code,
      ocfName: ocfName(code),
      exitReason: exit.exitReason,
    }),
  };
}

/** The prefix `ocf_exit_reason` writes before its message on stderr (ocf-shellfuncs). */
export const EXIT_REASON_PREFIX = 'ocf-exit-reason:';

/** The message of an `ocf-exit-reason:` stderr line, or null when the line is not one. */
export function exitReasonOf(line: string): string | null {
  return line.startsWith(EXIT_REASON_PREFIX) ? line.slice(EXIT_REASON_PREFIX.length).trim() || null : null;
}

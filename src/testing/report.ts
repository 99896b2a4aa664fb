import type { EntryPoint } from '../types.js';

/** One call the conformance suite made into the plugin, and how long it took. */
export interface CallDuration {
  /** The entry point called (`validate` for the properties check). */
  entryPoint: EntryPoint | 'validate';
  /** Wall-clock milliseconds until it settled (or until the suite gave up on it). */
  ms: number;
  /** How it ended: `ok` (resolved), `error` (threw or rejected), `timeout` (did not settle in its limit). */
  outcome: 'ok' | 'error' | 'timeout';
}

/** The result of one conformance check. */
export interface CheckReport {
  /** What the check verifies, as a sentence (`'offline takes the resource down: isAlive is false'`). */
  name: string;
  /** True when the type met the contract (also true for a skipped check and one with only a warning). */
  passed: boolean;
  /** The check did not apply (no `validate`, no `breakResource` hook, …); `reason` says why. */
  skipped: boolean;
  /** Met the contract, but something is worth fixing (a call slower than `callBudget`). */
  warning: string | null;
  /** Why it failed or was skipped; null when it passed. */
  reason: string | null;
  /** Every call the check made, in order. */
  durations: CallDuration[];
  /** Wall-clock milliseconds the whole check took. */
  durationMs: number;
}

/** What `checkResourceType` returns. */
export interface ConformanceReport {
  /** The type's `name`. */
  type: string;
  /** True when no check failed (warnings and skipped checks do not fail the report). */
  passed: boolean;
  /** One entry per check, in the order they ran. */
  checks: CheckReport[];
  /** Wall-clock milliseconds for the whole suite. */
  durationMs: number;
}

/** The checks that failed. */
export function failures(report: ConformanceReport): CheckReport[] {
  return report.checks.filter((c) => !c.passed);
}

/**
 * The report as text, one line per check (`✓`, `✗`, `!` for a warning, `-` for skipped), with
 * the reason under a failed or skipped check, and a summary line.
 */
export function formatReport(report: ConformanceReport): string {
  const lines = [`resource type "${report.type}": conformance to the resmon contract`];
  for (const c of report.checks) {
    const mark = !c.passed ? '✗' : c.skipped ? '-' : c.warning ? '!' : '✓';
    lines.push(`  ${mark} ${c.name} (${Math.round(c.durationMs)} ms)`);
    if (!c.passed || c.skipped) lines.push(`      ${c.reason ?? ''}`);
    if (c.warning) lines.push(`      warning: ${c.warning}`);
  }
  const failed = failures(report).length;
  const warned = report.checks.filter((c) => c.passed && c.warning).length;
  const skipped = report.checks.filter((c) => c.skipped).length;
  const ran = report.checks.length - skipped;
  lines.push(
    `${failed === 0 ? 'PASS' : 'FAIL'}: ${ran - failed}/${ran} checks passed` +
      `${failed ? `, ${failed} failed` : ''}${warned ? `, ${warned} with warnings` : ''}${skipped ? `, ${skipped} skipped` : ''}` +
      ` in ${Math.round(report.durationMs)} ms`,
  );
  return lines.join('\n');
}

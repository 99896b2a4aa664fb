import type { EntryPoint } from '../types.js';

/** One call the conformance suite made into the plugin, and how long it took. */
export interface CallDuration {
  /** The entry point called (`validate` for the properties case). */
  entryPoint: EntryPoint | 'validate';
  /** Wall-clock milliseconds until it settled (or until the suite gave up on it). */
  ms: number;
  /** How it ended: `ok` (resolved), `error` (threw or rejected), `timeout` (did not settle in its limit). */
  outcome: 'ok' | 'error' | 'timeout';
}

/** The result of one conformance case. */
export interface CaseReport {
  /** What the case expects of the type, as a sentence (`'offline takes the resource down: isAlive is false'`). */
  name: string;
  /** True when the type met the contract (also true for a skipped case and one with only a warning). */
  passed: boolean;
  /** The case did not apply (no `validate`, no `breakResource` hook, …); `reason` says why. */
  skipped: boolean;
  /** Met the contract, but something is worth fixing (a call slower than `callBudget`). */
  warning: string | null;
  /** Why it failed or was skipped; null when it passed. */
  reason: string | null;
  /** Every call the case made, in order. */
  durations: CallDuration[];
  /** Wall-clock milliseconds the whole case took. */
  durationMs: number;
}

/** What `verifyResourceType` returns. */
export interface ConformanceReport {
  /** The type's `name`. */
  type: string;
  /** True when no case failed (warnings and skipped cases do not fail the report). */
  passed: boolean;
  /** One entry per conformance case, in the order they ran. */
  cases: CaseReport[];
  /** Wall-clock milliseconds for the whole suite. */
  durationMs: number;
}

/** The cases that failed. */
export function failures(report: ConformanceReport): CaseReport[] {
  return report.cases.filter((c) => !c.passed);
}

/**
 * The report as text, one line per case (`✓`, `✗`, `!` for a warning, `-` for skipped), with
 * the reason under a failed or skipped case, and a summary line.
 */
export function formatReport(report: ConformanceReport): string {
  const lines = [`resource type "${report.type}": conformance to the resmon contract`];
  for (const c of report.cases) {
    const mark = !c.passed ? '✗' : c.skipped ? '-' : c.warning ? '!' : '✓';
    lines.push(`  ${mark} ${c.name} (${Math.round(c.durationMs)} ms)`);
    if (!c.passed || c.skipped) lines.push(`      ${c.reason ?? ''}`);
    if (c.warning) lines.push(`      warning: ${c.warning}`);
  }
  const failed = failures(report).length;
  const warned = report.cases.filter((c) => c.passed && c.warning).length;
  const skipped = report.cases.filter((c) => c.skipped).length;
  const ran = report.cases.length - skipped;
  lines.push(
    `${failed === 0 ? 'PASS' : 'FAIL'}: ${ran - failed}/${ran} cases passed` +
      `${failed ? `, ${failed} failed` : ''}${warned ? `, ${warned} with warnings` : ''}${skipped ? `, ${skipped} skipped` : ''}` +
      ` in ${Math.round(report.durationMs)} ms`,
  );
  return lines.join('\n');
}

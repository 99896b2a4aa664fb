import { ConfigError, describeValue } from '../errors.js';
import { validatePolicy } from '../policy.js';
import type { ResourceType } from '../types.js';
import { validateResourceType } from '../validate.js';
import { type Check, type CheckEnv, CHECKS } from './checks.js';
import { type CheckLimits, type CheckOptions, resolveLimits } from './options.js';
import type { CallDuration, CheckReport, ConformanceReport } from './report.js';
import { CheckFailure, Subject } from './subject.js';

/** The names of every check, in the order they run. */
export const CHECK_NAMES: readonly string[] = CHECKS.map((c) => c.name);

/** Prepared state shared by the checks of one run: the validated type, limits and properties. */
export interface Prepared {
  readonly type: ResourceType<unknown, unknown>;
  readonly options: CheckOptions;
  readonly limits: CheckLimits;
  /** The validated sample, or why validate rejected it. */
  readonly properties: { ok: true; value: unknown } | { ok: false; reason: string };
  readonly validateCall: CallDuration | null;
  readonly checks: readonly Check[];
}

/** Checks the arguments and validates the sample once. Throws ConfigError for a malformed type or options. */
export function prepare<P, H>(type: ResourceType<P, H>, options: CheckOptions<P, H> = {}): Prepared {
  const valid = validateResourceType(type) as ResourceType<unknown, unknown>;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object { properties, breakResource?, limits? }', { context: 'checkResourceType()' });
  }
  if (options.breakResource !== undefined && typeof options.breakResource !== 'function') {
    throw new ConfigError('options.breakResource', options.breakResource, 'must be a function (handle, properties) => void | Promise<void>', {
      context: 'checkResourceType()',
    });
  }
  if (options.invalidProperties !== undefined && !Array.isArray(options.invalidProperties)) {
    throw new ConfigError('options.invalidProperties', options.invalidProperties, 'must be an array of properties validate must reject', {
      context: 'checkResourceType()',
    });
  }
  if (
    options.controlCodes !== undefined &&
    (!Array.isArray(options.controlCodes) ||
      options.controlCodes.some((c) => typeof c !== 'object' || c === null || typeof c.code !== 'string' || c.code.length === 0))
  ) {
    throw new ConfigError('options.controlCodes', options.controlCodes, 'must be an array of { code: non-empty string, input? }', {
      context: 'checkResourceType()',
    });
  }
  validatePolicy(options.policy, 'checkResourceType()', 'options.policy');
  const limits = resolveLimits(options.limits);
  const sample = options.properties ?? {};
  let properties: Prepared['properties'] = { ok: true, value: sample };
  let validateCall: CallDuration | null = null;
  if (valid.validate) {
    const start = performance.now();
    try {
      properties = { ok: true, value: valid.validate(sample) };
      validateCall = { entryPoint: 'validate', ms: performance.now() - start, outcome: 'ok' };
    } catch (error) {
      properties = { ok: false, reason: `validate rejected the sample properties: ${describeValue(error)}` };
      validateCall = { entryPoint: 'validate', ms: performance.now() - start, outcome: 'error' };
    }
  }
  const only = options.only;
  const checks = only ? CHECKS.filter((c) => only.some((part) => c.name.includes(part))) : CHECKS;
  return { type: valid, options: options as CheckOptions, limits, properties, validateCall, checks };
}

let serial = 0;

/** Runs one check of a prepared run; never rejects. */
export async function runCheck(prepared: Prepared, check: Check): Promise<CheckReport> {
  const started = performance.now();
  const durations: CallDuration[] = [];
  const subjects: Subject[] = [];
  const report = (passed: boolean, reason: string | null, extra: Partial<CheckReport> = {}): CheckReport => ({
    name: check.name,
    passed,
    skipped: false,
    warning: null,
    reason,
    durations: [...durations, ...subjects.flatMap((s) => s.calls)],
    durationMs: performance.now() - started,
    ...extra,
  });
  const { properties } = prepared;
  if (check.name === 'validate accepts the sample properties' && prepared.validateCall) durations.push(prepared.validateCall);
  if (!properties.ok && check.name !== 'validate rejects garbage with an Error') {
    // The other checks need valid properties: the first fails for the reason, the rest cannot run.
    return report(false, check.name === 'validate accepts the sample properties' ? properties.reason : `cannot run: ${properties.reason}`);
  }
  return runGuarded();

  async function runGuarded(): Promise<CheckReport> {
    const env: CheckEnv = {
      type: prepared.type,
      options: prepared.options,
      limits: prepared.limits,
      properties: properties.ok ? properties.value : undefined,
      subject: () => {
        const s = new Subject(prepared.type, properties.ok ? properties.value : undefined, `conformance-${++serial}`, prepared.limits, prepared.options.observer === true);
        subjects.push(s);
        return s;
      },
      record: (call) => durations.push(call),
    };
    let verdict: Awaited<ReturnType<Check['run']>> = undefined;
    let failure: string | null = null;
    try {
      verdict = await check.run(env);
    } catch (error) {
      failure = error instanceof CheckFailure ? error.message : `the check threw ${describeValue(error)}`;
    }
    for (const s of subjects) await s.dispose();
    if (failure !== null) return report(false, failure);
    if (verdict?.skipped) return report(true, verdict.skipped, { skipped: true });
    return report(true, null, { warning: verdict?.warning ?? null });
  }
}

/**
 * Runs a resource type for real against the resmon contract and returns a report: each check
 * with its name, whether it passed, why not, and how long each call took. Needs no test
 * framework; see `describeResourceType` to turn the checks into tests of your runner.
 *
 * The checks call the plugin's entry points with real time (they cannot fake the plugin's own
 * timers), so run it with real timers. A good type passes in a few seconds; a type that hangs
 * costs at most its limits (`options.limits`).
 *
 * @example
 * ```ts
 * import { checkResourceType, formatReport } from 'resmon/testing';
 * const report = await checkResourceType(myType, {
 *   properties: { port: 0 },
 *   breakResource: (handle) => handle.server?.close(),
 * });
 * console.log(formatReport(report));
 * if (!report.passed) process.exitCode = 1;
 * ```
 */
export async function checkResourceType<P, H>(type: ResourceType<P, H>, options: CheckOptions<P, H> = {}): Promise<ConformanceReport> {
  const started = performance.now();
  const prepared = prepare(type, options);
  const checks: CheckReport[] = [];
  for (const check of prepared.checks) checks.push(await runCheck(prepared, check));
  return { type: prepared.type.name, passed: checks.every((c) => c.passed), checks, durationMs: performance.now() - started };
}

import { ConfigError, describeValue } from '../errors.js';
import { validatePolicy } from '../policy.js';
import type { ResourceType } from '../types.js';
import { validateResourceType } from '../validate.js';
import { type CaseEnv, CASES, type ConformanceCase } from './cases.js';
import { type ConformanceLimits, type ConformanceOptions, resolveLimits } from './options.js';
import type { CallDuration, CaseReport, ConformanceReport } from './report.js';
import { CaseFailure, Subject } from './subject.js';

/** The names of every conformance case, in the order they run (what `options.only` filters). */
export const CASE_NAMES: readonly string[] = CASES.map((c) => c.name);

/** Prepared state shared by the cases of one run: the validated type, limits and properties. */
export interface Prepared {
  readonly type: ResourceType<unknown, unknown>;
  readonly options: ConformanceOptions;
  readonly limits: ConformanceLimits;
  /** The validated sample, or why validate rejected it. */
  readonly properties: { ok: true; value: unknown } | { ok: false; reason: string };
  readonly validateCall: CallDuration | null;
  readonly cases: readonly ConformanceCase[];
}

/** Checks the arguments and validates the sample once. Throws ConfigError for a malformed type or options. */
export function prepare<P, H>(type: ResourceType<P, H>, options: ConformanceOptions<P, H> = {}): Prepared {
  const valid = validateResourceType(type) as ResourceType<unknown, unknown>;
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', options, 'must be an object { properties, breakResource?, limits? }', { context: 'verifyResourceType()' });
  }
  if (options.breakResource !== undefined && typeof options.breakResource !== 'function') {
    throw new ConfigError('options.breakResource', options.breakResource, 'must be a function (handle, properties) => void | Promise<void>', {
      context: 'verifyResourceType()',
    });
  }
  if (options.invalidProperties !== undefined && !Array.isArray(options.invalidProperties)) {
    throw new ConfigError('options.invalidProperties', options.invalidProperties, 'must be an array of properties validate must reject', {
      context: 'verifyResourceType()',
    });
  }
  if (
    options.controlCodes !== undefined &&
    (!Array.isArray(options.controlCodes) ||
      options.controlCodes.some((c) => typeof c !== 'object' || c === null || typeof c.code !== 'string' || c.code.length === 0))
  ) {
    throw new ConfigError('options.controlCodes', options.controlCodes, 'must be an array of { code: non-empty string, input? }', {
      context: 'verifyResourceType()',
    });
  }
  validatePolicy(options.policy, 'verifyResourceType()', 'options.policy');
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
  const cases = only ? CASES.filter((c) => only.some((part) => c.name.includes(part))) : CASES;
  return { type: valid, options: options as ConformanceOptions, limits, properties, validateCall, cases };
}

let serial = 0;

/** Runs one case of a prepared run; never rejects. */
export async function runCase(prepared: Prepared, testCase: ConformanceCase): Promise<CaseReport> {
  const started = performance.now();
  const durations: CallDuration[] = [];
  const subjects: Subject[] = [];
  const report = (passed: boolean, reason: string | null, extra: Partial<CaseReport> = {}): CaseReport => ({
    name: testCase.name,
    passed,
    skipped: false,
    warning: null,
    reason,
    durations: [...durations, ...subjects.flatMap((s) => s.calls)],
    durationMs: performance.now() - started,
    ...extra,
  });
  const { properties } = prepared;
  if (testCase.name === 'validate accepts the sample properties' && prepared.validateCall) durations.push(prepared.validateCall);
  if (!properties.ok && testCase.name !== 'validate rejects garbage with an Error') {
    // The other cases need valid properties: the first fails for the reason, the rest cannot run.
    return report(false, testCase.name === 'validate accepts the sample properties' ? properties.reason : `cannot run: ${properties.reason}`);
  }
  return runGuarded();

  async function runGuarded(): Promise<CaseReport> {
    const env: CaseEnv = {
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
    let verdict: Awaited<ReturnType<ConformanceCase['run']>> = undefined;
    let failure: string | null = null;
    try {
      verdict = await testCase.run(env);
    } catch (error) {
      failure = error instanceof CaseFailure ? error.message : `the case threw ${describeValue(error)}`;
    }
    for (const s of subjects) await s.dispose();
    if (failure !== null) return report(false, failure);
    if (verdict?.skipped) return report(true, verdict.skipped, { skipped: true });
    return report(true, null, { warning: verdict?.warning ?? null });
  }
}

/**
 * Verifies a resource type against the resmon contract by running it for real, and returns a
 * report: each conformance case (an expectation of the contract, named as a sentence) with
 * whether it passed, why not, and how long each call took. Needs no test framework; see
 * `describeResourceType` to turn the cases into tests of your runner.
 *
 * The cases call the plugin's entry points with real time (they cannot fake the plugin's own
 * timers), so run it with real timers. A good type passes in a few seconds; a type that hangs
 * costs at most its limits (`options.limits`).
 *
 * @example
 * ```ts
 * import { verifyResourceType, formatReport } from 'resmon/testing';
 * const report = await verifyResourceType(myType, {
 *   properties: { port: 0 },
 *   breakResource: (handle) => handle.server?.close(),
 * });
 * console.log(formatReport(report));
 * if (!report.passed) process.exitCode = 1;
 * ```
 */
export async function verifyResourceType<P, H>(type: ResourceType<P, H>, options: ConformanceOptions<P, H> = {}): Promise<ConformanceReport> {
  const started = performance.now();
  const prepared = prepare(type, options);
  const cases: CaseReport[] = [];
  for (const testCase of prepared.cases) cases.push(await runCase(prepared, testCase));
  return { type: prepared.type.name, passed: cases.every((c) => c.passed), cases, durationMs: performance.now() - started };
}

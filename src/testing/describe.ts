import type { ResourceType } from '../types.js';
import { CASE_NAMES, type Prepared, prepare, runCase } from './verify.js';
import type { ConformanceOptions } from './options.js';

/**
 * The `describe` and `it` of a test runner. vitest's, jest's and node:test's all fit: the suite
 * calls `describe(name, fn)` once and `it(name, fn)` once per conformance case, with `fn` returning a promise.
 */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
}

/**
 * Turns the conformance cases of `verifyResourceType` into tests of your runner: one `describe`
 * block named after the type, one test per case. A failed case fails its test with the
 * reason; a skipped one passes (its reason is in `verifyResourceType`'s report). The type and
 * options are checked when the first test runs, so a mistake fails a test, not the collection.
 *
 * Each test takes at most a few of the `limits` (a hung call costs its deadline); raise your
 * runner's per-test timeout if you raise them.
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeResourceType } from 'resmon/testing';
 * import { echoType } from '../src/echo-type.js';
 *
 * describeResourceType(echoType, { properties: { port: 0 } }, { describe, it });
 * ```
 */
export function describeResourceType<P, H>(type: ResourceType<P, H>, options: ConformanceOptions<P, H>, runner: TestRunner): void {
  const { describe, it } = runner;
  const only = options?.only;
  const names = only ? CASE_NAMES.filter((n) => only.some((part) => n.includes(part))) : CASE_NAMES;
  let prepared: Prepared | null = null;
  describe(`resource type "${String((type as { name?: unknown })?.name)}" meets the resmon contract`, () => {
    for (const name of names) {
      it(name, async () => {
        prepared ??= prepare(type, options);
        const testCase = prepared.cases.find((c) => c.name === name);
        if (!testCase) throw new Error(`no conformance case named "${name}"`);
        const result = await runCase(prepared, testCase);
        if (!result.passed) throw new Error(`${name}: ${result.reason}`);
      });
    }
  });
}

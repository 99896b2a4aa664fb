/**
 * The generator of the graph suite (issue 13): random graphs of up to 8 resources on up to 3
 * levels, with AND items and `{ anyOf }` items, under the random operations and plugin faults of
 * generator.ts. A seed always gives the same scenarios.
 */
import fc from 'fast-check';
import type { DependencyItem } from 'resmon';
import { behaviourArb, policyArb, stepArb } from './generator.js';
import type { Scenario } from './scenario.js';

/** Generates a graph: up to 8 resources on up to 3 levels, each depending on lower levels by name or anyOf. */
const graphArb: fc.Arbitrary<{ resources: string[]; deps: Record<string, DependencyItem[]> }> = fc
  .array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 8 })
  .chain((levels) => {
    const sorted = [...levels].sort((a, b) => a - b);
    const names = sorted.map((_, i) => `r${i}`);
    const itemArbs = names.map((_name, i) => {
      const lower = names.filter((_, j) => (sorted[j] as number) < (sorted[i] as number));
      if (lower.length === 0) return fc.constant<DependencyItem[]>([]);
      const item: fc.Arbitrary<DependencyItem> =
        lower.length >= 2
          ? fc.oneof(fc.constantFrom(...lower), fc.uniqueArray(fc.constantFrom(...lower), { minLength: 2, maxLength: 3 }).map((anyOf) => ({ anyOf })))
          : fc.constantFrom(...lower);
      return fc.array(item, { minLength: 0, maxLength: 2 });
    });
    return fc.tuple(...itemArbs).map((items) => ({
      resources: names,
      deps: Object.fromEntries(names.map((n, i) => [n, items[i] as DependencyItem[]]).filter(([, d]) => (d as DependencyItem[]).length > 0)),
    }));
  });

/** Whole scenarios with a dependency graph. */
export function graphScenarioArb(maxSteps = 30): fc.Arbitrary<Scenario> {
  return fc
    .record({
      graph: graphArb,
      policy: policyArb,
      abortGrace: fc.constantFrom(0, 100, 300),
      shape: fc.record({ open: fc.boolean(), looksAlive: fc.boolean(), close: fc.boolean() }),
      grouped: fc.boolean(),
      scripts: fc.array(fc.array(behaviourArb, { minLength: 1, maxLength: 10 }), { minLength: 8, maxLength: 8 }),
    })
    .chain(({ graph, policy, abortGrace, shape, grouped, scripts }) =>
      fc.array(stepArb(graph.resources), { minLength: 1, maxLength: maxSteps }).map(
        (steps): Scenario => ({
          policy,
          abortGrace,
          shape,
          resources: graph.resources,
          scripts: Object.fromEntries(graph.resources.map((n, i) => [n, scripts[i] as NonNullable<(typeof scripts)[number]>])),
          deps: graph.deps,
          ...(grouped ? { group: 'g' } : {}),
          steps,
        }),
      ),
    );
}

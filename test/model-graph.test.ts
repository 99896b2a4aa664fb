import fc from 'fast-check';
import { afterEach, beforeEach, it, vi } from 'vitest';
import { runGraphScenario } from './model/graph-checker.js';
import { graphScenarioArb } from './model/graph-generator.js';

/**
 * Dependencies and groups under random graphs, operations and plugin faults (see model/graph-checker.ts
 * for the invariants). The default run is deterministic (a fixed seed); `npm run test:soak` runs
 * many more with a fresh seed; `MODEL_RUNS` and `MODEL_SEED` set them by hand.
 */
const soak = process.env.MODEL_SOAK === '1';
const runs = Number(process.env.MODEL_GRAPH_RUNS ?? process.env.MODEL_RUNS ?? (soak ? 10_000 : 300));
const seed = Number(process.env.MODEL_SEED ?? (soak ? Date.now() % 2 ** 31 : 20_261_201));

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

it(
  'keeps the dependency invariants (start order, take-down, offline order, targets, liveness) under random graphs, plugins and operations',
  async () => {
    await fc.assert(
      fc.asyncProperty(graphScenarioArb(), async (sc) => {
        vi.clearAllTimers();
        vi.setSystemTime(0);
        await runGraphScenario(sc);
      }),
      { numRuns: runs, seed },
    );
  },
  Math.max(60_000, runs * 200),
);

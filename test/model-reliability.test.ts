import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { scenarioArb } from './model/generator.js';
import { coverage, runScenario } from './model/run.js';

/**
 * The model-based reliability suite (issue 5, part 2): random operation sequences (online,
 * offline, terminate, remove, close, advance time) against resources whose plugins misbehave at
 * random (false, non-boolean, throw, reject with a non-Error, hang, settle only after
 * abandonment, reportFailure and progress at random moments), on fake timers, with the
 * invariants of DESIGN §3-§5 checked after every step (generator, plugin and checker in test/model/).
 *
 * The default run is deterministic (a fixed seed). `npm run test:soak` runs many more with a
 * fresh seed; `MODEL_RUNS` and `MODEL_SEED` set them by hand, and a failure prints the seed and
 * the shrunk scenario to replay.
 */
const soak = process.env.MODEL_SOAK === '1';
const runs = Number(process.env.MODEL_RUNS ?? (soak ? 50_000 : 2_500));
const seed = Number(process.env.MODEL_SEED ?? (soak ? Date.now() % 2 ** 31 : 20_261_122));

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

it(
  'keeps every invariant of the state table, the call lane and the restart policy under random plugins and operations',
  async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb(), async (sc) => {
        vi.clearAllTimers();
        vi.setSystemTime(0);
        await runScenario(sc);
      }),
      { numRuns: runs, seed },
    );
  },
  Math.max(60_000, runs * 100),
);

afterAll(() => {
  if (soak || process.env.MODEL_RUNS) {
    console.log('transitions', Object.fromEntries(coverage.transitions));
    console.log('calls', Object.fromEntries(coverage.outcomes));
    console.log('listener calls', Object.fromEntries(coverage.listenerOps));
    console.log('hysteresis', coverage.hysteresis);
    console.log('live changes', Object.fromEntries(coverage.live));
  }
});

it('reached every transition of the state table and every misbehaviour', () => {
  const transitions = [
    'offline->online-pending',
    'online-pending->online',
    'online-pending->failed',
    'online-pending->offline-pending',
    'online-pending->offline',
    'online->failed',
    'online->offline-pending',
    'online->offline',
    'offline-pending->offline',
    'failed->online-pending',
    'failed->offline',
  ];
  for (const t of transitions) expect(coverage.transitions.get(t) ?? 0, t).toBeGreaterThan(0);
  for (const kind of ['false', 'nonBool', 'throw', 'throwValue', 'reject', 'rejectValue', 'hang', 'settleAfterAbort', 'progress']) {
    expect(coverage.outcomes.get(`isAlive:${kind}`) ?? coverage.outcomes.get(`isAlive:${kind}:abandoned`) ?? 0, kind).toBeGreaterThan(0);
  }
  expect(coverage.outcomes.get('online:settleAfterAbort:abandoned') ?? 0).toBeGreaterThan(0);
  // Hostile values (issue 10 §2) and monitor calls from listeners (issue 10 §1).
  for (const kind of ['throwHostile', 'rejectHostile', 'returnHostile']) {
    for (const ep of ['online', 'isAlive', 'terminate']) {
      expect((coverage.outcomes.get(`${ep}:${kind}`) ?? 0) + (coverage.outcomes.get(`${ep}:${kind}:abandoned`) ?? 0), `${ep}:${kind}`).toBeGreaterThan(0);
    }
  }
  for (const op of ['online', 'offline', 'terminate', 'remove', 'close', 'waitFor']) {
    expect(coverage.listenerOps.get(op) ?? 0, `${op} from a listener`).toBeGreaterThan(0);
  }
  expect(coverage.outcomes.get('terminate:hang:abandoned') ?? 0).toBeGreaterThan(0);
  // isAliveFailureThreshold held a failed isAlive, and was reached above 1; stableAfter emptied a window.
  expect(coverage.hysteresis.held, 'isAlive failures below the threshold').toBeGreaterThan(0);
  expect(coverage.hysteresis.reached, 'isAlive failures reaching a threshold above 1').toBeGreaterThan(0);
  expect(coverage.hysteresis.forgiven, 'stable periods that emptied a window').toBeGreaterThan(0);
  // setProperties applied, stored and rejected; setPolicy; control answered and refused; their calls misbehaving and abandoned.
  for (const key of ['setProperties:applied', 'setProperties:stored', 'setProperties:rejected', 'setPolicy:resolved', 'control:resolved', 'control:rejected']) {
    expect(coverage.live.get(key) ?? 0, key).toBeGreaterThan(0);
  }
  for (const key of ['applyProperties:ok', 'control:ok', 'control:hang:abandoned', 'control:throw']) {
    expect(coverage.outcomes.get(key) ?? 0, key).toBeGreaterThan(0);
  }
  const abandonedApply = [...coverage.outcomes].filter(([key]) => key.startsWith('applyProperties:') && key.endsWith(':abandoned'));
  expect(abandonedApply.length, 'an applyProperties abandoned (the resource left online, or its deadline)').toBeGreaterThan(0);
});

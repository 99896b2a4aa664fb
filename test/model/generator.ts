/**
 * The generator of the model-based suite: fast-check arbitraries for call behaviours, policies,
 * operation steps, listener rules and whole scenarios. A seed always gives the same scenarios.
 */
import fc from 'fast-check';
import type { ResourceState, RestartAction } from 'resmon';
import { HOSTILE_KINDS, type HostileKind } from '../helpers/hostile.js';
import type { Behaviour, BehaviourKind, ListenerOp, ListenerRule, ModelPolicy, Scenario, Step } from './scenario.js';

export const behaviourArb: fc.Arbitrary<Behaviour> = fc.record({
  kind: fc.oneof(
    { weight: 14, arbitrary: fc.constant<BehaviourKind>('ok') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('false') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('nonBool') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throw') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throwValue') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('reject') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('rejectValue') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('hang') },
    { weight: 2, arbitrary: fc.constant<BehaviourKind>('settleAfterAbort') },
    { weight: 2, arbitrary: fc.constant<BehaviourKind>('progress') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('throwHostile') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('rejectHostile') },
    { weight: 1, arbitrary: fc.constant<BehaviourKind>('returnHostile') },
  ),
  delay: fc.constantFrom(0, 0, 0, 5, 30, 120, 450),
  lag: fc.constantFrom(0, 20, 150, 350),
  reportFailureAfter: fc.option(fc.constantFrom(0, 10, 150, 700), { freq: 10 }),
  hostile: fc.option(fc.constantFrom(...HOSTILE_KINDS), { freq: 3, nil: undefined }),
});

const listenerRuleArb = (names: string[]): fc.Arbitrary<ListenerRule> =>
  fc.record({
    on: fc.constantFrom<ListenerRule['on']>('stateChange', 'stateChange', 'stateChange', 'stateChange', 'check', 'restartScheduled', 'escalated', 'progress', 'callTimeout'),
    to: fc.option(fc.constantFrom<ResourceState>('online-pending', 'online', 'failed', 'offline-pending', 'offline'), { freq: 4 }),
    from: fc.option(fc.constantFrom(...names), { freq: 2 }),
    op: fc.oneof(
      { weight: 3, arbitrary: fc.constant<ListenerOp>('online') },
      { weight: 3, arbitrary: fc.constant<ListenerOp>('offline') },
      { weight: 3, arbitrary: fc.constant<ListenerOp>('terminate') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('remove') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('close') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('waitFor') },
      { weight: 1, arbitrary: fc.constant<ListenerOp>('read') },
      { weight: 2, arbitrary: fc.constant<ListenerOp>('reportFailure') },
    ),
    r: fc.constantFrom(...names),
    times: fc.integer({ min: 1, max: 3 }),
  });

export const stepArb = (names: string[]): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ op: fc.constant('online' as const), r: fc.constantFrom(...names) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('offline' as const), r: fc.constantFrom(...names) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('terminate' as const), r: fc.constantFrom(...names) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), r: fc.constantFrom(...names) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
    { weight: 9, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(0, 1, 10, 50, 100, 200, 400, 1_000) }) },
    {
      weight: 3,
      arbitrary: fc.record({ op: fc.constant('setProperties' as const), r: fc.constantFrom(...names), bad: fc.constantFrom(false, false, false, false, true) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant('setPolicy' as const), r: fc.constantFrom(...names), change: fc.constantFrom('budget' as const, 'intervals' as const, 'reset' as const) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('control' as const),
        r: fc.constantFrom(...names),
        code: fc.constantFrom('model' as const, 'get-status' as const, 'get-properties' as const, 'nope' as const),
      }),
    },
  );

export const policyArb: fc.Arbitrary<ModelPolicy> = fc.record({
  looksAlivePollInterval: fc.constantFrom(0, 100),
  isAlivePollInterval: fc.constantFrom(150, 500),
  pendingTimeout: fc.constantFrom(300, 1_000),
  deadlockTimeout: fc.constantFrom(200, 800),
  callBudget: fc.constant(50),
  restartAction: fc.constantFrom<RestartAction>('none', 'restart', 'restart-escalate'),
  restartThreshold: fc.integer({ min: 0, max: 2 }),
  restartPeriod: fc.constant(2_000),
  restartDelay: fc.constantFrom(0, 50),
  restartBackoff: fc.constantFrom(1, 2),
  maxRestartDelay: fc.constant(150),
  retryPeriodOnFailure: fc.constantFrom(2_500, Number.POSITIVE_INFINITY),
  isAliveFailureThreshold: fc.constantFrom(1, 1, 2, 3),
  stableAfter: fc.constantFrom(0, 0, 150, 600),
});

/** isAlive answers in runs: mostly plain passes and failures, some slow, some thrown. */
const probeArb: fc.Arbitrary<Behaviour> = fc.record({
  kind: fc.constantFrom<BehaviourKind>('ok', 'ok', 'false', 'false', 'nonBool', 'throw', 'reject'),
  delay: fc.constantFrom(0, 0, 5, 30),
  lag: fc.constant(0),
  reportFailureAfter: fc.constant(null),
});

/** Generates whole scenarios of one or two resources. */
export function scenarioArb(maxSteps = 30): fc.Arbitrary<Scenario> {
  return fc
    .record({
      policy: policyArb,
      abortGrace: fc.constantFrom(0, 100, 300),
      shape: fc.record({ open: fc.boolean(), looksAlive: fc.boolean(), close: fc.boolean(), apply: fc.boolean(), control: fc.boolean() }),
      two: fc.boolean(),
      scriptA: fc.array(behaviourArb, { minLength: 1, maxLength: 12 }),
      scriptB: fc.array(behaviourArb, { minLength: 1, maxLength: 12 }),
      probes: fc.option(fc.array(probeArb, { minLength: 2, maxLength: 8 }), { freq: 2 }),
      throwingListener: fc.option(fc.constantFrom<HostileKind | 'error'>('error', ...HOSTILE_KINDS), { freq: 4 }),
      validateThrows: fc.option(fc.constantFrom(...HOSTILE_KINDS), { freq: 4 }),
    })
    .chain(({ policy, abortGrace, shape, two, scriptA, scriptB, probes, throwingListener, validateThrows }) => {
      const resources = two ? ['a', 'b'] : ['a'];
      const listeners = fc.oneof(fc.constant([] as ListenerRule[]), fc.array(listenerRuleArb(resources), { minLength: 1, maxLength: 3 }));
      return fc.tuple(fc.array(stepArb(resources), { minLength: 1, maxLength: maxSteps }), listeners).map(
        ([steps, rules]): Scenario => ({
          listeners: rules,
          throwingListener,
          validateThrows,
          policy,
          abortGrace,
          shape,
          resources,
          scripts: { a: scriptA, b: scriptB },
          ...(probes ? { probes: { a: probes } } : {}),
          steps,
        }),
      );
    });
}

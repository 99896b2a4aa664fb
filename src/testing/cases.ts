import { createHook } from 'node:async_hooks';
import { describeValue } from '../errors.js';
import { ResourceMonitor } from '../monitor.js';
import { DEFAULT_POLICY } from '../policy.js';
import { DEFAULT_PROCESSING, type EntryPoint, type ResourceContext, type ResourceType } from '../types.js';
import type { ConformanceLimits, ConformanceOptions } from './options.js';
import type { CallDuration } from './report.js';
import { CaseFailure, ownTimeout, ownTimers, sleep, Subject } from './subject.js';

/** What a conformance case gets: the type, the options, the limits, and a way to make fresh resources. */
export interface CaseEnv {
  readonly type: ResourceType<unknown, unknown>;
  readonly options: ConformanceOptions;
  readonly limits: ConformanceLimits;
  /** The sample properties, as `validate` returned them (the sample itself without `validate`). */
  readonly properties: unknown;
  /** A fresh resource of the type; the runner disposes it after the case. */
  subject(): Subject;
  /** Records calls made outside a subject (validate). */
  record(call: CallDuration): void;
}

/** What a case may say besides passing: a warning, or why it does not apply. */
export type CaseVerdict = void | { warning?: string; skipped?: string };

/** One conformance case: an expectation of the contract, named as a sentence, and how to verify it. */
export interface ConformanceCase {
  readonly name: string;
  run(env: CaseEnv): Promise<CaseVerdict>;
}

/** What {@link garbageFor} made, in words. */
function garbageName(garbage: unknown): string {
  if (typeof garbage === 'symbol') return 'a Symbol';
  return `the sample properties with every field a Symbol (${Object.keys(garbage as object).join(', ')})`;
}

/** The default garbage: the sample with every field set to a Symbol, or a Symbol. */
function garbageFor(sample: unknown): unknown {
  if (typeof sample === 'object' && sample !== null && !Array.isArray(sample) && Object.keys(sample).length > 0) {
    return Object.fromEntries(Object.keys(sample).map((k) => [k, Symbol('garbage')]));
  }
  return Symbol('garbage');
}

/** A code no type knows: the answer must be DEFAULT_PROCESSING or an Error. */
const UNKNOWN_CODE = 'resmon-conformance-unknown-code';

/** Properties from the options, through the type's validate (a rejection fails the case). */
function validOption(env: CaseEnv, value: unknown, option: string): unknown {
  const validate = env.type.validate;
  if (!validate) return value;
  try {
    return validate.call(env.type, value);
  } catch (error) {
    throw new CaseFailure(`validate rejected options.${option}: ${describeValue(error)}`);
  }
}

/** A fresh resource of the type, opened and brought online: where most cases start. */
async function onlineSubject(env: CaseEnv): Promise<Subject> {
  const s = env.subject();
  await s.online();
  return s;
}

/**
 * Calls an entry point that must answer within deadlockTimeout and returns its answer; a timeout
 * fails the case, and so does a rejection (`rejected` starts the message, the error ends it).
 */
async function answerOf(env: CaseEnv, s: Subject, entryPoint: EntryPoint, invoke: (ctx: ResourceContext<unknown, unknown>) => unknown, what: string, rejected: string): Promise<{ value: unknown; ms: number }> {
  const out = await s.call(entryPoint, invoke);
  if (out.kind === 'timeout') throw new CaseFailure(`${what} did not settle within deadlockTimeout (${env.limits.deadlockTimeout} ms)`);
  if (out.kind === 'error') throw new CaseFailure(`${rejected}: ${describeValue(out.error)}`);
  return out;
}

/** The warning for a call slower than callBudget, or null. */
function overBudget(env: CaseEnv, what: string, ms: number): string | null {
  return ms > env.limits.callBudget ? `${what} took ${Math.round(ms)} ms; the callBudget is ${env.limits.callBudget} ms` : null;
}

/** The change a case hands applyProperties: options.changedProperties through validate, or the sample again. */
function changeOf(env: CaseEnv): unknown {
  return env.options.changedProperties === undefined ? env.properties : validOption(env, env.options.changedProperties, 'changedProperties');
}

/** Starts a call, aborts its signal at once, and fails unless it settles within abortGrace. */
async function abortedCallSettles(env: CaseEnv, s: Subject, entryPoint: EntryPoint, invoke: (ctx: ResourceContext<unknown, unknown>) => unknown, what: string): Promise<void> {
  const call = s.start(entryPoint, invoke, env.limits.deadlockTimeout);
  await sleep(0);
  const abortedAt = performance.now();
  call.controller.abort(new Error(`${what} was abandoned`));
  const settledAt = await Promise.race([
    call.settled.then(() => performance.now()),
    sleep(env.limits.abortGrace + env.limits.deadlockTimeout).then(() => Number.POSITIVE_INFINITY),
  ]);
  const took = Math.max(0, settledAt - abortedAt);
  if (took > env.limits.abortGrace) {
    throw new CaseFailure(
      `${what} went on for ${Number.isFinite(took) ? `${Math.round(took)} ms` : 'ever'} after its signal aborted; ` +
        `it must settle within abortGrace (${env.limits.abortGrace} ms): pass ctx.signal to what it waits on`,
    );
  }
}

/** Why an answer to an unknown code is wrong, or null when it is DEFAULT_PROCESSING or an Error. */
function unknownCodeProblem(what: string, out: { kind: string; value?: unknown; error?: unknown }, limit: number): string | null {
  if (out.kind === 'timeout') return `${what} did not settle within deadlockTimeout (${limit} ms)`;
  if (out.kind === 'error') return out.error instanceof Error ? null : `${what} rejected the unknown code "${UNKNOWN_CODE}" with ${describeValue(out.error)}, not an Error`;
  if (out.value === DEFAULT_PROCESSING) return null;
  return `${what} answered the unknown code "${UNKNOWN_CODE}" with ${describeValue(out.value)}; return DEFAULT_PROCESSING for codes it does not know (or throw)`;
}

/** Why a value cannot be an answer from a hosted type, or null. */
function notCloneable(value: unknown): string | null {
  if (value === DEFAULT_PROCESSING) return null;
  try {
    structuredClone(value);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * The conformance cases, in the order they run. Names are stable: tests and CI filter on them.
 * The breakResource case runs last: breaking a shared endpoint must not spoil the others.
 */
export const CASES: readonly ConformanceCase[] = [
  {
    name: 'validate accepts the sample properties',
    async run(env) {
      // The runner already validated the sample (every other case needs the result); a throw fails there.
      return env.type.validate ? undefined : { skipped: 'the type has no validate()' };
    },
  },
  {
    name: 'validate rejects garbage with an Error',
    async run(env) {
      const validate = env.type.validate;
      if (!validate) return { skipped: 'the type has no validate()' };
      const given = env.options.invalidProperties;
      const garbage = given ?? [garbageFor(env.options.properties)];
      for (const [index, value] of garbage.entries()) {
        // Named, not rendered: properties may hold secrets, and describeValue keeps objects opaque.
        const what = given ? `invalidProperties[${index}] (${describeValue(value)})` : garbageName(value);
        const start = performance.now();
        let thrown: unknown;
        let threw = false;
        try {
          validate.call(env.type, value);
        } catch (error) {
          threw = true;
          thrown = error;
        }
        env.record({ entryPoint: 'validate', ms: performance.now() - start, outcome: threw ? 'error' : 'ok' });
        if (!threw) throw new CaseFailure(`validate accepted ${what}`);
        if (!(thrown instanceof Error)) throw new CaseFailure(`validate rejected ${what} with ${describeValue(thrown)}, not an Error`);
      }
      return undefined;
    },
  },
  {
    name: 'online brings the resource up: isAlive and looksAlive are true',
    async run(env) {
      const s = await onlineSubject(env);
      await s.expectUp('after online');
    },
  },
  {
    name: 'offline takes the resource down: isAlive is false',
    async run(env) {
      const s = await onlineSubject(env);
      await s.offline();
      await s.expectDown('after offline');
    },
  },
  {
    name: 'online, offline, then online again brings it back up',
    async run(env) {
      const s = await onlineSubject(env);
      await s.offline();
      await s.online();
      await s.expectUp('after the second online');
    },
  },
  {
    name: 'terminate when offline settles promptly and leaves isAlive false',
    async run(env) {
      const s = env.subject();
      await s.open();
      await s.terminate('terminate of a resource that never came online');
      await s.expectDown('after terminate');
    },
  },
  {
    name: 'terminate twice in a row settles promptly and leaves isAlive false',
    async run(env) {
      const s = await onlineSubject(env);
      await s.terminate('the first terminate');
      await s.terminate('the second terminate');
      await s.expectDown('after terminate');
    },
  },
  {
    name: 'terminate in the middle of a slow online settles promptly and leaves isAlive false',
    async run(env) {
      const s = env.subject();
      await s.open();
      // As the monitor does: abort the online, wait up to abortGrace for it, terminate.
      const online = s.start('online', (ctx) => env.type.online(ctx));
      online.controller.abort(new Error('terminate preempted online'));
      await Promise.race([online.settled, sleep(env.limits.abortGrace)]);
      await s.terminate('terminate during online');
      // Whatever the abandoned online does later must not bring the resource back.
      await online.done;
      await s.expectDown('after terminate (and after the abandoned online settled)');
    },
  },
  {
    name: 'an aborted online settles within abortGrace',
    async run(env) {
      const s = env.subject();
      await s.open();
      const online = s.start('online', (ctx) => env.type.online(ctx), env.limits.pendingTimeout);
      await sleep(0);
      const abortedAt = performance.now();
      online.controller.abort(new Error('the online attempt was abandoned'));
      const settledAt = await Promise.race([
        online.settled.then(() => performance.now()),
        sleep(env.limits.abortGrace + env.limits.pendingTimeout).then(() => Number.POSITIVE_INFINITY),
      ]);
      const took = settledAt - abortedAt;
      if (took > env.limits.abortGrace) {
        throw new CaseFailure(
          `online went on for ${Number.isFinite(took) ? `${Math.round(took)} ms` : 'ever'} after its signal aborted; ` +
            `it must settle within abortGrace (${env.limits.abortGrace} ms): pass ctx.signal to what online waits on`,
        );
      }
    },
  },
  {
    name: 'checks finish within callBudget (a warning) and deadlockTimeout (a failure)',
    async run(env) {
      const s = await onlineSubject(env);
      for (let i = 0; i < 3; i++) {
        await s.check('isAlive');
        if (env.type.looksAlive) await s.check('looksAlive');
      }
      const slow = s.calls.filter((c) => (c.entryPoint === 'isAlive' || c.entryPoint === 'looksAlive') && c.ms > env.limits.callBudget);
      if (slow.length > 0) {
        return {
          warning: `${slow.map((c) => `${c.entryPoint} took ${Math.round(c.ms)} ms`).join(', ')}; the callBudget is ${env.limits.callBudget} ms (the monitor emits slowCall)`,
        };
      }
      return undefined;
    },
  },
  {
    name: "applyProperties settles within deadlockTimeout with nothing or 'stored', and the resource stays up",
    async run(env) {
      const apply = env.type.applyProperties;
      if (!apply) return { skipped: 'the type has no applyProperties()' };
      const next = changeOf(env);
      const s = await onlineSubject(env);
      const previous = s.properties;
      const out = await answerOf(env, s, 'applyProperties', (ctx) => apply.call(env.type, ctx, next as Readonly<unknown>, previous as Readonly<unknown>), 'applyProperties', 'applyProperties rejected valid properties');
      if (out.value !== undefined && out.value !== 'stored') {
        throw new CaseFailure(`applyProperties returned ${describeValue(out.value)}; return nothing (applied) or 'stored' (at the next online)`);
      }
      if (out.value === undefined) {
        s.properties = next;
        await s.expectUp('after applyProperties applied the change');
      } else {
        await s.expectUp("after applyProperties returned 'stored' (the old properties stay in force)");
        await s.offline();
        s.properties = next;
        await s.online();
        await s.expectUp('after the next online with the stored properties');
      }
      const slow = overBudget(env, 'applyProperties', out.ms);
      return slow ? { warning: `${slow} (the monitor emits slowCall)` } : undefined;
    },
  },
  {
    name: 'an aborted applyProperties settles within abortGrace',
    async run(env) {
      const apply = env.type.applyProperties;
      if (!apply) return { skipped: 'the type has no applyProperties()' };
      const next = changeOf(env);
      const s = await onlineSubject(env);
      const previous = s.properties;
      await abortedCallSettles(env, s, 'applyProperties', (ctx) => apply.call(env.type, ctx, next as Readonly<unknown>, previous as Readonly<unknown>), 'applyProperties');
      return undefined;
    },
  },
  {
    name: 'a change applyProperties refuses leaves the old properties in force',
    async run(env) {
      const apply = env.type.applyProperties;
      if (!apply) return { skipped: 'the type has no applyProperties()' };
      if (env.options.refusedProperties === undefined) return { skipped: 'no refusedProperties in the options' };
      const refused = validOption(env, env.options.refusedProperties, 'refusedProperties');
      const s = await onlineSubject(env);
      const out = await s.call('applyProperties', (ctx) => apply.call(env.type, ctx, refused as Readonly<unknown>, s.properties as Readonly<unknown>));
      if (out.kind === 'timeout') throw new CaseFailure(`applyProperties did not settle within deadlockTimeout (${env.limits.deadlockTimeout} ms)`);
      if (out.kind === 'ok') throw new CaseFailure(`applyProperties accepted options.refusedProperties (returned ${describeValue(out.value)}); it must throw for them`);
      if (!(out.error instanceof Error)) throw new CaseFailure(`applyProperties refused with ${describeValue(out.error)}, not an Error`);
      await s.expectUp('after applyProperties refused a change (the old properties must stay in force)');
      return undefined;
    },
  },
  {
    name: 'control answers its codes within deadlockTimeout, and an unknown code with DEFAULT_PROCESSING or an Error',
    async run(env) {
      const control = env.type.control;
      if (!control) return { skipped: 'the type has no control()' };
      const s = await onlineSubject(env);
      const unknown = await s.call('control', (ctx) => control.call(env.type, ctx, UNKNOWN_CODE, undefined));
      const problem = unknownCodeProblem('control', unknown, env.limits.deadlockTimeout);
      if (problem) throw new CaseFailure(problem);
      const warnings: string[] = [];
      for (const { code, input } of env.options.controlCodes ?? []) {
        const what = `control("${code}")`;
        const out = await answerOf(env, s, 'control', (ctx) => control.call(env.type, ctx, code, input), what, `${what} failed`);
        const clone = notCloneable(out.value);
        if (clone) warnings.push(`${what} answered with a value that cannot be structured-cloned (${clone}): it cannot answer from a worker or process host`);
        const slow = overBudget(env, what, out.ms);
        if (slow) warnings.push(slow);
      }
      return warnings.length > 0 ? { warning: warnings.join('; ') } : undefined;
    },
  },
  {
    name: 'an aborted control settles within abortGrace',
    async run(env) {
      const control = env.type.control;
      if (!control) return { skipped: 'the type has no control()' };
      const s = await onlineSubject(env);
      const first = env.options.controlCodes?.[0] ?? { code: UNKNOWN_CODE, input: undefined };
      await abortedCallSettles(env, s, 'control', (ctx) => control.call(env.type, ctx, first.code, first.input), `control("${first.code}")`);
      return undefined;
    },
  },
  {
    name: 'typeControl answers an unknown code with DEFAULT_PROCESSING or an Error, within deadlockTimeout',
    async run(env) {
      const typeControl = env.type.typeControl;
      if (!typeControl) return { skipped: 'the type has no typeControl()' };
      const s = env.subject();
      const out = await s.call('typeControl', (ctx) => typeControl.call(env.type, UNKNOWN_CODE, undefined, { type: env.type.name, signal: ctx.signal, log: ctx.log }));
      const problem = unknownCodeProblem('typeControl', out, env.limits.deadlockTimeout);
      if (problem) throw new CaseFailure(problem);
      return undefined;
    },
  },
  {
    name: 'runs under a ResourceMonitor: online, isAlive passes, offline',
    async run(env) {
      const { limits } = env;
      const monitor = new ResourceMonitor({ abortGrace: limits.abortGrace });
      // The resource's own policy, so the type's defaults do not slow the polls down; then the user's.
      const policy = {
        looksAlivePollInterval: 20,
        isAlivePollInterval: 50,
        pendingTimeout: limits.pendingTimeout,
        deadlockTimeout: limits.deadlockTimeout,
        restartAction: 'none' as const,
        ...env.options.policy,
      };
      // Long enough for isAliveFailureThreshold isAlive checks, each up to its deadline.
      const p = { ...DEFAULT_POLICY, ...env.type.defaults, ...policy };
      const sooner = Math.min(p.isAlivePollInterval, p.looksAlivePollInterval || p.isAlivePollInterval);
      const waitMs = p.isAlivePollInterval + p.isAliveFailureThreshold * (p.deadlockTimeout + sooner) + 100;
      const changes: string[] = [];
      try {
        monitor.on('stateChange', (e) => changes.push(`${e.from} -> ${e.to} (${e.reason})`));
        monitor.registerType(env.type);
        monitor.addResource({ name: 'conformance', type: env.type.name, properties: env.options.properties ?? {}, policy });
        // An isAlive passes (true), or the resource leaves online first (false).
        const verdict = new Promise<boolean>((resolve) => {
          monitor.on('check', (e) => e.kind === 'isAlive' && e.ok && resolve(true));
          monitor.on('stateChange', (e) => e.from === 'online' && resolve(false));
        });
        await monitor.online('conformance');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const ok = await Promise.race([verdict, new Promise<null>((resolve) => (timer = ownTimeout(() => resolve(null), waitMs)))]);
        clearTimeout(timer);
        if (ok === null) throw new CaseFailure(`no isAlive check passed within ${waitMs} ms of coming online`);
        if (!ok || monitor.getState('conformance') !== 'online') {
          throw new CaseFailure(`the resource did not stay online under the monitor: ${changes.join('; ')}`);
        }
        await monitor.offline('conformance');
        if (monitor.getState('conformance') !== 'offline') throw new CaseFailure(`offline() left it ${monitor.getState('conformance')}`);
      } catch (error) {
        if (error instanceof CaseFailure) throw error;
        throw new CaseFailure(`${describeValue(error)}${changes.length ? ` (states: ${changes.join('; ')})` : ''}`);
      } finally {
        await monitor.close();
      }
    },
  },
  {
    name: 'no timers, sockets or child processes are left after the resource is closed',
    async run(env) {
      if (env.options.detectLeaks === false) return { skipped: 'detectLeaks is false' };
      const tracker = trackHandles();
      try {
        const s = await onlineSubject(env);
        await s.expectUp('after online');
        await s.offline();
        await s.dispose();
        const until = performance.now() + env.limits.handleTimeout;
        let left = tracker.left();
        while (left.length > 0 && performance.now() < until) {
          await sleep(20);
          left = tracker.left();
        }
        if (left.length > 0) throw new CaseFailure(`${env.limits.handleTimeout} ms after close, these are still open: ${left.join(', ')}`);
      } finally {
        tracker.stop();
      }
      return undefined;
    },
  },
  {
    name: 'after breakResource, isAlive turns false',
    async run(env) {
      const breakResource = env.options.breakResource;
      if (!breakResource) return { skipped: 'no breakResource hook in the options' };
      const s = await onlineSubject(env);
      await s.expectUp('after online');
      await breakResource(s.handle, env.properties);
      const until = performance.now() + env.limits.breakTimeout;
      for (;;) {
        const { alive } = await s.check('isAlive');
        if (!alive) return undefined;
        if (performance.now() >= until) break;
        await sleep(50);
      }
      throw new CaseFailure(`isAlive still returned true ${env.limits.breakTimeout} ms after breakResource broke the resource`);
    },
  },
];

/** The async resources that keep a process alive: timers, sockets, servers, pipes, child processes, watchers. */
const HANDLE_TYPES = new Set([
  'Timeout',
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'PROCESSWRAP',
  'UDPWRAP',
  'TTYWRAP',
  'SIGNALWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'HTTPCLIENTREQUEST',
  'Immediate',
]);

/**
 * Records the handles created from now on (async_hooks init) and those released since
 * (destroy); `left()` names the ones still open. The suite's own timers are released before it
 * looks, so what is left belongs to the type.
 */
function trackHandles(): { left(): string[]; stop(): void } {
  const open = new Map<number, { type: string; resource: object }>();
  const hook = createHook({
    init(asyncId, type, _trigger, resource) {
      if (HANDLE_TYPES.has(type)) open.set(asyncId, { type, resource });
    },
    destroy(asyncId) {
      open.delete(asyncId);
    },
  }).enable();
  return {
    left() {
      const counts = new Map<string, number>();
      for (const { type, resource } of open.values()) {
        if (!ownTimers.has(resource)) counts.set(type, (counts.get(type) ?? 0) + 1);
      }
      return Array.from(counts, ([type, n]) => `${n} ${type}`);
    },
    stop: () => void hook.disable(),
  };
}

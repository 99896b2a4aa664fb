import { createHook } from 'node:async_hooks';
import { ResourceMonitor } from '../monitor.js';
import { DEFAULT_POLICY } from '../policy.js';
import type { ResourceType } from '../types.js';
import type { CheckLimits, CheckOptions } from './options.js';
import type { CallDuration } from './report.js';
import { CheckFailure, describeError, ownTimeout, ownTimers, sleep, Subject } from './subject.js';

/** What a check gets: the type, the options, the limits, and a way to make fresh resources. */
export interface CheckEnv {
  readonly type: ResourceType<unknown, unknown>;
  readonly options: CheckOptions;
  readonly limits: CheckLimits;
  /** The sample properties, as `validate` returned them (the sample itself without `validate`). */
  readonly properties: unknown;
  /** A fresh resource of the type; the runner disposes it after the check. */
  subject(): Subject;
  /** Records calls made outside a subject (validate). */
  record(call: CallDuration): void;
}

/** What a check may say besides passing: a warning, or why it does not apply. */
export type CheckVerdict = void | { warning?: string; skipped?: string };

/** One conformance check. */
export interface Check {
  readonly name: string;
  run(env: CheckEnv): Promise<CheckVerdict>;
}

/** The default garbage: the sample with every field set to a Symbol, or a Symbol. */
function garbageFor(sample: unknown): unknown {
  if (typeof sample === 'object' && sample !== null && !Array.isArray(sample) && Object.keys(sample).length > 0) {
    return Object.fromEntries(Object.keys(sample).map((k) => [k, Symbol('garbage')]));
  }
  return Symbol('garbage');
}

function describeValue(value: unknown): string {
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'object' && value !== null) {
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${k}: ${typeof v === 'symbol' ? v.toString() : JSON.stringify(v)}`)
      .join(', ')} }`;
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * The checks, in the order they run. Names are stable: tests and CI filter on them. The
 * breakResource check runs last: breaking a shared endpoint must not spoil the others.
 */
export const CHECKS: readonly Check[] = [
  {
    name: 'validate accepts the sample properties',
    async run(env) {
      // The runner already validated the sample (every other check needs the result); a throw fails there.
      return env.type.validate ? undefined : { skipped: 'the type has no validate()' };
    },
  },
  {
    name: 'validate rejects garbage with an Error',
    async run(env) {
      const validate = env.type.validate;
      if (!validate) return { skipped: 'the type has no validate()' };
      const garbage = env.options.invalidProperties ?? [garbageFor(env.options.properties)];
      for (const value of garbage) {
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
        if (!threw) throw new CheckFailure(`validate accepted ${describeValue(value)}`);
        if (!(thrown instanceof Error)) throw new CheckFailure(`validate rejected ${describeValue(value)} with ${describeError(thrown)}, not an Error`);
      }
      return undefined;
    },
  },
  {
    name: 'online brings the resource up: isAlive and looksAlive are true',
    async run(env) {
      const s = env.subject();
      await s.online();
      await s.expectUp('after online');
    },
  },
  {
    name: 'offline takes the resource down: isAlive is false',
    async run(env) {
      const s = env.subject();
      await s.online();
      await s.offline();
      await s.expectDown('after offline');
    },
  },
  {
    name: 'online, offline, then online again brings it back up',
    async run(env) {
      const s = env.subject();
      await s.online();
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
      const s = env.subject();
      await s.online();
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
      // As the monitor does (DESIGN §5.2): abort the online, wait up to abortGrace for it, terminate.
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
        throw new CheckFailure(
          `online went on for ${Number.isFinite(took) ? `${Math.round(took)} ms` : 'ever'} after its signal aborted; ` +
            `it must settle within abortGrace (${env.limits.abortGrace} ms): pass ctx.signal to what online waits on`,
        );
      }
    },
  },
  {
    name: 'checks finish within callBudget (a warning) and deadlockTimeout (a failure)',
    async run(env) {
      const s = env.subject();
      await s.online();
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
        if (ok === null) throw new CheckFailure(`no isAlive check passed within ${waitMs} ms of coming online`);
        if (!ok || monitor.getState('conformance') !== 'online') {
          throw new CheckFailure(`the resource did not stay online under the monitor: ${changes.join('; ')}`);
        }
        await monitor.offline('conformance');
        if (monitor.getState('conformance') !== 'offline') throw new CheckFailure(`offline() left it ${monitor.getState('conformance')}`);
      } catch (error) {
        if (error instanceof CheckFailure) throw error;
        throw new CheckFailure(`${describeError(error)}${changes.length ? ` (states: ${changes.join('; ')})` : ''}`);
      } finally {
        await monitor.close();
      }
    },
  },
  {
    name: 'no timers, sockets or child processes are left after the resource is closed',
    async run(env) {
      if (env.options.checkHandles === false) return { skipped: 'checkHandles is false' };
      const tracker = trackHandles();
      try {
        const s = env.subject();
        await s.online();
        await s.expectUp('after online');
        await s.offline();
        await s.dispose();
        const until = performance.now() + env.limits.handleTimeout;
        let left = tracker.left();
        while (left.length > 0 && performance.now() < until) {
          await sleep(20);
          left = tracker.left();
        }
        if (left.length > 0) throw new CheckFailure(`${env.limits.handleTimeout} ms after close, these are still open: ${left.join(', ')}`);
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
      const s = env.subject();
      await s.online();
      await s.expectUp('after online');
      await breakResource(s.handle, env.properties);
      const until = performance.now() + env.limits.breakTimeout;
      for (;;) {
        const { alive } = await s.check('isAlive');
        if (!alive) return undefined;
        if (performance.now() >= until) break;
        await sleep(50);
      }
      throw new CheckFailure(`isAlive still returned true ${env.limits.breakTimeout} ms after breakResource broke the resource`);
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

/**
 * The behavioural contract of entry points, as a function of where the plugin runs: inline,
 * in a worker host or in a process host. The same plugin (test/fixtures/hosted/scripted.ts,
 * whose behaviour is its properties) and the same assertions run against all three; inside a
 * host the test sees the plugin only through what crosses back: events, states, errors and
 * ctx.log lines. Real timers (hosts are real threads and processes), small policies, and waits
 * on events; assertions are about order and outcome, not wall times.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  isCallTimeoutError,
  isStateError,
  type Isolation,
  type Logger,
  MONITOR_EVENTS,
  type ResourceMonitorEvents,
  ResourceMonitor,
  type ResourcePolicy,
} from 'resmon';
import { scripted, type ScriptedProperties } from './fixtures/hosted/scripted.js';

export const SCRIPTED = fileURLToPath(new URL('./fixtures/hosted/scripted.ts', import.meta.url));

/** One ctx.log line: its bindings (resource, entryPoint, and what the plugin logged) and message. */
export interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line. */
export function recordingLogger() {
  const lines: LogLine[] = [];
  const watchers = new Set<() => void>();
  const line =
    (level: string) =>
    (...args: unknown[]) => {
      const [first, second] = args;
      if (typeof first === 'object' && first !== null) lines.push({ level, fields: first as Record<string, unknown>, message: String(second ?? '') });
      else lines.push({ level, fields: {}, message: String(first) });
      for (const watch of watchers) watch();
    };
  const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
  /** The entry points the plugin saw called for `resource`, in order. */
  const calls = (resource: string) => lines.filter((l) => l.fields.resource === resource && typeof l.fields.call === 'string').map((l) => l.fields.call as string);
  /** The aborts the plugin saw for `resource`. */
  const aborts = (resource: string) => lines.filter((l) => l.fields.resource === resource && typeof l.fields.aborted === 'string').map((l) => l.fields);
  return { logger, lines, calls, aborts, watchers };
}

type Recorded = { event: keyof ResourceMonitorEvents; [key: string]: unknown };

/** A monitor whose plugin is the scripted type, registered the way `kind` says. */
export async function scriptedMonitor(kind: Isolation, defaults: Partial<ResourcePolicy> = {}) {
  const log = recordingLogger();
  const monitor = new ResourceMonitor({
    logger: log.logger,
    abortGrace: 200,
    defaults: {
      looksAlivePollInterval: 100,
      isAlivePollInterval: 200,
      pendingTimeout: 2_000,
      deadlockTimeout: 1_000,
      restartDelay: 50,
      restartThreshold: 3,
      ...defaults,
    },
  });
  const events: Recorded[] = [];
  for (const name of MONITOR_EVENTS) {
    monitor.on(name, (payload: object) => events.push({ event: name, ...payload }));
  }
  if (kind === 'inline') monitor.registerType(scripted);
  else await monitor.registerType({ module: SCRIPTED, exportName: 'scripted', isolation: kind });
  const of = (event: keyof ResourceMonitorEvents, resource?: string) =>
    events.filter((e) => e.event === event && (resource === undefined || e.resource === resource));
  /** Waits until `predicate` holds, checked at each event (and now). */
  const until = (predicate: () => boolean, what: string, timeout = 15_000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const stop = () => {
        clearTimeout(timer);
        monitor.off('check', check);
        monitor.off('stateChange', check);
        log.watchers.delete(check);
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeout);
      const check = () => {
        if (!predicate()) return;
        stop();
        resolve();
      };
      monitor.on('check', check);
      monitor.on('stateChange', check);
      log.watchers.add(check);
    });
  return { monitor, events, of, until, log };
}

let seq = 0;
/** A fresh resource name (the inline plugin counts calls per name for the whole file). */
export const fresh = (prefix = 'r') => `${prefix}-${++seq}`;

export function contractSuite(kind: Isolation): void {
  describe(`the entry-point contract (${kind})`, () => {
    let close: (() => Promise<void>) | null = null;
    afterEach(async () => {
      await close?.();
      close = null;
    });
    const setup = async (defaults: Partial<ResourcePolicy> = {}) => {
      const m = await scriptedMonitor(kind, defaults);
      close = () => m.monitor.close();
      // A warm host: the tests' tight deadlines are about the plugin, not about starting a host.
      m.monitor.addResource({ name: fresh('warm'), type: 'scripted', policy: { deadlockTimeout: 20_000, pendingTimeout: 20_000 } });
      await m.monitor.online(m.monitor.snapshot()[0]!.name);
      return m;
    };
    const add = (m: Awaited<ReturnType<typeof setup>>, properties: ScriptedProperties = {}, policy: Partial<ResourcePolicy> = {}) => {
      const name = fresh(kind);
      m.monitor.addResource({ name, type: 'scripted', properties, policy });
      return name;
    };

    it('opens once, brings the resource online and polls both checks', async () => {
      const m = await setup();
      const r = add(m);
      await m.monitor.online(r);
      await m.until(() => m.of('check', r).filter((e) => e.kind === 'isAlive').length >= 2, 'two isAlive checks');
      expect(m.monitor.getState(r)).toBe('online');
      expect(m.of('check', r).every((e) => e.ok === true)).toBe(true);
      expect(m.of('check', r).some((e) => e.kind === 'looksAlive')).toBe(true);
      const calls = m.log.calls(r);
      expect(calls.slice(0, 2)).toEqual(['open', 'online']);
      expect(calls.filter((c) => c === 'open')).toHaveLength(1);
      expect(m.monitor.inspect(r).host === null).toBe(kind === 'inline');
    });

    it('hands the handle open returned to the checks', async () => {
      const m = await setup();
      const r = add(m, { steps: { isAlive: [{ do: 'handle' }, { do: 'handle' }] } });
      await m.monitor.online(r);
      await m.until(() => m.of('check', r).filter((e) => e.kind === 'isAlive').length >= 2, 'two isAlive checks');
      expect(m.of('check', r).filter((e) => e.kind === 'isAlive').every((e) => e.ok)).toBe(true);
    });

    it('rejects online() with the plugin error when online throws, and fails the resource', async () => {
      const m = await setup({ restartAction: 'none' });
      const r = add(m, { steps: { online: [{ do: 'throw', message: 'port in use' }] } });
      const error = await m.monitor.online(r).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toBe('port in use');
      expect(m.monitor.getState(r)).toBe('failed');
      await m.until(() => m.log.calls(r).includes('terminate'), 'terminate');
      expect(m.of('stateChange', r).map((e) => e.to)).toEqual(['online-pending', 'failed']);
    });

    it('fails a resource whose isAlive returns false, terminates it and restarts it', async () => {
      const m = await setup();
      const r = add(m, { steps: { isAlive: [{ do: 'false' }] } });
      await m.monitor.online(r);
      await m.monitor.waitFor(r, 'failed', { timeout: 10_000 });
      const status = await m.monitor.waitFor(r, 'online', { timeout: 10_000 });
      expect(status.generation).toBe(2);
      expect(m.of('stateChange', r).find((e) => e.to === 'failed')?.reason).toBe('isAlive returned false');
      const calls = m.log.calls(r);
      expect(calls.indexOf('terminate')).toBeGreaterThan(calls.indexOf('isAlive'));
      expect(calls.lastIndexOf('online')).toBeGreaterThan(calls.indexOf('terminate'));
      expect(m.of('restartScheduled', r)).toHaveLength(1);
    });

    it('calls isAlive at once when looksAlive fails', async () => {
      const m = await setup({ isAlivePollInterval: 60_000 });
      const r = add(m, { steps: { looksAlive: [{ do: 'false' }] } });
      await m.monitor.online(r);
      await m.until(() => m.of('check', r).some((e) => e.kind === 'isAlive'), 'an isAlive check');
      const checks = m.of('check', r).map((e) => `${e.kind as string}:${e.ok as boolean}`);
      expect(checks.slice(0, 2)).toEqual(['looksAlive:false', 'isAlive:true']);
      expect(m.monitor.getState(r)).toBe('online');
    });

    it('says what a check returned that was not a boolean, and what it threw', async () => {
      const m = await setup({ restartAction: 'none' });
      const a = add(m, { steps: { isAlive: [{ do: 'value', value: { up: true } }] } });
      const b = add(m, { steps: { isAlive: [{ do: 'throwValue', value: 'nope' }] } });
      await Promise.all([m.monitor.online(a), m.monitor.online(b)]);
      await Promise.all([m.monitor.waitFor(a, 'failed', { timeout: 10_000 }), m.monitor.waitFor(b, 'failed', { timeout: 10_000 })]);
      expect(m.monitor.inspect(a).lastChecks.isAlive?.reason).toBe('returned a non-boolean (an object)');
      expect(m.monitor.inspect(b).lastChecks.isAlive?.reason).toBe('threw: "nope"');
    });

    it('passes progress reports of online through as progress events, resetting pendingTimeout', async () => {
      const m = await setup({ pendingTimeout: 1_000 });
      const r = add(m, { steps: { online: [{ do: 'progress', times: 4, ms: 400 }] } });
      await m.monitor.online(r);
      expect(m.of('progress', r).map((e) => e.message)).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
      expect(m.of('progress', r).every((e) => e.entryPoint === 'online')).toBe(true);
    });

    it('fails an online that makes no progress for pendingTimeout, aborting its signal with a CallTimeoutError', async () => {
      const m = await setup({ pendingTimeout: 500, restartAction: 'none' });
      const r = add(m, { steps: { online: [{ do: 'untilAbort' }] } });
      const error = await m.monitor.online(r).catch((e: unknown) => e);
      expect(isCallTimeoutError(error)).toBe(true);
      expect(m.monitor.getState(r)).toBe('failed');
      await m.until(() => m.log.aborts(r).length > 0 && m.log.calls(r).includes('terminate'), 'the abort and terminate');
      expect(m.log.aborts(r)[0]).toMatchObject({ aborted: 'online', code: 'ERR_RESMON_CALL_TIMEOUT' });
    });

    it('fails a resource whose isAlive passes deadlockTimeout, with a callTimeout event', async () => {
      const m = await setup({ deadlockTimeout: 500, restartAction: 'none' });
      const r = add(m, { steps: { isAlive: [{ do: 'hang' }] } });
      await m.monitor.online(r);
      const status = await m.monitor.waitFor(r, 'failed', { timeout: 10_000 });
      expect(status.lastChecks.isAlive?.reason).toBe('passed deadlockTimeout (500 ms)');
      expect(m.of('callTimeout', r)).toMatchObject([{ entryPoint: 'isAlive', timeoutMs: 500 }]);
    });

    it('fails the resource when the plugin calls reportFailure long after online returned', async () => {
      const m = await setup({ restartAction: 'none' });
      const r = add(m, { steps: { online: [{ do: 'failLater', ms: 300, message: 'connection lost' }] } });
      await m.monitor.online(r);
      const status = await m.monitor.waitFor(r, 'failed', { timeout: 10_000 });
      expect(m.of('stateChange', r).at(-1)?.reason).toBe('reportFailure: connection lost');
      expect(status.generation).toBe(1);
    });

    it('ignores reportFailure from an earlier generation', async () => {
      const m = await setup();
      const r = add(m, {
        steps: { online: [{ do: 'failLater', ms: 800, message: 'stale' }], isAlive: [{ do: 'false' }] },
      });
      await m.monitor.online(r);
      await m.monitor.waitFor(r, 'failed', { timeout: 10_000 });
      await m.monitor.waitFor(r, 'online', { timeout: 10_000 });
      // The first generation's late report arrives while the second is online: it must not count.
      // Five isAlive polls (200 ms apart) into the second generation: well past the report at 800 ms.
      await m.until(() => m.of('check', r).filter((e) => e.ok && e.kind === 'isAlive').length >= 5, 'checks after the stale report');
      expect(m.monitor.getState(r)).toBe('online');
      expect(m.monitor.inspect(r).generation).toBe(2);
      expect(m.of('stateChange', r).some((e) => String(e.reason).includes('stale'))).toBe(false);
    });

    it('aborts the signal of an online in flight when offline() is called, and ends offline', async () => {
      const m = await setup();
      const r = add(m, { steps: { online: [{ do: 'untilAbort' }] } });
      const online = m.monitor.online(r).catch((e: unknown) => e);
      await m.until(() => m.log.calls(r).includes('online'), 'online to start');
      await m.monitor.offline(r);
      expect(isStateError(await online)).toBe(true);
      expect(m.monitor.getState(r)).toBe('offline');
      expect(m.log.aborts(r)[0]).toMatchObject({ aborted: 'online', code: 'ERR_RESMON_STATE' });
      expect(m.log.calls(r)).toContain('offline');
    });

    it('takes a resource offline and terminates it on request', async () => {
      const m = await setup();
      const a = add(m);
      const b = add(m);
      await Promise.all([m.monitor.online(a), m.monitor.online(b)]);
      await m.monitor.offline(a);
      await m.monitor.terminate(b);
      expect([m.monitor.getState(a), m.monitor.getState(b)]).toEqual(['offline', 'offline']);
      expect(m.log.calls(a).at(-1)).toBe('offline');
      expect(m.log.calls(b).at(-1)).toBe('terminate');
    });

    it('tags the plugin log lines with the resource and the entry point', async () => {
      const m = await setup();
      const r = add(m);
      await m.monitor.online(r);
      const line = m.log.lines.find((l) => l.fields.resource === r && l.fields.call === 'online');
      expect(line).toMatchObject({ level: 'info', message: 'online called', fields: { resource: r, entryPoint: 'online' } });
    });

    it('calls close when a resource is removed, and on close() for the rest', async () => {
      const m = await setup();
      const a = add(m);
      const b = add(m);
      await Promise.all([m.monitor.online(a), m.monitor.online(b)]);
      await m.monitor.removeResource(a);
      expect(m.log.calls(a).slice(-2)).toEqual(['terminate', 'close']);
      await m.monitor.close();
      expect(m.log.calls(b).slice(-2)).toEqual(['offline', 'close']);
    });

    it('never lets a misbehaving plugin reject anything but the caller', async () => {
      const m = await setup({ restartAction: 'none' });
      const r = add(m, {
        steps: { online: [{ do: 'throwValue', value: 42 }], terminate: [{ do: 'throw', message: 'terminate broke' }] },
      });
      const error = await m.monitor.online(r).catch((e: unknown) => e);
      expect((error as Error).message).toContain('non-Error value: 42');
      await m.until(() => m.log.calls(r).includes('terminate'), 'terminate');
      expect(m.monitor.getState(r)).toBe('failed');
    });
  });
}

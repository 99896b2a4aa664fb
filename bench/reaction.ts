/**
 * Scenario 2, reaction time: (a) from `reportFailure()` to the plugin's `terminate` starting, and
 * (b) from a `looksAlive` that returns false to `isAlive` starting. 10,000 trials of each per side.
 *
 *   node --expose-gc --import tsx bench/reaction.ts [--quick] [--rounds=N] [--trials=10000]
 */
import { performance } from 'node:perf_hooks';
import { type ResourceContext, ResourceMonitor, type ResourceType } from './resmon.js';
import { type HandChecks, HandResource, SyncResource } from './baseline.js';
import { alternate, type Impl, numArg, percentile, progress, quick, report, type Row, row, roundsArg } from './harness.js';

const RESOURCES = 10;

/** (a) Fails resources one after another; returns the microseconds from reportFailure to terminate. */
async function failTrials(impl: Impl, trials: number): Promise<number[]> {
  const samples: number[] = [];
  let t0 = 0;
  const online = new Map<string, () => void>();
  const onOnline = (name: string) => {
    const resolve = online.get(name);
    online.delete(name);
    resolve?.();
  };
  const cameBack = (name: string) => new Promise<void>((resolve) => online.set(name, resolve));
  const onTerminate = () => {
    samples.push((performance.now() - t0) * 1000);
  };
  const names = Array.from({ length: RESOURCES }, (_, i) => `r${i}`);
  let fail: (name: string) => void;
  let close: () => Promise<void>;
  if (impl === 'resmon') {
    const ctxs = new Map<string, ResourceContext>();
    const type: ResourceType = {
      name: 'reacting',
      online: (ctx) => {
        ctxs.set(ctx.resource, ctx);
      },
      offline: () => {},
      terminate: onTerminate,
      looksAlive: () => true,
      isAlive: () => true,
    };
    const monitor = new ResourceMonitor({
      defaults: { looksAlivePollInterval: 3_600_000, isAlivePollInterval: 3_600_000, restartAction: 'restart', restartThreshold: 1e9, restartDelay: 0 },
    });
    monitor.registerType(type);
    monitor.on('stateChange', (e) => {
      if (e.to === 'online') onOnline(e.resource);
    });
    for (const name of names) monitor.addResource({ name, type: 'reacting' });
    await Promise.all(names.map((n) => monitor.online(n)));
    fail = (name) => (ctxs.get(name) as ResourceContext).reportFailure('bench');
    close = () => monitor.close();
  } else {
    const resources = new Map<string, HandResource | SyncResource>();
    const Loop = impl === 'sync' ? SyncResource : HandResource;
    for (const name of names) {
      const checks: HandChecks & { looksAlive(): boolean; isAlive(): boolean } = { online: () => {}, offline: () => {}, terminate: onTerminate, looksAlive: () => true, isAlive: () => true };
      resources.set(
        name,
        new Loop(name, checks, {
          looksAlivePollInterval: 3_600_000,
          isAlivePollInterval: 3_600_000,
          pollJitter: 0,
          restartDelay: 0,
          onState: (n, state) => {
            if (state === 'online') onOnline(n);
          },
        }),
      );
    }
    await Promise.all([...resources.values()].map((r) => r.online()));
    fail = (name) => (resources.get(name) as HandResource | SyncResource).fail();
    close = async () => {
      for (const r of resources.values()) r.stop();
    };
  }
  for (let i = 0; i < trials; i++) {
    const name = names[i % RESOURCES] as string;
    const back = cameBack(name);
    t0 = performance.now();
    fail(name);
    await back;
  }
  await close();
  return samples;
}

/** (b) looksAlive fails every time (1 ms interval); returns the microseconds until isAlive starts. */
async function looksTrials(impl: Impl, trials: number): Promise<number[]> {
  const samples: number[] = [];
  const failedAt = new Map<string, number>();
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const looksAlive = (name: string) => {
    failedAt.set(name, performance.now());
    return false;
  };
  const isAlive = (name: string) => {
    const t0 = failedAt.get(name);
    if (t0 !== undefined) {
      samples.push((performance.now() - t0) * 1000);
      failedAt.delete(name);
      if (samples.length === trials) done();
    }
    return true;
  };
  const names = Array.from({ length: RESOURCES }, (_, i) => `r${i}`);
  let close: () => Promise<void>;
  if (impl === 'resmon') {
    const type: ResourceType = {
      name: 'flaky',
      online: () => {},
      offline: () => {},
      terminate: () => {},
      looksAlive: (ctx) => looksAlive(ctx.resource),
      isAlive: (ctx) => isAlive(ctx.resource),
    };
    const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 1, isAlivePollInterval: 3_600_000 } });
    monitor.registerType(type);
    for (const name of names) monitor.addResource({ name, type: 'flaky' });
    await Promise.all(names.map((n) => monitor.online(n)));
    close = () => monitor.close();
  } else {
    const Loop = impl === 'sync' ? SyncResource : HandResource;
    const resources = names.map(
      (name) =>
        new Loop(
          name,
          { online: () => {}, offline: () => {}, terminate: () => {}, looksAlive: () => looksAlive(name), isAlive: () => isAlive(name) },
          { looksAlivePollInterval: 1, isAlivePollInterval: 3_600_000, pollJitter: 0, restartDelay: 0 },
        ),
    );
    await Promise.all(resources.map((r) => r.online()));
    close = async () => {
      for (const r of resources) r.stop();
    };
  }
  await finished;
  await close();
  return samples.slice(0, trials);
}

async function main(): Promise<void> {
  const trials = numArg('trials', quick ? 1_000 : 10_000);
  const rounds = roundsArg(2);
  const per = Math.ceil(trials / rounds);
  const rows: Row[] = [];
  const extra: Record<string, unknown> = {};
  for (const [label, fn] of [
    ['reportFailure → terminate starts', failTrials],
    ['looksAlive false → isAlive starts', looksTrials],
  ] as const) {
    progress(`reaction: ${label}, ${trials} trials per side in ${rounds} rounds`);
    const runs = await alternate(rounds, async (impl) => {
      const s = await fn(impl, per);
      return { trials: s.length, p50Us: percentile(s, 50), p99Us: percentile(s, 99), maxUs: Math.max(...s), samples: s };
    });
    const pool = (side: { samples: number[] }[]) => side.flatMap((r) => r.samples);
    const s = pool(runs.sync);
    const b = pool(runs.baseline);
    const r = pool(runs.resmon);
    const p99 = percentile(r, 99);
    rows.push(row(`${label}: p50`, 'µs', percentile(s, 50), percentile(b, 50), percentile(r, 50)));
    rows.push(row(`${label}: p99`, 'µs', percentile(s, 99), percentile(b, 99), p99, '≤ 1,000 µs', p99 <= 1000));
    rows.push(row(`${label}: max`, 'µs', Math.max(...s), Math.max(...b), Math.max(...r)));
    extra[label] = { syncTrials: s.length, baselineTrials: b.length, resmonTrials: r.length };
  }
  report('reaction', 'Scenario 2: reaction time', { trials, rounds, resources: RESOURCES }, rows, extra);
}

await main();

/**
 * Scenario 3, restart storm: N online resources all fail in one tick (reportFailure in one
 * synchronous loop). Measures the time until every one is online again (restartDelay is the
 * default 500 ms, so that is the floor), the longest stall of the failing burst, and the event
 * loop's max delay meanwhile (target ≤ 50 ms).
 *
 *   node --expose-gc --import tsx bench/storm.ts [--quick] [--rounds=N] [--n=10000]
 */
import { performance } from 'node:perf_hooks';
import { type ResourceContext, ResourceMonitor, type ResourceType } from './resmon.js';
import { HandResource, SyncResource } from './baseline.js';
import { alternate, type Impl, median, numArg, progress, quick, report, row, roundsArg, withLoopDelay } from './harness.js';

const RESTART_DELAY = 500;

interface Run {
  allOnlineMs: number;
  burstMs: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

async function storm(impl: Impl, n: number): Promise<Run> {
  const names = Array.from({ length: n }, (_, i) => `r${i}`);
  let onlineCount = 0;
  let allBack: () => void = () => {};
  let armed = false;
  const onOnline = () => {
    if (armed && ++onlineCount === n) allBack();
  };
  let failAll: () => void;
  let close: () => Promise<void>;
  if (impl === 'resmon') {
    const ctxs: ResourceContext[] = [];
    const type: ResourceType = {
      name: 'stormy',
      online: (ctx) => {
        if (!armed) ctxs.push(ctx);
      },
      offline: () => {},
      terminate: () => {},
      looksAlive: () => true,
      isAlive: () => true,
    };
    const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 5_000, isAlivePollInterval: 60_000, pollJitter: 1, restartDelay: RESTART_DELAY } });
    monitor.registerType(type);
    monitor.on('stateChange', (e) => {
      if (e.to === 'online') onOnline();
    });
    for (const name of names) monitor.addResource({ name, type: 'stormy' });
    await Promise.all(names.map((name) => monitor.online(name)));
    failAll = () => {
      for (const ctx of ctxs) ctx.reportFailure('storm');
    };
    close = () => monitor.close();
  } else {
    const checks = { online: () => {}, offline: () => {}, terminate: () => {}, looksAlive: () => true, isAlive: () => true };
    const options = {
      looksAlivePollInterval: 5_000,
      isAlivePollInterval: 60_000,
      pollJitter: 1,
      restartDelay: RESTART_DELAY,
      onState: (_name: string, state: string) => {
        if (state === 'online') onOnline();
      },
    };
    const resources: { online(): unknown; offline(): unknown; fail(): void; stop(): void }[] = impl === 'sync' ? names.map((name) => new SyncResource(name, checks, options)) : names.map((name) => new HandResource(name, checks, options));
    await Promise.all(resources.map((r) => r.online()));
    failAll = () => {
      for (const r of resources) r.fail();
    };
    close = async () => {
      for (const r of resources) r.stop();
    };
  }
  const back = new Promise<void>((resolve) => {
    allBack = resolve;
  });
  const measured = await withLoopDelay(async () => {
    armed = true;
    const t0 = performance.now();
    failAll();
    // The burst: the loop and every microtask it queued run before this immediate.
    const burstMs = await new Promise<number>((resolve) => setImmediate(() => resolve(performance.now() - t0)));
    await back;
    return { burstMs, allOnlineMs: performance.now() - t0 };
  });
  await close();
  return { ...measured.value, loopMaxMs: measured.maxMs, loopP99Ms: measured.p99Ms };
}

async function main(): Promise<void> {
  const n = numArg('n', quick ? 2_000 : 10_000);
  const rounds = roundsArg(quick ? 1 : 3);
  progress(`storm: ${n} resources fail in one tick, restartDelay ${RESTART_DELAY} ms, ${rounds} rounds`);
  const runs = await alternate(rounds, (impl) => storm(impl, n));
  const med = (side: Run[], key: keyof Run) => median(side.map((r) => r[key]));
  const loopMax = med(runs.resmon, 'loopMaxMs');
  const bar = Math.max(50, 1.5 * med(runs.sync, 'loopMaxMs'));
  const all = (key: keyof Run, minus = 0) => [med(runs.sync, key) - minus, med(runs.baseline, key) - minus, med(runs.resmon, key) - minus] as const;
  report(
    'storm',
    `Scenario 3: restart storm (${n} fail in one tick, restartDelay ${RESTART_DELAY} ms)`,
    { n, rounds, restartDelay: RESTART_DELAY },
    [
      row('all online again', 'ms', ...all('allOnlineMs')),
      row('all online again − restartDelay', 'ms', ...all('allOnlineMs', RESTART_DELAY)),
      row('failing burst (one stall)', 'ms', ...all('burstMs')),
      row('event-loop delay max', 'ms', ...all('loopMaxMs'), `≤ max(50 ms, 1.5× sync) = ${Math.round(bar)} ms`, loopMax <= bar),
      row('event-loop delay p99', 'ms', ...all('loopP99Ms')),
    ],
    { runs },
  );
}

await main();

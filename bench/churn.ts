/**
 * Scenario 4, churn: `transitions` state changes over 1,000 resources (online() and offline() in
 * turn, every resource at once), with a stateChange listener. The heap after a full GC must come
 * back within 5 % of where it started (no leak); the time per transition is compared too.
 *
 *   node --expose-gc --import tsx bench/churn.ts [--quick] [--rounds=N] [--transitions=1000000]
 */
import { performance } from 'node:perf_hooks';
import { ResourceMonitor, type ResourceType } from './resmon.js';
import { HandResource, SyncResource } from './baseline.js';
import { alternate, heapAfterGc, type Impl, median, numArg, progress, quick, report, row, roundsArg } from './harness.js';

const RESOURCES = 1_000;

interface Run {
  transitions: number;
  usPerTransition: number;
  heapStartMiB: number;
  heapEndMiB: number;
  growthPct: number;
}

async function churn(impl: Impl, transitions: number): Promise<Run> {
  const names = Array.from({ length: RESOURCES }, (_, i) => `r${i}`);
  let count = 0;
  let online: () => Promise<unknown>;
  let offline: () => Promise<unknown>;
  let close: () => Promise<void>;
  const checks = { online: () => {}, offline: () => {}, terminate: () => {}, looksAlive: () => true, isAlive: () => true };
  if (impl === 'resmon') {
    const type: ResourceType = { name: 'churny', ...checks };
    const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 5_000, isAlivePollInterval: 60_000 } });
    monitor.registerType(type);
    monitor.on('stateChange', () => {
      count++;
    });
    for (const name of names) monitor.addResource({ name, type: 'churny' });
    online = () => Promise.all(names.map((n) => monitor.online(n)));
    offline = () => Promise.all(names.map((n) => monitor.offline(n)));
    close = () => monitor.close();
  } else {
    const options = {
      looksAlivePollInterval: 5_000,
      isAlivePollInterval: 60_000,
      pollJitter: 0,
      restartDelay: 500,
      onState: () => {
        count++;
      },
    };
    const resources: { online(): unknown; offline(): unknown; fail(): void; stop(): void }[] = impl === 'sync' ? names.map((name) => new SyncResource(name, checks, options)) : names.map((name) => new HandResource(name, checks, options));
    online = () => Promise.all(resources.map((r) => r.online()));
    offline = () => Promise.all(resources.map((r) => r.offline()));
    close = async () => {
      for (const r of resources) r.stop();
    };
  }
  // One cycle first, so lazily built state (loggers, lanes, JIT) is in the starting heap.
  await online();
  await offline();
  const heapStart = await heapAfterGc();
  count = 0;
  const t0 = performance.now();
  while (count < transitions) {
    await online();
    await offline();
  }
  const elapsed = performance.now() - t0;
  const done = count;
  const heapEnd = await heapAfterGc();
  await close();
  return {
    transitions: done,
    usPerTransition: (elapsed * 1000) / done,
    heapStartMiB: heapStart / 2 ** 20,
    heapEndMiB: heapEnd / 2 ** 20,
    growthPct: ((heapEnd - heapStart) / heapStart) * 100,
  };
}

async function main(): Promise<void> {
  const transitions = numArg('transitions', quick ? 100_000 : 1_000_000);
  const rounds = roundsArg(1);
  progress(`churn: ${transitions} transitions over ${RESOURCES} resources, ${rounds} rounds`);
  const runs = await alternate(rounds, (impl) => churn(impl, transitions));
  const med = (side: Run[], key: keyof Run) => median(side.map((r) => r[key]));
  const growth = med(runs.resmon, 'growthPct');
  const all = (key: keyof Run) => [med(runs.sync, key), med(runs.baseline, key), med(runs.resmon, key)] as const;
  report(
    'churn',
    `Scenario 4: churn (${transitions.toLocaleString('en-US')} transitions over ${RESOURCES} resources)`,
    { transitions, rounds, resources: RESOURCES },
    [
      row('time per transition', 'µs', ...all('usPerTransition')),
      row('heap at start (after GC)', 'MiB', ...all('heapStartMiB')),
      row('heap at end (after GC)', 'MiB', ...all('heapEndMiB')),
      row('heap growth', '%', ...all('growthPct'), '≤ 5 %', growth <= 5),
    ],
    { runs },
  );
}

await main();

/**
 * Scenario 6, one million resources on one process: how long it takes to add them and bring them
 * all online, and the memory they take once online (heap after a full GC, and the process's
 * resident set), for resmon and the two hand-written loops. Polls are slow here (looksAlive every
 * 60 s, isAlive every 600 s, jitter 1) so that the figure is the cost of holding the resources,
 * not of checking them; each side runs in a fresh child process, so one's heap does not colour
 * the next.
 *
 *   node --expose-gc --import tsx bench/million.ts [--quick] [--rounds=N] [--n=1000000]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { ResourceMonitor, type ResourceType } from './resmon.js';
import { HandResource, SyncResource } from './baseline.js';
import { heapAfterGc, type Impl, median, numArg, progress, quick, report, row, roundsArg } from './harness.js';

interface Run {
  setupS: number;
  heapMiB: number;
  rssMiB: number;
  bytesPerResource: number;
}

const LOOKS = 60_000;
const checks = { online: () => {}, offline: () => {}, terminate: () => {}, looksAlive: () => true, isAlive: () => true };

/** One side, in this process: prints its Run as JSON on stdout. */
async function side(impl: Impl, n: number): Promise<Run> {
  const heap0 = await heapAfterGc();
  const t0 = performance.now();
  let keep: unknown;
  if (impl === 'resmon') {
    const type: ResourceType = { name: 'noop', ...checks };
    const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: LOOKS, isAlivePollInterval: LOOKS * 10, pollJitter: 1 } });
    monitor.registerType(type);
    for (let i = 0; i < n; i++) monitor.addResource({ name: `r${i}`, type: 'noop' });
    // In slices, as a service bringing up its resources would (one Promise.all of a million is a
    // million pending promises at once, which measures the caller, not the monitor).
    for (let i = 0; i < n; i += 10_000) {
      const batch: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + 10_000); j++) batch.push(monitor.online(`r${j}`));
      await Promise.all(batch);
    }
    keep = monitor;
  } else {
    const options = { looksAlivePollInterval: LOOKS, isAlivePollInterval: LOOKS * 10, pollJitter: 1, restartDelay: 500 };
    const resources: { online(): unknown }[] = [];
    for (let i = 0; i < n; i++) resources.push(impl === 'sync' ? new SyncResource(`r${i}`, checks, options) : new HandResource(`r${i}`, checks, options));
    for (let i = 0; i < n; i += 10_000) await Promise.all(resources.slice(i, i + 10_000).map((r) => r.online()));
    keep = resources;
  }
  const setupS = (performance.now() - t0) / 1000;
  const heap1 = await heapAfterGc();
  const rss = process.memoryUsage().rss;
  void keep;
  return { setupS, heapMiB: heap1 / 2 ** 20, rssMiB: rss / 2 ** 20, bytesPerResource: (heap1 - heap0) / n };
}

const sideArg = process.argv.find((a) => a.startsWith('--side='))?.slice('--side='.length) as Impl | undefined;
const n = numArg('n', quick ? 100_000 : 1_000_000);

if (sideArg) {
  const run = await side(sideArg, n);
  process.stdout.write(`${JSON.stringify(run)}\n`);
  // The monitor's timers would keep the process alive: this side is done.
  process.exit(0);
} else {
  const rounds = roundsArg(1);
  progress(`million: ${n} resources, looksAlive ${LOOKS} ms, each side in a child process, ${rounds} rounds`);
  const runs: Record<Impl, Run[]> = { sync: [], baseline: [], resmon: [] };
  for (let round = 0; round < rounds; round++) {
    const order: Impl[] = round % 2 === 0 ? ['sync', 'baseline', 'resmon'] : ['resmon', 'baseline', 'sync'];
    for (const impl of order) {
      const args = ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', fileURLToPath(import.meta.url), `--side=${impl}`, `--n=${n}`];
      if (process.argv.includes('--src')) args.push('--src');
      const child = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
      if (child.status !== 0) throw new Error(`bench/million.ts --side=${impl} failed (exit ${child.status ?? child.signal})`);
      const run = JSON.parse(child.stdout.trim().split('\n').pop() as string) as Run;
      runs[impl].push(run);
      progress(`  ${impl} round ${round + 1}/${rounds}: ${JSON.stringify(run)}`);
    }
  }
  const all = (key: keyof Run) => [median(runs.sync.map((r) => r[key])), median(runs.baseline.map((r) => r[key])), median(runs.resmon.map((r) => r[key]))] as const;
  const [, , setup] = all('setupS');
  const [, , rss] = all('rssMiB');
  report(
    'million',
    `Scenario 6: ${n.toLocaleString('en-US')} resources on one process (looksAlive ${LOOKS / 1000} s, isAlive ${LOOKS / 100} s, jitter 1)`,
    { n, rounds },
    [
      row('setup (add + online all)', 's', ...all('setupS'), '< 60 s', setup < 60),
      row('heap after GC', 'MiB', ...all('heapMiB')),
      row('resident set', 'MiB', ...all('rssMiB'), '< 1.5 GB', rss < 1536),
      row('heap per resource', 'bytes', ...all('bytesPerResource')),
    ],
    { runs },
  );
}

/**
 * Scenario 1, scale: N inline resources with no-op checks, looksAlive every `looks` ms and isAlive
 * every 10× that, pollJitter 1, measured in steady state. Per side: CPU per check, poll lateness
 * (how late poll timers fire), event-loop delay, and memory per resource.
 *
 *   node --expose-gc --import tsx bench/scale.ts [--quick] [--rounds=N] [--n=100000] [--steady=30000]
 */
import { performance } from 'node:perf_hooks';
import { ResourceMonitor, type ResourceType } from './resmon.js';
import { HandResource, SyncResource } from './baseline.js';
import {
  alternate,
  cpuSince,
  heapAfterGc,
  type Impl,
  Lateness,
  median,
  numArg,
  progress,
  quick,
  report,
  type Row,
  row,
  roundsArg,
  sleep,
  withLoopDelay,
} from './harness.js';

interface Run {
  checks: number;
  checksPerSec: number;
  cpuPerCheckUs: number;
  cpuPct: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateMaxMs: number;
  loopP99Ms: number;
  loopMaxMs: number;
  bytesPerResource: number;
  setupMs: number;
}

interface Config {
  n: number;
  looks: number;
  steadyMs: number;
  warmMs: number;
  /** The lateness window, after the CPU window. */
  lateMs: number;
  rounds: number;
}

const counter = { looks: 0, is: 0 };
/** The lateness probe of the side being measured (the check functions report to it). */
let probe = new Lateness(16);
const checks = {
  online: () => {},
  offline: () => {},
  terminate: () => {},
  looksAlive: () => {
    counter.looks++;
    probe.onCheck();
    return true;
  },
  isAlive: () => {
    counter.is++;
    probe.onCheck();
    return true;
  },
};

const type: ResourceType = {
  name: 'noop',
  online: checks.online,
  offline: checks.offline,
  terminate: checks.terminate,
  looksAlive: checks.looksAlive,
  isAlive: checks.isAlive,
};

/** CPU the process spends per ms of wall time with nothing to monitor (the sampler, GC, the runtime), in µs. */
let idleCpuPerMs = 0;

async function measureIdle(ms: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await withLoopDelay(() => sleep(ms), 10);
  return cpuSince(cpu0) / (performance.now() - start);
}

async function measure(impl: Impl, c: Config): Promise<Run> {
  const lateness = (probe = new Lateness(16));
  const names = Array.from({ length: c.n }, (_, i) => `r${i}`);
  const heap0 = await heapAfterGc();
  const t0 = performance.now();
  let teardown: () => Promise<void>;
  if (impl === 'resmon') {
    const monitor = new ResourceMonitor({
      clock: lateness.clock(),
      defaults: { looksAlivePollInterval: c.looks, isAlivePollInterval: c.looks * 10, pollJitter: 1 },
    });
    monitor.registerType(type);
    for (const name of names) monitor.addResource({ name, type: 'noop' });
    await Promise.all(names.map((name) => monitor.online(name)));
    teardown = () => monitor.close();
  } else {
    const options = {
      looksAlivePollInterval: c.looks,
      isAlivePollInterval: c.looks * 10,
      pollJitter: 1,
      restartDelay: 500,
      setTimer: lateness.setTimer,
    };
    const resources: { online(): unknown; offline(): unknown; fail(): void; stop(): void }[] = impl === 'sync' ? names.map((name) => new SyncResource(name, checks, options)) : names.map((name) => new HandResource(name, checks, options));
    await Promise.all(resources.map((r) => r.online()));
    teardown = async () => {
      for (const r of resources) r.stop();
    };
  }
  const setupMs = performance.now() - t0;
  const heap1 = await heapAfterGc();
  await sleep(c.warmMs);
  // The CPU window: nothing instrumented.
  const before = counter.looks + counter.is;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const { loopP99Ms, loopMaxMs } = await withLoopDelay(() => sleep(c.steadyMs), 10).then((d) => ({ loopP99Ms: d.p99Ms, loopMaxMs: d.maxMs }));
  const cpu = cpuSince(cpu0) - idleCpuPerMs * c.steadyMs;
  const elapsed = performance.now() - start;
  const done = counter.looks + counter.is - before;
  // The lateness window: timers noted, every 16th check sampled.
  lateness.recording = true;
  await sleep(c.lateMs);
  lateness.recording = false;
  const late = lateness.summary();
  await teardown();
  return {
    checks: done,
    checksPerSec: (done / elapsed) * 1000,
    cpuPerCheckUs: cpu / done,
    cpuPct: (cpu / 1000 / elapsed) * 100,
    lateP50Ms: late.p50,
    lateP99Ms: late.p99,
    lateMaxMs: late.max,
    loopP99Ms,
    loopMaxMs,
    bytesPerResource: (heap1 - heap0) / c.n,
    setupMs,
  };
}

/** Runs one configuration, B/R alternating; returns the medians of each side. */
export async function scale(c: Config): Promise<{ sync: Run; baseline: Run; resmon: Run; runs: Record<Impl, Run[]> }> {
  progress(`scale: n=${c.n} looksAlive=${c.looks} ms isAlive=${c.looks * 10} ms steady=${c.steadyMs} ms rounds=${c.rounds}`);
  const runs = await alternate(c.rounds, (impl) => measure(impl, c));
  const keys = Object.keys((runs.resmon[0] ?? runs.sync[0] ?? runs.baseline[0]) as Run) as (keyof Run)[];
  const med = (side: Run[]) => {
    const out = {} as Run;
    for (const key of keys) out[key] = side.length > 0 ? median(side.map((r) => r[key])) : Number.NaN;
    return out;
  };
  return { sync: med(runs.sync), baseline: med(runs.baseline), resmon: med(runs.resmon), runs };
}

async function main(): Promise<void> {
  const target = numArg('n', quick ? 10_000 : 100_000);
  const steadyMs = numArg('steady', quick ? 3_000 : 30_000);
  const rounds = roundsArg(1);
  // The target configuration first, then the growth curve (resources, then poll rate).
  const configs: (Config & { label: string })[] = [
    { label: `${target / 1000}k @1s (target)`, n: target, looks: 1000, steadyMs, warmMs: quick ? 1_000 : 3_000, lateMs: quick ? 3_000 : 6_000, rounds },
  ];
  if (!process.argv.includes('--target-only')) {
    for (const n of quick ? [1_000] : [1_000, 10_000]) {
      if (n !== target) configs.push({ label: `${n / 1000}k @1s`, n, looks: 1000, steadyMs: quick ? 2_000 : 10_000, warmMs: 2_000, lateMs: quick ? 2_000 : 4_000, rounds: quick ? 1 : 2 });
    }
    const n = quick ? 1_000 : 10_000;
    configs.push({ label: `${n / 1000}k @250ms`, n, looks: 250, steadyMs: quick ? 2_000 : 10_000, warmMs: 1_000, lateMs: quick ? 2_000 : 4_000, rounds: quick ? 1 : 2 });
  }
  idleCpuPerMs = await measureIdle(quick ? 1_000 : 3_000);
  progress(`idle process: ${(idleCpuPerMs / 10).toFixed(2)} % of a core (subtracted from both sides)`);
  const results: Record<string, unknown> = { idleCpuPct: idleCpuPerMs / 10 };
  const rows: Row[] = [];
  for (const c of configs) {
    const r = await scale(c);
    results[c.label] = r;
    const head = c.label.endsWith('(target)');
    const { sync: s, baseline: b, resmon: m } = r;
    const vsSync = m.cpuPerCheckUs / s.cpuPerCheckUs;
    const vsAsync = m.cpuPerCheckUs / b.cpuPerCheckUs;
    const extraBytes = m.bytesPerResource - s.bytesPerResource;
    rows.push(row(`${c.label}: CPU per check`, 'µs', s.cpuPerCheckUs, b.cpuPerCheckUs, m.cpuPerCheckUs, head ? '≤ 1.5× sync, ≤ 1× async' : '', head ? vsSync <= 1.5 && vsAsync <= 1 : null));
    rows.push(row(`${c.label}: checks per second`, '/s', s.checksPerSec, b.checksPerSec, m.checksPerSec));
    rows.push(row(`${c.label}: CPU busy`, '% of a core', s.cpuPct, b.cpuPct, m.cpuPct));
    rows.push(row(`${c.label}: poll lateness p99`, 'ms', s.lateP99Ms, b.lateP99Ms, m.lateP99Ms, head ? '≤ the sync loop' : '', head ? m.lateP99Ms <= s.lateP99Ms : null));
    if (head) {
      rows.push(row(`${c.label}: poll lateness max`, 'ms', s.lateMaxMs, b.lateMaxMs, m.lateMaxMs));
      rows.push(row(`${c.label}: event-loop delay max`, 'ms', s.loopMaxMs, b.loopMaxMs, m.loopMaxMs));
    }
    rows.push(
      row(`${c.label}: memory per resource`, 'bytes', s.bytesPerResource, b.bytesPerResource, m.bytesPerResource, head ? '≤ sync + 1024' : '', head ? extraBytes <= 1024 : null),
    );
    if (head) rows.push(row(`${c.label}: setup (add + online all)`, 'ms', s.setupMs, b.setupMs, m.setupMs));
  }
  report('scale', 'Scenario 1: scale (no-op checks, pollJitter 1, isAlive = 10 × looksAlive)', { n: target, steadyMs, rounds }, rows, { results });
}

await main();

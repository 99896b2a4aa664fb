/**
 * Scenario 5, hosted checks: what isolation costs per check. 1,000 resources of a trivial
 * plugin (isAlive returns true) are polled once a second each (pollJitter 1 spreads them), first
 * inline, then all in one worker host, then all in one process host, each in a fresh monitor.
 * For each: the round trip of a check as the monitor measures it (the `check` event's
 * durationMs, on a sub-millisecond clock), median and p99, and the CPU time per check.
 *
 *   npm run bench:hosted              # 1,000 resources, 10 s per kind
 *   npm run bench:hosted -- --quick   # 200 resources, 3 s per kind
 *
 * CPU is process.cpuUsage() of this process: for inline and worker it counts everything (a
 * worker is a thread of this process); for a process host it counts the monitor's side only, so
 * the child's own CPU is read from /proc/<pid>/stat where there is one (Linux).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { type Clock, type Isolation, ResourceMonitor } from '../src/index.js';
import { trivial } from '../test/fixtures/hosted/trivial.js';
import { cpuSince, machine, median, numArg, percentile, progress, quick, sleep } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const PLUGIN = fileURLToPath(new URL('../test/fixtures/hosted/trivial.ts', import.meta.url));
const RESOURCES = numArg('resources', quick ? 200 : 1_000);
const SECONDS = numArg('seconds', quick ? 3 : 10);
const INTERVAL = 1_000;

/** Sub-millisecond time, so a round trip of 0.05 ms is not rounded to 0. */
const clock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** CPU ticks (user + system) of a child process, from /proc; null where there is no /proc. */
function childTicks(pids: number[]): number | null {
  try {
    let ticks = 0;
    for (const pid of pids) {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks;
  } catch {
    return null;
  }
}

interface Result {
  isolation: Isolation;
  resources: number;
  checks: number;
  checksPerSecond: number;
  medianMs: number;
  p99Ms: number;
  cpuUsPerCheck: number;
  childCpuUsPerCheck: number | null;
}

async function run(isolation: Isolation): Promise<Result> {
  const pids = new Set<number>();
  const monitor = new ResourceMonitor({
    clock,
    defaults: { looksAlivePollInterval: 0, isAlivePollInterval: INTERVAL, pollJitter: 1, deadlockTimeout: 30_000, pendingTimeout: 60_000 },
  });
  if (isolation === 'inline') monitor.registerType(trivial);
  else await monitor.registerType({ module: PLUGIN, exportName: 'trivial', isolation });
  for (let i = 0; i < RESOURCES; i++) monitor.addResource({ name: `r${i}`, type: 'trivial' });
  await Promise.all(Array.from({ length: RESOURCES }, (_, i) => monitor.online(`r${i}`)));
  const hosts = new Set(monitor.snapshot().map((s) => s.host));
  if (hosts.size !== 1) throw new Error(`expected one host, got ${[...hosts].join(', ')}`);
  if (isolation === 'process') {
    for (const line of readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/)) {
      if (line) pids.add(Number(line));
    }
  }
  // Warm up: two full rounds of polls.
  await sleep(2 * INTERVAL);
  const durations: number[] = [];
  const onCheck = (e: { durationMs: number }) => durations.push(e.durationMs);
  monitor.on('check', onCheck);
  const cpu = process.cpuUsage();
  const ticks = childTicks([...pids]);
  const start = performance.now();
  await sleep(SECONDS * 1_000);
  const cpuUs = cpuSince(cpu);
  const ticksAfter = childTicks([...pids]);
  const elapsed = (performance.now() - start) / 1_000;
  monitor.off('check', onCheck);
  await monitor.close();
  const checks = durations.length;
  return {
    isolation,
    resources: RESOURCES,
    checks,
    checksPerSecond: checks / elapsed,
    medianMs: median(durations),
    p99Ms: percentile(durations, 99),
    cpuUsPerCheck: cpuUs / checks,
    // /proc ticks are 1/100 s (USER_HZ 100 on Linux).
    childCpuUsPerCheck: isolation === 'process' && ticks !== null && ticksAfter !== null ? ((ticksAfter - ticks) * 10_000) / checks : null,
  };
}

const results: Result[] = [];
for (const isolation of ['inline', 'worker', 'process'] as const) {
  progress(`hosted: ${RESOURCES} resources ${isolation}, ${SECONDS} s`);
  results.push(await run(isolation));
}

const fmt = (n: number | null, digits = 3) => (n === null || Number.isNaN(n) ? '-' : Number(n.toPrecision(digits)).toString());
const inline = results[0]!;
const lines = [
  '',
  `## Scenario 5: hosted checks (${RESOURCES} resources, isAlive every ${INTERVAL} ms with jitter 1, ${SECONDS} s per kind)`,
  '',
  '| isolation | checks/s | round trip median (ms) | p99 (ms) | CPU per check, this process (µs) | + host process (µs) | CPU vs inline |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.isolation} | ${fmt(r.checksPerSecond)} | ${fmt(r.medianMs)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuUsPerCheck)} | ${fmt(r.childCpuUsPerCheck)} | ${fmt(
        (r.cpuUsPerCheck + (r.childCpuUsPerCheck ?? 0)) / inline.cpuUsPerCheck,
      )}× |`,
  ),
  '',
  '',
];
process.stdout.write(lines.join('\n'));
const dir = join(here, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, `hosted${quick ? '.quick' : ''}.json`), `${JSON.stringify({ machine: machine(), results }, null, 2)}\n`);

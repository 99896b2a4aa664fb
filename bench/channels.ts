/**
 * diagnostics_channel cost: the scale scenario (N inline resources, no-op checks, looksAlive every
 * `looks` ms, isAlive every 10× that, pollJitter 1) run by resmon alone, alternating in one
 * process between
 *   - no subscriber: nothing listens, so no event payload is built (the channel's hasSubscribers
 *     is read per event, that is all), and
 *   - a subscriber: a no-op function subscribed to every `resmon:<event>` channel, so every check
 *     builds its payload and publishes it.
 * `--before=PATH/index.js` adds a third side: another build of the package (e.g. one without
 * channels), with no subscriber, to show what "no subscriber" costs against not having channels.
 *
 *   node --expose-gc --import tsx bench/channels.ts [--quick] [--rounds=N] [--n=100000] [--steady=30000] [--before=PATH]
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { eventChannel, ResourceMonitor, type ResourceType } from './resmon.js';
import { cpuSince, fullGc, Lateness, median, numArg, progress, quick, roundsArg, sleep, withLoopDelay } from './harness.js';

const EVENTS = ['stateChange', 'check', 'slowCall', 'callTimeout', 'progress', 'restartScheduled', 'escalated', 'hostExit'];
type Side = 'before' | 'none' | 'subscribed';

const counter = { checks: 0, published: 0 };
/** The lateness probe of the side being measured. */
let probe = new Lateness(16);
const type: ResourceType = {
  name: 'noop',
  online: () => {},
  offline: () => {},
  terminate: () => {},
  looksAlive: () => (counter.checks++, probe.onCheck(), true),
  isAlive: () => (counter.checks++, probe.onCheck(), true),
};

const beforeArg = process.argv.find((a) => a.startsWith('--before='))?.slice('--before='.length);
const Before = beforeArg ? ((await import(pathToFileURL(beforeArg).href)) as { ResourceMonitor: typeof ResourceMonitor }).ResourceMonitor : null;

interface Run {
  cpuPerCheckUs: number;
  checksPerSec: number;
  lateP99Ms: number;
  loopP99Ms: number;
  published: number;
}

const subscriber = () => void counter.published++;

async function measure(side: Side, n: number, looks: number, steadyMs: number, warmMs: number, idleCpuPerMs: number): Promise<Run> {
  const lateness = (probe = new Lateness(16));
  const Monitor = side === 'before' ? (Before as typeof ResourceMonitor) : ResourceMonitor;
  if (side === 'subscribed') for (const e of EVENTS) diagnosticsChannel.subscribe(`resmon:${e}`, subscriber);
  const monitor = new Monitor({ clock: lateness.clock(), defaults: { looksAlivePollInterval: looks, isAlivePollInterval: looks * 10, pollJitter: 1 } });
  monitor.registerType(type);
  const names = Array.from({ length: n }, (_, i) => `r${i}`);
  for (const name of names) monitor.addResource({ name, type: 'noop' });
  await Promise.all(names.map((name) => monitor.online(name)));
  await sleep(warmMs);
  lateness.recording = true;
  const checks0 = counter.checks;
  const published0 = counter.published;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const delay = await withLoopDelay(() => sleep(steadyMs), 10);
  const cpu = cpuSince(cpu0) - idleCpuPerMs * steadyMs;
  const elapsed = performance.now() - start;
  lateness.recording = false;
  const done = counter.checks - checks0;
  const published = counter.published - published0;
  await monitor.close();
  if (side === 'subscribed') for (const e of EVENTS) diagnosticsChannel.unsubscribe(`resmon:${e}`, subscriber);
  return { cpuPerCheckUs: cpu / done, checksPerSec: (done / elapsed) * 1000, lateP99Ms: lateness.summary().p99, loopP99Ms: delay.p99Ms, published };
}

async function main(): Promise<void> {
  const n = numArg('n', quick ? 10_000 : 100_000);
  const steadyMs = numArg('steady', quick ? 3_000 : 20_000);
  const warmMs = quick ? 1_000 : 3_000;
  const rounds = roundsArg(quick ? 1 : 3);
  const sides: Side[] = Before ? ['before', 'none', 'subscribed'] : ['none', 'subscribed'];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await withLoopDelay(() => sleep(quick ? 1_000 : 3_000), 10);
  const idleCpuPerMs = cpuSince(cpu0) / (performance.now() - t0);
  progress(`channels: n=${n} looksAlive=1000 ms isAlive=10000 ms steady=${steadyMs} ms rounds=${rounds} sides=${sides.join(',')}`);
  const runs = Object.fromEntries(sides.map((s) => [s, [] as Run[]])) as Record<Side, Run[]>;
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      await fullGc();
      const r = await measure(side, n, 1_000, steadyMs, warmMs, idleCpuPerMs);
      runs[side].push(r);
      progress(`  ${side} round ${round + 1}/${rounds}: ${JSON.stringify(r, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`);
    }
  }
  const med = (side: Side, key: keyof Run) => median(runs[side].map((r) => r[key]));
  const label: Record<Side, string> = { before: 'build without channels', none: 'no subscriber', subscribed: 'subscriber on every channel' };
  const lines = [
    '',
    `## diagnostics_channel: scale scenario, ${n} resources, looksAlive 1 s, isAlive 10 s (median of ${rounds})`,
    `| side | CPU per check (µs) | vs no subscriber | checks/s | poll lateness p99 (ms) | loop delay p99 (ms) | events published |`,
    `|:--|--:|--:|--:|--:|--:|--:|`,
    ...sides.map(
      (s) =>
        `| ${label[s]} | ${med(s, 'cpuPerCheckUs').toFixed(2)} | ${(med(s, 'cpuPerCheckUs') / med('none', 'cpuPerCheckUs')).toFixed(2)}× | ${Math.round(med(s, 'checksPerSec'))} | ${med(s, 'lateP99Ms').toFixed(1)} | ${med(s, 'loopP99Ms').toFixed(1)} | ${Math.round(med(s, 'published'))} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // What the monitor adds per event when nobody subscribes: finding the event's channel and
  // reading hasSubscribers (timed over 10 million events, in this process, after the runs).
  const N = 10_000_000;
  const names = ['check', 'stateChange', 'slowCall', 'restartScheduled'];
  let hits = 0;
  const m0 = performance.now();
  for (let i = 0; i < N; i++) if (eventChannel(names[i & 3] as string).hasSubscribers) hits++;
  const ns = ((performance.now() - m0) * 1e6) / N;
  process.stdout.write(`\nper event with no subscriber: ${ns.toFixed(1)} ns (channel lookup + hasSubscribers; ${hits} hits)\n`);
}

await main();

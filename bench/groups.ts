/**
 * Dependencies: the cost of ordering. 10,000 resources with no-op entry points, brought online
 * and taken offline, in two shapes, alternating in one process (I C, C I, …):
 *
 * - independent: no dependencies; `online()` / `offline()` of every resource at once;
 * - chains: 1,000 chains of 10 (r0 <- r1 <- … <- r9, 9,000 edges), each in a group of its own;
 *   `online()` of each chain's top (it brings the chain up bottom-up, one after the other) and
 *   `offline()` of each chain's bottom (it takes the chain down top-down).
 *
 * Reported per side: time to add every resource, to bring all online, to take all offline
 * (µs per resource), and heap per resource after adding. The claim to check: no per-resource
 * cost above the independent case beyond O(edges).
 *
 *   node --expose-gc --import tsx bench/groups.ts [--quick] [--rounds=N] [--n=10000] [--chain=10]
 */
import { performance } from 'node:perf_hooks';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResourceMonitor, type ResourceType } from './resmon.js';
import { fullGc, heapAfterGc, machine, median, numArg, progress, quick, roundsArg } from './harness.js';

type Shape = 'independent' | 'chains';

interface Run {
  addUs: number;
  onlineUs: number;
  offlineUs: number;
  bytesPerResource: number;
  online: number;
}

const noop: ResourceType = {
  name: 'noop',
  online: () => {},
  offline: () => {},
  terminate: () => {},
  isAlive: () => true,
};

async function measure(shape: Shape, n: number, chain: number): Promise<Run> {
  const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 0, isAlivePollInterval: 3_600_000 } });
  monitor.registerType(noop);
  const chains = Math.floor(n / chain);
  const name = (c: number, i: number) => `c${c}-${i}`;
  const heap0 = await heapAfterGc();
  let t = performance.now();
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < chain; i++) {
      if (shape === 'chains') {
        monitor.addResource({ name: name(c, i), type: 'noop', group: `chain${c}`, ...(i > 0 ? { dependsOn: [name(c, i - 1)] } : {}) });
      } else {
        monitor.addResource({ name: name(c, i), type: 'noop' });
      }
    }
  }
  const addMs = performance.now() - t;
  const heap1 = await heapAfterGc();
  const total = chains * chain;
  const all: string[] = [];
  for (let c = 0; c < chains; c++) for (let i = 0; i < chain; i++) all.push(name(c, i));
  t = performance.now();
  if (shape === 'chains') await Promise.all(Array.from({ length: chains }, (_, c) => monitor.online(name(c, chain - 1))));
  else await Promise.all(all.map((r) => monitor.online(r)));
  const onlineMs = performance.now() - t;
  const online = monitor.snapshot().filter((s) => s.state === 'online').length;
  if (online !== total) throw new Error(`${shape}: ${online} of ${total} online`);
  t = performance.now();
  if (shape === 'chains') await Promise.all(Array.from({ length: chains }, (_, c) => monitor.offline(name(c, 0))));
  else await Promise.all(all.map((r) => monitor.offline(r)));
  const offlineMs = performance.now() - t;
  const stillUp = monitor.snapshot().filter((s) => s.state !== 'offline').length;
  if (stillUp !== 0) throw new Error(`${shape}: ${stillUp} not offline`);
  await monitor.close();
  return {
    addUs: (addMs * 1000) / total,
    onlineUs: (onlineMs * 1000) / total,
    offlineUs: (offlineMs * 1000) / total,
    bytesPerResource: (heap1 - heap0) / total,
    online,
  };
}

async function main(): Promise<void> {
  const n = numArg('n', quick ? 2_000 : 10_000);
  const chain = numArg('chain', 10);
  const rounds = roundsArg(quick ? 2 : 5);
  progress(`groups: ${n} resources, chains of ${chain}, ${rounds} rounds`);
  await measure('independent', Math.min(n, 1_000), chain); // warm-up (JIT), not counted
  await measure('chains', Math.min(n, 1_000), chain);
  const runs: Record<Shape, Run[]> = { independent: [], chains: [] };
  for (let round = 0; round < rounds; round++) {
    const order: Shape[] = round % 2 === 0 ? ['independent', 'chains'] : ['chains', 'independent'];
    for (const shape of order) {
      await fullGc();
      const run = await measure(shape, n, chain);
      runs[shape].push(run);
      progress(`  ${shape} round ${round + 1}/${rounds}: ${JSON.stringify(run, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`);
    }
  }
  const med = (shape: Shape, key: keyof Run) => median(runs[shape].map((r) => r[key]));
  const lines = [
    '',
    `## Dependencies: ${n.toLocaleString('en-US')} resources, independent vs chains of ${chain} (median of ${rounds})`,
    `(node ${machine().node}, ${machine().cores}× ${machine().cpu})`,
    '| metric | independent | chains | chains / independent |',
    '|:--|--:|--:|--:|',
  ];
  for (const [key, label] of [
    ['addUs', 'addResource (µs per resource)'],
    ['onlineUs', 'all online (µs per resource)'],
    ['offlineUs', 'all offline (µs per resource)'],
    ['bytesPerResource', 'heap after adding (bytes per resource)'],
  ] as const) {
    const a = med('independent', key);
    const b = med('chains', key);
    lines.push(`| ${label} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)}× |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `groups${quick ? '.quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ scenario: 'groups', at: new Date().toISOString(), machine: machine(), params: { n, chain, rounds }, runs }, null, 2)}\n`);
  progress(`  wrote ${file}`);
}

await main();

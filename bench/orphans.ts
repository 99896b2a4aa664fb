/**
 * `npm run bench:orphans`: what the no-orphan machinery of the `process` type costs.
 *
 * - the watchdog: one `/bin/sh` per Node process (its resident memory, read from /proc);
 * - per child: announcing and forgetting a group on the watchdog's pipe (`trackGroup` +
 *   `untrackGroup`, a write each), against spawning the child at all;
 * - per stop: the /proc walk that finds descendants which left the group (`strayDescendants`),
 *   with the number of processes on the machine.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { strayDescendants, trackGroup, untrackGroup, watchdogPid } from '../src/builtins/group.js';

const quick = process.argv.includes('--quick');
const rss = (pid: number) => /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
const us = (ns: bigint, n: number) => (Number(ns) / 1e3 / n).toFixed(2);

// Announce/forget on the pipe (a fake pgid far from any real one: nothing is signalled here).
const N = quick ? 2_000 : 20_000;
trackGroup(4_000_000);
untrackGroup(4_000_000);
await new Promise((resolve) => setTimeout(resolve, 100));
const wd = watchdogPid();
let t = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  trackGroup(4_000_001);
  untrackGroup(4_000_001);
}
const announce = process.hrtime.bigint() - t;

// Spawning a child that exits at once, for scale.
const S = quick ? 20 : 100;
t = process.hrtime.bigint();
for (let i = 0; i < S; i++) {
  await new Promise<void>((resolve) => spawn('/bin/true', [], { detached: true, stdio: 'ignore' }).once('exit', () => resolve()));
}
const spawnCost = process.hrtime.bigint() - t;

// The /proc walk.
const W = quick ? 20 : 200;
const procs = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length;
t = process.hrtime.bigint();
for (let i = 0; i < W; i++) strayDescendants(process.pid);
const walk = process.hrtime.bigint() - t;

await new Promise((resolve) => setTimeout(resolve, 100));
process.stdout.write(
  [
    '## No orphans: the cost of the watchdog and the /proc walk',
    '',
    '| what | figure |',
    '|---|---|',
    `| watchdog resident memory (one per Node process) | ${wd ? rss(wd) : '?'} kB |`,
    `| announce + forget one group on the pipe (per child start) | ${us(announce, N)} µs |`,
    `| spawn of /bin/true and its exit, for scale | ${us(spawnCost, S)} µs |`,
    `| /proc walk for strays at each stop (${procs} processes on the machine) | ${us(walk, W)} µs |`,
    '',
  ].join('\n'),
);

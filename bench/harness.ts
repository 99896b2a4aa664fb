/**
 * The shared harness of the benchmarks: options, measurement helpers, the table and the JSON.
 *
 * Every scenario runs resmon and the two hand-written loops (bench/baseline.ts: the synchronous
 * one and the async/await one) in the same process, alternating (S A R, R A S …), and reports
 * resmon's ratio to each: absolute figures drift on a shared
 * machine, the ratio of neighbouring runs much less.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { type Clock, measured } from './resmon.js';

// ---- options ---------------------------------------------------------------------------------

/** `--quick` (or BENCH_QUICK=1): small sizes, for a smoke run in seconds. */
export const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** `--rounds=N`: how many B/R pairs each measurement runs (default per scenario). */
export function roundsArg(fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith('--rounds='));
  const n = arg ? Number(arg.slice('--rounds='.length)) : Number.NaN;
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** `--name=value` as a number, or the fallback. */
export function numArg(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = arg ? Number(arg.slice(name.length + 3)) : Number.NaN;
  return Number.isFinite(n) ? n : fallback;
}

// ---- time, CPU, memory -------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `cond()` holds, polling every `every` ms; throws after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 120_000, every = 5): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** Forces a full GC (the scripts run with --expose-gc). */
export async function fullGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench: run with node --expose-gc');
  // Twice, with a turn in between, so finalizers and weak callbacks are collected too.
  gc();
  await sleep(10);
  gc();
}

/** Heap used (V8 heap plus external memory) after a full GC, in bytes. */
export async function heapAfterGc(): Promise<number> {
  await fullGc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** CPU time (user + system) used by the process since `from`, in microseconds. */
export function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return d.user + d.system;
}

/**
 * Samples the event loop's delay while `fn` runs: max and p99 in milliseconds, at `resolution` ms
 * (the sampling timer wakes the loop that often, which costs CPU of its own).
 */
export async function withLoopDelay<T>(fn: () => Promise<T>, resolution = 1): Promise<{ value: T; maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution });
  h.enable();
  // The histogram records from its second sample on: let it take one before `fn` may block.
  await sleep(resolution * 3);
  try {
    const value = await fn();
    return { value, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  } finally {
    h.disable();
  }
}

// ---- lateness ----------------------------------------------------------------------------------

/**
 * Measures how late polls run: (the time a check starts) − (the due time of the timer that ran
 * it). While `recording`, every timer armed through `setTimer` (the loops) or `clock()` (resmon)
 * is wrapped to note its due time as it fires, and every `every`-th check started records its
 * lateness against the last due time noted. While not recording, timers go straight to the
 * global setTimeout, so the CPU window (measured separately) carries no instrumentation.
 *
 * With resmon's shared poll timer one timer runs every poll due by then, so the due time noted
 * is that of the earliest poll of the batch: the figure is an upper bound for resmon, exact for
 * the loops (each of their polls has a timer of its own).
 */
export class Lateness {
  private n = 0;
  private samples: number[] = [];
  private lastDue = Number.NaN;
  recording = false;

  constructor(private readonly every = 16) {}

  /** setTimeout with the due-time note while recording: what the loops use. */
  readonly setTimer = (fn: () => void, ms: number): ReturnType<typeof setTimeout> => {
    if (!this.recording) return setTimeout(fn, ms);
    const due = performance.now() + Math.max(1, ms);
    return setTimeout(() => {
      this.lastDue = due;
      fn();
    }, ms);
  };

  /** Called by the check functions as they start. */
  readonly onCheck = (): void => {
    if (!this.recording || (++this.n & (this.every - 1)) !== 0 || Number.isNaN(this.lastDue)) return;
    this.samples.push(Math.max(0, performance.now() - this.lastDue));
  };

  /** The same, as a resmon clock. */
  clock(): Clock {
    return {
      now: () => Date.now(),
      setTimeout: this.setTimer,
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
  }

  reset(): void {
    this.samples = [];
    this.lastDue = Number.NaN;
  }

  /** p50, p99 and max lateness in milliseconds, and the sample count. */
  summary(): { p50: number; p99: number; max: number; samples: number } {
    const s = this.samples;
    let max = Number.NaN;
    for (const v of s) if (!(v <= max)) max = v;
    return { p50: percentile(s, 50), p99: percentile(s, 99), max, samples: s.length };
  }
}

// ---- statistics --------------------------------------------------------------------------------

/** The p-th percentile (nearest rank) of `values`; NaN when empty. Sorts a copy. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** `--only=sync|baseline|resmon`: run one side alone (to profile it); its tables then miss the others. */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);

/**
 * Runs `measure` for the synchronous loop, the async loop and resmon, `rounds` times, reversing
 * the order every other round (S A R, R A S, …) so drift and warm-up fall on every side alike.
 * Returns every run's result.
 */
export async function alternate<T>(
  rounds: number,
  measure: (impl: Impl, round: number) => Promise<T>,
): Promise<Record<Impl, T[]>> {
  const out: Record<Impl, T[]> = { sync: [], baseline: [], resmon: [] };
  for (let round = 0; round < rounds; round++) {
    const order: Impl[] = round % 2 === 0 ? ['sync', 'baseline', 'resmon'] : ['resmon', 'baseline', 'sync'];
    for (const impl of order) {
      if (only && only !== impl) continue;
      await fullGc();
      const result = await measure(impl, round);
      out[impl].push(result);
      progress(`  ${impl} round ${round + 1}/${rounds}: ${JSON.stringify(result, round2)}`);
    }
  }
  return out;
}

/**
 * The three sides: `sync`, the synchronous loop (`SyncResource` in bench/baseline.ts), `baseline`,
 * the async/await loop (`HandResource`), and resmon.
 */
export type Impl = 'sync' | 'baseline' | 'resmon';

// ---- output ------------------------------------------------------------------------------------

/** One row of a scenario's table: a metric for the three sides, resmon's two ratios and the target. */
export interface Row {
  metric: string;
  unit: string;
  /** The synchronous loop (null where it has no counterpart). */
  sync: number | null;
  /** The async/await loop. */
  baseline: number | null;
  resmon: number;
  /** resmon / the synchronous loop (null when not comparable or ~0). */
  vsSync: number | null;
  /** resmon / the async loop (null when not comparable or ~0). */
  ratio: number | null;
  /** The target in words, e.g. "≤ 1.5× sync". */
  target: string;
  /** true met, false missed, null: no target. */
  met: boolean | null;
}

function ratioOf(resmon: number, loop: number | null): number | null {
  // A ratio of a negative or ~0 figure (a heap that shrank) says nothing: leave it out.
  return loop !== null && loop > 0 && resmon >= 0 && Number.isFinite(loop) ? resmon / loop : null;
}

export function row(
  metric: string,
  unit: string,
  sync: number | null,
  baseline: number | null,
  resmon: number,
  target = '',
  met: boolean | null = null,
): Row {
  return { metric, unit, sync, baseline, resmon, vsSync: ratioOf(resmon, sync), ratio: ratioOf(resmon, baseline), target, met };
}

/** Node, the CPU and the memory of this machine, for the report. */
export function machine(): Record<string, string | number> {
  const c = cpus();
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

function round2(_key: string, value: unknown): unknown {
  if (Array.isArray(value) && value.length > 50 && typeof value[0] === 'number') return `[${value.length} samples]`;
  return typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
}

function fmt(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString('en-US');
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  if (a >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

/** Prints a progress line on stderr (the table goes to stdout). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Prints the scenario's table and writes bench/results/<name>.json. */
export function report(name: string, title: string, params: Record<string, unknown>, rows: Row[], extra: Record<string, unknown> = {}): void {
  const head = ['metric', 'sync loop', 'async loop', 'resmon', 'vs sync', 'vs async', 'target', ''];
  const x = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}×`);
  const body = rows.map((r) => [
    `${r.metric} (${r.unit})`,
    fmt(r.sync),
    fmt(r.baseline),
    fmt(r.resmon),
    x(r.vsSync),
    x(r.ratio),
    r.target,
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const m = machine();
  const out = [
    '',
    `## ${title}`,
    `${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ')}  (node ${m.node}, ${m.cores}× ${m.cpu}; resmon: ${measured})`,
    line(head),
    `|${widths.map((w, i) => (i === 0 || i === 6 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}${quick ? '.quick' : ''}${process.env.BENCH_DIST ? '.experiment' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ scenario: name, title, at: new Date().toISOString(), quick, measured, machine: m, params, rows, ...extra }, round2, 2)}\n`);
  progress(`  wrote ${file}`);
}

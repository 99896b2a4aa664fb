/**
 * The resmon the benchmarks measure: the package as tsup builds it, not src/ through tsx.
 *
 * Why: tsx compiles with esbuild's keepNames, which wraps every function and class expression in
 * a `__name()` call (an Object.defineProperty each time a closure is made). The published
 * package is built without it, so src/ through tsx would overstate the cost of every closure on
 * the hot path. The bench builds src/index.ts with the same tool and target as the package
 * (tsup, ESM, node20) into bench/results/dist (git-ignored) whenever a source file is newer than
 * that build, and imports it from there. `--src` measures src/ through tsx instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Resmon from '../src/index.js';

export type { Clock, ResourceContext, ResourceType } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, 'results', 'dist');
const built = join(out, 'index.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestSource(path) : entry.name.endsWith('.ts') ? statSync(path).mtimeMs : 0;
    if (t > newest) newest = t;
  }
  return newest;
}

function build(): void {
  const tsup = join(dirname(createRequire(import.meta.url).resolve('tsup/package.json')), 'dist', 'cli-default.js');
  const args = [tsup, 'src/index.ts', '--no-config', '--format', 'esm', '--target', 'node20', '--platform', 'node', '--out-dir', out, '--silent'];
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) throw new Error(`bench: building src/index.ts with tsup failed (exit ${run.status})`);
}

/** What is measured: 'built package' or 'src via tsx'. */
export const measured = process.env.BENCH_DIST
  ? `experiment ${process.env.BENCH_DIST}`
  : process.argv.includes('--src')
    ? 'src via tsx'
    : 'built package (tsup, esm, node20)';

let mod: typeof Resmon;
if (process.env.BENCH_DIST) {
  // An experiment: another build of the package (a path to its index.js).
  mod = (await import(pathToFileURL(process.env.BENCH_DIST).href)) as typeof Resmon;
} else if (process.argv.includes('--src')) {
  mod = await import('../src/index.js');
} else {
  if (!existsSync(built) || statSync(built).mtimeMs < newestSource(join(root, 'src'))) build();
  mod = (await import(pathToFileURL(built).href)) as typeof Resmon;
}

export const { ResourceMonitor, eventChannel } = mod;

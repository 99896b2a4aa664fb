/**
 * `npm run bench`: runs every scenario, each in a fresh Node process (so one's heap and JIT
 * state do not colour the next), and prints their tables. Flags are passed on (`--quick`).
 *
 *   npm run bench                # full sizes, a few minutes on 2 cores
 *   npm run bench -- --quick     # small sizes, under a minute
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scenarios = ['scale', 'reaction', 'storm', 'churn', 'million'];
// Scenario 5 (hosted checks) lives in bench/hosted.ts once isolation (src/hosts) lands.
if (existsSync(join(here, 'hosted.ts')) && existsSync(join(here, '..', 'src', 'hosts'))) scenarios.push('hosted');
else process.stdout.write('\n## Scenario 5: hosted checks\nnot run: isolation hosts (src/hosts, bench/hosted.ts) are not in this tree yet\n');

const args = process.argv.slice(2);
let failed = 0;
for (const name of scenarios) {
  process.stderr.write(`\n== bench/${name}.ts ${args.join(' ')}\n`);
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(here, `${name}.ts`), ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    process.stdout.write(`\nbench/${name}.ts failed (exit ${run.status ?? run.signal})\n`);
  }
}
process.stdout.write(`\nJSON results: bench/results/\n`);
process.exitCode = failed > 0 ? 1 : 0;

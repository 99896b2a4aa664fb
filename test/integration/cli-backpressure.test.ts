// `resmon run --json` into a pipe nobody reads for a while: it never buffers without bound; it
// drops lines, counts them, and says so once the reader catches up.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, expect, it } from 'vitest';
import { bin, root } from '../fixtures/servers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-pressure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

it('drops and counts lines while stdout is not read, holding its memory', async () => {
  const noisy = "const l = 'x'.repeat(200); setInterval(() => { for (let i = 0; i < 50; i++) console.log(l); }, 10);";
  const config = path.join(dir, 'noisy.yaml');
  writeFileSync(
    config,
    ['resources:', ...[1, 2, 3].flatMap((i) => [`  - name: n${i}`, '    type: process', '    properties:', `      command: ${JSON.stringify(process.execPath)}`, `      args: ["-e", ${JSON.stringify(noisy)}]`]), ''].join('\n'),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', bin, 'run', '--json', config], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    child.stdout.pause();
    // Nobody reads for 4 s while three processes write about 1 MB/s each.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const rss = rssKb(child.pid!);
    const lines = createInterface({ input: child.stdout });
    const dropped = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no "dropped" line within 10 s of reading again')), 10_000);
      lines.on('line', (text) => {
        const line = text.startsWith('{"event":"dropped"') ? (JSON.parse(text) as Record<string, unknown>) : null;
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      });
    });
    expect(dropped.count as number).toBeGreaterThan(1_000);
    expect((dropped.events as Record<string, number>).log).toBeGreaterThan(1_000);
    // What the monitor holds for a stalled reader is bounded (1 MiB of lines), so its memory stays
    // near its starting size (about 100 MB under tsx), far from the 12 MB the processes wrote.
    expect(rss).toBeLessThan(250_000);
  } finally {
    child.kill('SIGTERM');
    child.stdout.resume();
    await new Promise((resolve) => child.once('close', resolve));
  }
});

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('lets the process exit on its own after close(), with resources that were online and polled', async () => {
  const script = fileURLToPath(new URL('../fixtures/exit-after-close.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  // If close() left a handle behind, the child never exits: kill it after 20 s and fail.
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  expect(signal, `the child did not exit on its own:\n${out}`).toBeNull();
  expect(code).toBe(0);
  expect(out).toMatch(/^closed .*online/m);
}, 30_000);

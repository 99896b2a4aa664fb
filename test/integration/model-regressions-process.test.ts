/**
 * A core bug the model suite found (fixed in 1e2c927) that froze the whole process: a microtask
 * loop that starves every timer, so it cannot be caught in-process. The rest of the model's
 * regressions are plain fake-timer tests in test/model-regressions.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';

it('does not freeze the process when online() waits for an offline that terminate() superseded', () => {
  // In a child process: the bug is a microtask loop that starves every timer, so it cannot be
  // caught in-process. The script exits 0 when online() settles, and is killed after 10 s.
  // (Without the terminate() line it exits at once: the offline settles after 200 ms.)
  const script = `
    import { ResourceMonitor } from './src/index.ts';
    const m = new ResourceMonitor({ abortGrace: 100 });
    m.registerType({ name: 't', online() {},
      offline: (ctx) => new Promise((r) => { setTimeout(r, 200); ctx.signal.addEventListener('abort', () => setTimeout(r, 300)); }),
      terminate: () => new Promise((r) => setTimeout(r, 50)), isAlive: () => true });
    m.addResource({ name: 'a', type: 't' });
    await m.online('a');
    const off = m.offline('a');
    const on = m.online('a');
    await m.terminate('a');
    await off; await on; await m.close();
    process.exit(0);`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: new URL('../..', import.meta.url),
    timeout: 10_000,
    encoding: 'utf8',
  });
  expect(out.signal, `stderr: ${out.stderr}`).toBeNull();
  expect(out.status, `stderr: ${out.stderr}`).toBe(0);
}, 20_000);

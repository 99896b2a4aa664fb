// The OCF examples run as the README and docs/ocf.md show them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('the OCF examples', () => {
  it('examples/ocf-dummy.ts: heartbeat/Dummy comes online, fails on NOT_RUNNING with its exit reason, is restarted', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/ocf-dummy.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('dummy: online-pending -> online (online completed)');
    expect(stdout).toContain('dummy: online -> failed (isAlive threw: heartbeat/Dummy monitor: OCF_NOT_RUNNING (7): No process state file found)');
    expect(stdout).toContain('dummy: failed -> online-pending (restart 1 after 100 ms)');
    expect(stdout).toContain('restarts: 1');
    expect(stdout.trim().split('\n').at(-1)).toBe('dummy: offline-pending -> offline (monitor closed)');
  }, 60_000);

  it('examples/ocf.yaml passes resmon validate (every params checked against the agents\' meta-data)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'validate', 'examples/ocf.yaml'], { cwd: root, timeout: 60_000 });
    expect(stdout).toBe('examples/ocf.yaml: ok, 2 resources: dummy (ocf), sleeper (ocf)\n');
  }, 60_000);

  it('the README shows examples/ocf-dummy.ts as it is', async () => {
    const readme = await readFile(`${root}/README.md`, 'utf8');
    expect(readme).toContain(await readFile(`${root}/examples/ocf-dummy.ts`, 'utf8'));
  });
});

// `resmon ocf list` and `resmon ocf info` against the agents of Debian's resource-agents package.
import { describe, expect, it } from 'vitest';
import { ocfMain } from '../../src/cli/ocf.js';
import { scriptAgent, tempDir } from '../fixtures/ocf/agents.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await ocfMain(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('resmon ocf', () => {
  it('list shows every installed agent with its short description', async () => {
    const { code, out } = await run('list');
    expect(code).toBe(0);
    expect(out).toMatch(/^heartbeat\/Dummy +Example stateless resource agent$/m);
    expect(out).toMatch(/^heartbeat\/anything +Manages an arbitrary service$/m);
    expect(out.trim().split('\n').length).toBeGreaterThan(50);
  }, 30_000);

  it('list --json gives one row per agent', async () => {
    const rows = JSON.parse((await run('list', '--json')).out) as { agent: string; description: string | null }[];
    expect(rows.find((r) => r.agent === 'heartbeat/Delay')).toEqual({ agent: 'heartbeat/Delay', description: 'Waits for a defined timespan', error: null });
  }, 30_000);

  it('info shows the parameters, the actions and what resmon takes from them', async () => {
    const { code, out } = await run('info', 'heartbeat/anything');
    expect(code).toBe(0);
    expect(out).toMatch(/^ {2}binfile \* +string +Full path name of the binary to be executed$/m);
    expect(out).toMatch(/^ {2}monitor +20s +10s +0$/m);
    expect(out).toContain('resmon defaults from these actions: pendingTimeout: 20000, deadlockTimeout: 20000, isAlivePollInterval: 10000, looksAlivePollInterval: 0');
  });

  it('info --json has the parsed meta-data and the resmon defaults', async () => {
    const info = JSON.parse((await run('info', 'heartbeat/Dummy', '--json')).out);
    expect(info.parameters.map((p: { name: string }) => p.name)).toEqual(['state', 'fake']);
    expect(info.resmon).toEqual({ defaults: { pendingTimeout: 20_000, deadlockTimeout: 20_000, isAlivePollInterval: 10_000, looksAlivePollInterval: 0 }, checkLevel: 0 });
  });

  it('info names an agent that does not exist or does not speak OCF, exit 1', async () => {
    const missing = await run('info', 'heartbeat/NoSuchAgent');
    expect([missing.code, missing.err]).toEqual([1, expect.stringMatching(/heartbeat\/NoSuchAgent does not exist/)]);
    const dir = tempDir();
    try {
      const bad = await run('info', scriptAgent(dir.dir, 'plain', 'echo hello'));
      expect([bad.code, bad.err]).toEqual([1, expect.stringMatching(/meta-data is not well-formed XML.*plain/)]);
    } finally {
      dir.cleanup();
    }
  });

  it('a wrong subcommand or flag is a usage error, exit 2', async () => {
    expect((await run('lst')).code).toBe(2);
    expect((await run('info')).code).toBe(2);
    expect((await run('list', '--bogus')).code).toBe(2);
  });
});

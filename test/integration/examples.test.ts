import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const example = (file: string) => run(process.execPath, ['--import', 'tsx', `examples/${file}`], { cwd: root, timeout: 60_000 });

describe('the examples run as the README shows them', () => {
  it('quickstart: a type written from scratch goes online, is polled, goes offline', async () => {
    const { stdout } = await example('quickstart.ts');
    expect(stdout).toContain('echo: offline -> online-pending (online() called)');
    expect(stdout).toMatch(/echo: looksAlive ok/);
    expect(stdout).toMatch(/echo: isAlive ok/);
    expect(stdout).toContain('echo is healthy');
    expect(stdout.trim().split('\n').at(-1)).toBe('echo: offline-pending -> offline (offline completed)');
  }, 60_000);

  it('hysteresis: prints exactly the timeline the README shows', async () => {
    const { readFile } = await import('node:fs/promises');
    const { stdout } = await example('hysteresis.ts');
    const readme = await readFile(`${root}/README.md`, 'utf8');
    expect(stdout).toContain('1000: isAlive failed, 1 in a row\n2300: isAlive failed, 1 in a row');
    expect(stdout).toContain('2900: online -> failed (isAlive returned false (3 in a row))');
    expect(stdout).toContain('16000: restarts {"inWindow":0,"total":2,"stableAt":16000}');
    expect(stdout).toContain('17600: restart 1 in 500 ms');
    expect(readme).toContain(`It prints (\`node --import tsx examples/hysteresis.ts\`; resmon's tests run it):\n\n\`\`\`\n${stdout}\`\`\``);
  }, 60_000);

  it('dependencies: ip -> name -> app come online bottom-up, follow a failed ip and come back, go offline top-down, as the README shows', async () => {
    const { readFile } = await import('node:fs/promises');
    const { stdout } = await example('dependencies.ts');
    const readme = await readFile(`${root}/README.md`, 'utf8');
    const source = await readFile(`${root}/examples/dependencies.ts`, 'utf8');
    const order = (prefix: string) => stdout.split('\n').filter((l) => l.includes(prefix)).map((l) => l.split(' ')[1]);
    expect(order('offline -> online-pending (online() called)').slice(0, 3)).toEqual(['ip', 'name', 'app']);
    expect(stdout).toContain('1000: app online -> offline-pending (dependency "ip" failed)');
    expect(stdout).toContain('1500: ip failed -> online-pending (restart 1 after 500 ms)');
    expect(order('online -> offline-pending (offlineGroup')).toEqual(['app', 'name', 'ip']);
    expect(stdout).toContain('targets: ip=online name=online app=online');
    expect(stdout.trim().split('\n').at(-1)).toBe('group: {"name":"web","state":"offline","resources":["ip","name","app"]}');
    expect(readme).toContain(`\`\`\`ts\n${source}\`\`\``);
    expect(readme).toContain(`It prints (\`node --import tsx examples/dependencies.ts\`; resmon's tests run it):\n\n\`\`\`\n${stdout}\`\`\``);
  }, 60_000);

  it('metrics-and-health: the diagnostics channel, /readyz, /metrics and /livez as the README shows them', async () => {
    const { stdout } = await example('metrics-and-health.ts');
    expect(stdout).toContain('channel: echo offline -> online-pending\nchannel: echo online-pending -> online');
    expect(stdout).toContain('readyz before online() (nothing is wanted online yet): 200 {"ready":true,"checked":0,"notReady":[]}');
    expect(stdout).toContain('readyz when online: 200 {"ready":true,"checked":1,"notReady":[]}');
    expect(stdout).toContain('resmon_resource_state{resource="echo",type="echo-server",state="online"} 1');
    expect(stdout).toMatch(/resmon_check_duration_seconds_count\{kind="isAlive",ok="true"\} [1-9]/);
    expect(stdout.trim().split('\n').at(-1)).toBe('livez after close: 503');
  }, 60_000);

  it('live-changes: prints exactly the lines the README shows, and the README shows the example as it is', async () => {
    const { readFile } = await import('node:fs/promises');
    const { stdout } = await example('live-changes.ts');
    const readme = await readFile(`${root}/README.md`, 'utf8');
    const source = await readFile(`${root}/examples/live-changes.ts`, 'utf8');
    expect(stdout).toContain('2000: setProperties workers 4 -> applied\n2000: control workers -> 4\n2000: setProperties port 9090 -> stored');
    expect(stdout).toContain('5000: isAlive ok\n8000: isAlive ok');
    expect(stdout.trim().split('\n').at(-1)).toBe('8000: listening on 9090 with 4 workers');
    expect(readme).toContain(`\`\`\`ts\n${source}\`\`\``);
    expect(readme).toContain(`It prints (\`node --import tsx examples/live-changes.ts\`; resmon's tests run it):\n\n\`\`\`\n${stdout}\`\`\``);
  }, 60_000);

  it('failover-listener: a listener fails over, a throwing listener breaks nothing, the final states after close()', async () => {
    const { readFile } = await import('node:fs/promises');
    const { stdout } = await example('failover-listener.ts');
    const readme = await readFile(`${root}/README.md`, 'utf8');
    expect(stdout).toContain('1000: primary online -> failed (isAlive returned false)\n1000: standby offline -> online-pending (online() called)');
    expect(stdout).toContain('1000: primary failed -> offline (offline() called)');
    expect(stdout.trim().split('\n').slice(-2)).toEqual(['final: primary offline (generation 1)', 'final: standby offline (generation 1)']);
    expect(readme).toContain(`It prints (\`node --import tsx examples/failover-listener.ts\`; resmon's tests run it):\n\n\`\`\`\n${stdout}\`\`\``);
  }, 60_000);

  it('demo: detects the killed, frozen and crash-looping servers, restarts two and escalates one', async () => {
    const { stdout } = await example('demo.ts');
    // Which poll sees the killed process first depends on when the OS reaps it: looksAlive
    // (usually), or the isAlive request to the dead port.
    expect(stdout).toMatch(/web {5}(looksAlive|isAlive) failed: returned false/);
    expect(stdout).toMatch(/web {5}failed -> online-pending {2}\(restart 1/);
    expect(stdout).toMatch(/frozen {2}isAlive passed its 1500 ms deadline/);
    expect(stdout).toMatch(/frozen {2}failed -> online-pending/);
    expect(stdout).toMatch(/crashy {2}online -> failed {2}\(reportFailure: server exited \(code 1\)\)/);
    expect(stdout).toMatch(/crashy {2}ESCALATED/);
    expect(stdout).toMatch(/^ {2}web +online/m);
    expect(stdout).toMatch(/^ {2}frozen +online/m);
    expect(stdout).toMatch(/^ {2}crashy +failed/m);
    expect(stdout).toMatch(/^done:/m);
  }, 60_000);

  it('demo:cli: resmon run on examples/demo.yaml restarts the crashing server, escalates, and exits 0 on Ctrl-C', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo-cli.ts'], {
      cwd: root,
      timeout: 60_000,
      env: { ...process.env, DEMO_SECONDS: '12' },
    });
    const events = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: string; resource?: string; to?: string; code?: number });
    expect(events.some((e) => e.event === 'stateChange' && e.resource === 'web' && e.to === 'online')).toBe(true);
    expect(events.some((e) => e.event === 'restartScheduled' && e.resource === 'crashy')).toBe(true);
    expect(events.some((e) => e.event === 'escalated' && e.resource === 'crashy')).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'exit', code: 0 });
    expect(stdout).toContain('resmon run exited with code 0');
  }, 60_000);
});

describe('the README', () => {
  it('shows the example files exactly as they are', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(`${root}/README.md`, 'utf8');
    for (const file of ['examples/echo-type.ts', 'examples/quickstart.ts', 'examples/testing/echo-type.conformance.ts', 'examples/hysteresis.ts']) {
      const source = await readFile(`${root}/${file}`, 'utf8');
      expect(readme, `${file} is not in the README as it is`).toContain(source);
    }
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConfigError,
  createProcessType,
  isConfigError,
  isProcessExitError,
  type ProcessExitError,
  type ProcessProperties,
  processType,
  ResourceMonitor,
  type ResourcePolicy,
} from 'resmon';
import { allGone, fixture, freePort, isGone, memoryLogger, until } from '../fixtures/servers/procs.js';

const node = process.execPath;
const monitors: ResourceMonitor[] = [];

afterEach(async () => {
  await Promise.all(monitors.splice(0).map((m) => m.close()));
});

/** A monitor with a fresh process type and one resource `p`. */
function setup(properties: ProcessProperties, policy: Partial<ResourcePolicy> = {}) {
  const log = memoryLogger();
  const type = createProcessType();
  const monitor = new ResourceMonitor({ logger: log.logger });
  monitors.push(monitor);
  monitor.registerType(type);
  monitor.addResource({ name: 'p', type: 'process', properties, policy });
  const progress: string[] = [];
  monitor.on('progress', (e) => progress.push(e.message ?? ''));
  const output = () => type.output('p')!;
  return { monitor, type, log, progress, output };
}

/** The pids the forker fixture printed. */
async function forkerPids(output: () => { stdout: string[] }): Promise<[number, number]> {
  await until(() => output().stdout.some((l) => l.startsWith('pids ')), 'the forker to print its pids');
  const line = output().stdout.find((l) => l.startsWith('pids '))!;
  const [, a, b] = line.split(' ');
  return [Number(a), Number(b)];
}

describe('process type: online', () => {
  it('resolves when the readiness probe passes, reporting progress on each try', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/health`;
    const { monitor, progress, output } = setup({
      command: node,
      args: [fixture('http-server.mjs')],
      env: { PORT: String(port), READY_DELAY: '300' },
      readiness: { http: { url, status: 200 }, interval: 50 },
    });
    await monitor.online('p');
    expect(progress[0]).toMatch(/^started pid \d+/);
    expect(progress.filter((m) => m.startsWith(`waiting for GET ${url} (try `)).length).toBeGreaterThanOrEqual(2);
    expect((await fetch(url)).status).toBe(200);
    expect(output().running).toBe(true);
    await until(() => output().stdout.some((l) => l.startsWith(`listening ${port}`)), 'the listening line');
  });

  it('is online once spawned when it has no readiness probe', async () => {
    const { monitor, output } = setup({ command: node, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await monitor.online('p');
    expect(output().running).toBe(true);
    expect(isGone(output().pid!)).toBe(false);
  });

  it('rejects at once when the process exits before it is ready, with its exit code and last stderr lines', async () => {
    const port = await freePort();
    const { monitor } = setup(
      { command: node, args: [fixture('crash.mjs')], env: { EXIT_CODE: '3' }, readiness: { tcp: { port }, interval: 50 }, startTimeout: 600_000 },
      { restartAction: 'none' },
    );
    // At once: the exit ends the attempt (a ProcessExitError), not startTimeout (10 min, longer than a test may run).
    const error = (await monitor.online('p').catch((e: unknown) => e)) as ProcessExitError;
    expect(isProcessExitError(error)).toBe(true);
    expect(error.name).toBe('ProcessExitError');
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/exited with code 3 before it was ready; last stderr: starting up \| fatal: config file missing/);
    expect(monitor.getState('p')).toBe('failed');
  });

  it("quotes only the current run's stderr in a failure, not the previous run's", async () => {
    const { monitor } = setup({ command: node, args: ['-e', 'console.error("run " + process.pid); setTimeout(() => process.exit(3), 50)'] }, { restartAction: 'none' });
    await monitor.online('p');
    await monitor.waitFor('p', 'failed', { timeout: 10_000 });
    await monitor.offline('p');
    await monitor.online('p');
    const failed = new Promise<string>((resolve) => monitor.on('stateChange', (e) => e.to === 'failed' && resolve(e.reason)));
    const reason = await failed;
    expect(reason).toMatch(/exited with code 3 while online; last stderr: run \d+$/);
  });

  it('rejects with the reason when the command cannot be started', async () => {
    const { monitor } = setup({ command: 'resmon-no-such-program' }, { restartAction: 'none' });
    await expect(monitor.online('p')).rejects.toThrow(/could not start "resmon-no-such-program": spawn resmon-no-such-program ENOENT/);
  });

  it('fails online after startTimeout when the readiness probe never passes', async () => {
    const port = await freePort();
    const { monitor } = setup(
      { command: node, args: ['-e', 'setInterval(() => {}, 1000)'], readiness: { tcp: { port }, interval: 20 }, startTimeout: 200 },
      { restartAction: 'none' },
    );
    await expect(monitor.online('p')).rejects.toThrow(/not ready after \d+ ms \(startTimeout 200 ms, \d+ tries\): connect to 127.0.0.1:\d+ failed/);
  });

  it('stops the readiness loop and its probe in flight when the online call is abandoned', async () => {
    // A server that never answers: the probe hangs until its signal aborts it.
    let requests = 0;
    let closed = 0;
    const server = http.createServer((req) => {
      requests++;
      req.socket.on('close', () => closed++);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const { monitor, output } = setup({
        command: node,
        args: ['-e', 'setInterval(() => {}, 1000)'],
        readiness: { http: { url: `http://127.0.0.1:${port}/`, timeout: 60_000 }, interval: 20 },
      });
      const online = monitor.online('p').catch((e: unknown) => e);
      await until(() => requests === 1, 'the first readiness probe');
      const pid = output().pid!;
      await monitor.offline('p');
      expect(String(await online)).toMatch(/StateError: resource "p": the online attempt was abandoned/);
      await until(() => closed === 1, 'the probe connection to close');
      expect(requests).toBe(1);
      expect(monitor.getState('p')).toBe('offline');
      await allGone([pid]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('process type: failure and restart', () => {
  it('fails and restarts the process when the health probe fails', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { monitor, output } = setup(
      {
        command: node,
        args: [fixture('http-server.mjs')],
        env: { PORT: String(port) },
        readiness: { http: { url: `${url}/health` }, interval: 20 },
        health: { http: { url: `${url}/health`, status: 200, body: 'ok' } },
      },
      { isAlivePollInterval: 50, looksAlivePollInterval: 0, restartDelay: 10 },
    );
    const reasons: string[] = [];
    monitor.on('stateChange', (e) => reasons.push(`${e.to}: ${e.reason}`));
    await monitor.online('p');
    const first = output().pid!;
    const failed = monitor.waitFor('p', 'failed');
    await fetch(`${url}/sicken`);
    await failed;
    await monitor.waitFor('p', 'online');
    expect(reasons.find((r) => r.startsWith('failed'))).toMatch(/isAlive threw: GET .*\/health answered 500, expected 200/);
    expect(output().pid).not.toBe(first);
    await allGone([first]);
    expect(monitor.inspect('p').restarts.total).toBe(1);
  });

  it('detects a crash at once (without waiting for a poll) and restarts the process', async () => {
    const { monitor, output } = setup(
      { command: node, args: ['-e', 'setInterval(() => {}, 1000)'] },
      { isAlivePollInterval: 3_600_000, looksAlivePollInterval: 0, restartDelay: 10 },
    );
    const reasons: string[] = [];
    monitor.on('stateChange', (e) => reasons.push(`${e.to}: ${e.reason}`));
    await monitor.online('p');
    const first = output().pid!;
    const failed = monitor.waitFor('p', 'failed');
    process.kill(first, 'SIGKILL');
    await failed;
    await monitor.waitFor('p', 'online');
    expect(reasons).toContainEqual(expect.stringMatching(/^failed: reportFailure: .* \(pid \d+\) exited with signal SIGKILL while online/));
    expect(output().pid).not.toBe(first);
    expect(output().lastExit).toBeNull();
  });

  it('looksAlive fails when the process is gone', async () => {
    const { monitor } = setup({ command: node, args: ['-e', 'setTimeout(() => {}, 50)'] }, { restartAction: 'none' });
    const reasons: string[] = [];
    monitor.on('stateChange', (e) => reasons.push(e.reason));
    await monitor.online('p');
    await monitor.waitFor('p', 'failed');
    expect(reasons.at(-1)).toMatch(/exited with code 0 while online/);
  });
});

describe('process type: stopping', () => {
  it('offline sends stopSignal and waits for the process to exit', async () => {
    const { monitor, output } = setup({ command: node, args: ['-e', 'setInterval(() => {}, 1000)'] });
    await monitor.online('p');
    const pid = output().pid!;
    await monitor.offline('p');
    expect(output().lastExit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(isGone(pid)).toBe(true);
  });

  it('offline sends SIGKILL after stopTimeout to a process that ignores SIGTERM', async () => {
    const port = await freePort();
    const { monitor, output, progress, log } = setup({
      command: node,
      args: [fixture('http-server.mjs')],
      env: { PORT: String(port), IGNORE_TERM: '1' },
      readiness: { tcp: { port }, interval: 20 },
      stopTimeout: 300,
    });
    await monitor.online('p');
    const pid = output().pid!;
    await monitor.offline('p');
    expect(output().lastExit).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(progress).toContain(`sent SIGKILL to process group ${pid}`);
    expect(log.lines.some((l) => l.level === 'warn' && /did not exit within stopTimeout \(300 ms\)/.test(l.msg))).toBe(true);
    await until(() => output().stdout.includes('ignoring SIGTERM'), 'the server to report SIGTERM');
    expect(monitor.getState('p')).toBe('offline');
    expect(isGone(pid)).toBe(true);
  });

  it('terminate kills the whole process group at once, grandchildren included', async () => {
    const { monitor, output } = setup({ command: node, args: [fixture('forker.mjs')], stopTimeout: 60_000 });
    await monitor.online('p');
    const pids = await forkerPids(output);
    await monitor.terminate('p');
    await allGone(pids);
    expect(output().lastExit?.signal).toBe('SIGKILL');
  });

  it('leaves no grandchild behind when the leader exits on SIGTERM and the grandchild ignores it', async () => {
    const { monitor, output } = setup({ command: node, args: [fixture('forker.mjs')], env: { GRANDCHILD_IGNORE_TERM: '1' } });
    await monitor.online('p');
    const pids = await forkerPids(output);
    await monitor.close();
    await allGone(pids);
  });

  it('leaves no process behind when the leader crashes with a grandchild alive', async () => {
    const { monitor, output } = setup({ command: node, args: [fixture('forker.mjs')] }, { restartAction: 'none' });
    await monitor.online('p');
    const pids = await forkerPids(output);
    process.kill(pids[0], 'SIGKILL');
    await monitor.waitFor('p', 'failed');
    await allGone(pids);
  });

  it('keeps the last lines of stdout and stderr, and sends them to the logger', async () => {
    const { monitor, output, log } = setup(
      {
        command: node,
        args: ['-e', 'for (let i = 1; i <= 5; i++) console.log("out " + i); console.error("err 1"); setInterval(() => {}, 1000)'],
        outputLines: 3,
      },
      { restartAction: 'none' },
    );
    await monitor.online('p');
    await until(() => output().stderr.length === 1 && output().stdout.length === 3, 'the output');
    expect(output()).toMatchObject({ stdout: ['out 3', 'out 4', 'out 5'], stderr: ['err 1'], running: true });
    expect(log.lines.filter((l) => l.fields.stream === 'stdout').map((l) => l.msg)).toEqual(['out 1', 'out 2', 'out 3', 'out 4', 'out 5']);
    expect(log.lines.find((l) => l.fields.stream === 'stderr')).toMatchObject({ msg: 'err 1', fields: { resource: 'p' } });
  });
});

describe('process type: properties', () => {
  const reject = (properties: unknown): ConfigError => {
    try {
      processType.validate!(properties);
    } catch (error) {
      if (isConfigError(error)) return error;
      throw error;
    }
    throw new Error('validate accepted the properties');
  };

  it.each([
    [{}, 'command', /command is required: a non-empty string/],
    [{ command: '' }, 'command', /command is required/],
    [{ command: 'x', args: 'a b' }, 'args', /must be an array of strings/],
    [{ command: 'x', args: ['a', 1] }, 'args[1]', /must be a string/],
    [{ command: 'x', stopSignal: 'SIGFOO' }, 'stopSignal', /must be a signal name/],
    [{ command: 'x', stopTimeout: -1 }, 'stopTimeout', /must be a finite number >= 0/],
    [{ command: 'x', readiness: { tcp: { port: 70_000 } } }, 'readiness.tcp.port', /must be an integer >= 1 and <= 65535 \(got 70000\)/],
    [{ command: 'x', health: { http: { url: 'not a url' } } }, 'health.http.url', /must be an absolute http:\/\/ or https:\/\/ URL/],
    [{ command: 'x', health: { http: { url: 'ftp://x/' } } }, 'health.http.url', /http:\/\/ or https:\/\//],
    [{ command: 'x', health: { tcp: { port: 1 }, http: { url: 'http://x/' } } }, 'health', /exactly one of http, tcp or exec \(found http and tcp\)/],
    [{ command: 'x', health: { exec: {} } }, 'health.exec.command', /is required/],
    [{ command: 'x', health: { tcp: { port: 1 }, interval: 5 } }, 'health.interval', /is not a known field/],
    [{ command: 'x', readiness: { tcp: { port: 1 }, interval: 0 } }, 'readiness.interval', /> 0/],
    [{ command: 'x', env: { A: {} } }, 'env.A', /must be a string/],
    [{ command: 'x', comand: 'y' }, 'comand', /is not a known field/],
  ])('rejects %j naming %s', (properties, field, message) => {
    const error = reject(properties);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('fills in the defaults', () => {
    expect(processType.validate!({ command: 'x', env: { PORT: 8080 } })).toMatchObject({
      command: 'x',
      args: [],
      env: { PORT: '8080' },
      stopSignal: 'SIGTERM',
      stopTimeout: 10_000,
      readiness: null,
      health: null,
      startTimeout: 60_000,
      outputLines: 50,
    });
  });

  it('addResource names the field in its ConfigError', () => {
    const monitor = new ResourceMonitor();
    monitors.push(monitor);
    monitor.registerType(createProcessType());
    expect(() => monitor.addResource({ name: 'w', type: 'process', properties: { command: 'x', readiness: { tcp: { port: 0 } } } })).toThrow(
      /readiness\.tcp\.port must be an integer >= 1 and <= 65535/,
    );
  });
});

describe('process type: output', () => {
  it('keeps and logs a last line without a newline once the process has exited', async () => {
    const { monitor, output, log } = setup(
      { command: node, args: ['-e', 'process.stdout.write("partial"); process.stderr.write("no newline")'] },
      { restartAction: 'none' },
    );
    const failed = monitor.waitFor('p', 'failed');
    await monitor.online('p').catch(() => {});
    await failed;
    expect(output()).toMatchObject({ running: false, stdout: ['partial'], stderr: ['no newline'], lastExit: { code: 0, signal: null } });
    expect(log.lines.filter((l) => l.fields.stream).map((l) => `${String(l.fields.stream)}: ${l.msg}`).sort()).toEqual([
      'stderr: no newline',
      'stdout: partial',
    ]);
  });
});

import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { bin, type JsonLine, resmon, root, runJson } from '../fixtures/servers/cli.js';
import { allGone, fixture, freePort, isGone } from '../fixtures/servers/procs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pidOf = (line: JsonLine) => line.pid as number;

describe('resmon run --json', () => {
  it('supervises the README example (copied, on a free port): online, crash and restart, graceful stop', async () => {
    const port = await freePort();
    const example = readFileSync(path.join(root, 'examples/config/resmon.yaml'), 'utf8').replaceAll('8080', String(port));
    const config = path.join(dir, 'resmon.yaml');
    writeFileSync(config, example);
    copyFileSync(path.join(root, 'examples/config/server.mjs'), path.join(dir, 'server.mjs'));

    const run = runJson(config);
    const started = await run.next((l) => l.event === 'started', 'started');
    expect(started).toMatchObject({ file: config, resources: ['web', 'web-endpoint'] });
    await run.next(run.state('web', 'online'), 'web online');
    await run.next(run.state('web-endpoint', 'online'), 'web-endpoint online');
    expect(run.lines.some((l) => l.event === 'progress' && l.resource === 'web' && /^started pid \d+$/.test(String(l.message)))).toBe(true);
    const listening = await run.next((l) => l.event === 'log' && l.stream === 'stdout' && String(l.msg).startsWith('listening on'), 'the server output');
    expect(listening).toMatchObject({ level: 'info', resource: 'web', msg: `listening on http://127.0.0.1:${port}` });
    const first = pidOf(listening);

    // A crash: resmon sees it at once and restarts the process (restartDelay 1000 in the example).
    const mark = run.lines.length;
    process.kill(first, 'SIGKILL');
    const failed = await run.next(run.state('web', 'failed'), 'web failed', mark);
    expect(failed.reason).toMatch(/exited with signal SIGKILL while online/);
    await run.next((l) => l.event === 'restartScheduled' && l.resource === 'web', 'a restart', mark);
    await run.next(run.state('web', 'online'), 'web online again', mark);
    const again = await run.next(
      (l) => l.event === 'log' && l.stream === 'stdout' && String(l.msg).startsWith('listening on') && l.pid !== first,
      'the new server output',
      mark,
    );
    const second = pidOf(again);

    // SIGTERM: every resource offline, exit 0, nothing left running.
    const stop = run.lines.length;
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const tail = run.lines.slice(stop);
    expect(tail[0]).toMatchObject({ event: 'signal', signal: 'SIGTERM', action: 'close' });
    expect(tail.filter((l) => l.event === 'stateChange').map((l) => `${l.resource}: ${l.from} -> ${l.to}`).sort()).toEqual([
      'web-endpoint: offline-pending -> offline',
      'web-endpoint: online -> offline-pending',
      'web: offline-pending -> offline',
      'web: online -> offline-pending',
    ]);
    expect(tail.some((l) => l.event === 'log' && l.msg === 'SIGTERM: closing')).toBe(true);
    expect(tail.at(-1)).toMatchObject({ event: 'exit', code: 0 });
    expect(isGone(first)).toBe(true);
    await allGone([second]);
  });

  it('kills every process group at once on a second signal and exits 130, grandchildren included', async () => {
    const port = await freePort();
    const config = path.join(dir, 'stubborn.yaml');
    writeFileSync(
      config,
      [
        'resources:',
        '  - name: stubborn',
        '    type: process',
        '    properties:',
        `      command: ${JSON.stringify(process.execPath)}`,
        `      args: [${JSON.stringify(fixture('http-server.mjs'))}]`,
        `      env: { PORT: "${port}", IGNORE_TERM: "1" }`,
        `      readiness: { tcp: { port: ${port} }, interval: 20 }`,
        '      stopTimeout: 60000',
        '  - name: family',
        '    type: process',
        '    properties:',
        `      command: ${JSON.stringify(process.execPath)}`,
        `      args: [${JSON.stringify(fixture('forker.mjs'))}]`,
        '      env: { PARENT_IGNORE_TERM: "1", GRANDCHILD_IGNORE_TERM: "1" }',
        '      stopTimeout: 60000',
        '',
      ].join('\n'),
    );
    const run = runJson(config);
    await run.next(run.state('stubborn', 'online'), 'stubborn online');
    await run.next(run.state('family', 'online'), 'family online');
    const server = pidOf(await run.next((l) => l.event === 'log' && String(l.msg).startsWith('listening'), 'the server pid'));
    const pids = String((await run.next((l) => l.event === 'log' && String(l.msg).startsWith('pids '), 'the forker pids')).msg)
      .split(' ')
      .slice(1)
      .map(Number);

    run.child.kill('SIGINT');
    await run.next((l) => l.event === 'progress' && l.resource === 'stubborn' && /^sent SIGTERM/.test(String(l.message)), 'the SIGTERM');
    await run.next((l) => l.event === 'log' && l.msg === 'ignoring SIGTERM', 'the server ignoring it');
    await run.next((l) => l.event === 'log' && l.msg === 'parent ignoring SIGTERM', 'the forker ignoring it');
    // A repeat within 300 ms would count as the same Ctrl-C (npx forwards the terminal's signal).
    await new Promise((resolve) => setTimeout(resolve, 350));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.lines.filter((l) => l.event === 'signal').map((l) => l.action)).toEqual(['close', 'kill']);
    expect(run.lines.at(-1)).toMatchObject({ event: 'exit', code: 130 });
    await allGone([server, ...pids]);
  });

  it('starts nothing and exits 1 when the config is invalid', async () => {
    const config = path.join(dir, 'invalid.yaml');
    writeFileSync(config, 'resources:\n  - { name: web, type: process, properties: { command: node, stopSignal: TERM } }\n');
    const { code, stdout, stderr } = await resmon(['run', '--json', config]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/invalid\.yaml:2:\d+: resources\[0\]\.properties\.stopSignal must be a signal name such as SIGTERM/);
    expect(stderr).toMatch(/1 error; nothing was started/);
  });
});

describe('resmon run on a terminal', () => {
  it('draws a live status table under a pseudo-terminal and stops on Ctrl-C', async () => {
    const port = await freePort();
    const config = path.join(dir, 'tty.yaml');
    writeFileSync(
      config,
      [
        'resources:',
        '  - name: web',
        '    type: process',
        '    properties:',
        `      command: ${JSON.stringify(process.execPath)}`,
        `      args: [${JSON.stringify(fixture('http-server.mjs'))}]`,
        `      env: { PORT: "${port}", READY_DELAY: "300" }`,
        `      readiness: { http: { url: "http://127.0.0.1:${port}/health" }, interval: 50 }`,
        `      health: { http: { url: "http://127.0.0.1:${port}/health" } }`,
        '    policy: { looksAlivePollInterval: 100, isAlivePollInterval: 200 }',
        '',
      ].join('\n'),
    );
    // util-linux script(1) runs the command on a pseudo-terminal; Ctrl-C typed into it reaches resmon as SIGINT.
    const command = `stty cols 160 rows 40; exec ${process.execPath} --import tsx ${bin} run ${config}`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    const plain = () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const seen = (pattern: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in:\n${plain()}`)), 15_000);
        const check = () => {
          if (pattern.test(plain())) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            resolve();
          }
        };
        child.stdout.on('data', check);
        check();
      });
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // A failed expectation must not leave resmon running on its pseudo-terminal.
    onTestFailed(() => {
      if (child.exitCode === null) child.stdin.write('\x03\x03');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 2_000).unref();
    });

    await seen(/NAME +TYPE +STATE +SINCE +LOOKSALIVE +ISALIVE +RESTARTS \(TOTAL\) +NEXT RESTART +INFO/);
    await seen(/web +process +online-pending .*waiting for GET http:\/\/127\.0\.0\.1:\d+\/health \(try \d+\)/);
    await seen(/web +process +online +\d+s +ok \d+ms +ok \d+ms +0 \(0\) +-/);
    expect(out).toContain('\x1b[J'); // redrawn in place: cursor up, clear down
    expect(out).toMatch(/\x1b\[\d+A/);
    child.stdin.write('\x03');
    expect(await exited).toBe(0);
    expect(plain()).toMatch(/web +process +offline .*monitor closed/);
    expect(plain()).toMatch(/SIGINT: taking every resource offline/);
  });
});

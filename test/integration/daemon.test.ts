// The resmon daemon driven as an operator would: a real `resmon run` in a child process, and the
// client commands (resmon status, restart, offline, logs, reload, stop) against its control socket.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bin, type JsonLine, resmon, runJson } from '../fixtures/servers/cli.js';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { allGone, fixture, isGone, until } from '../fixtures/servers/procs.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-daemon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runs: ReturnType<typeof runJson>[] = [];
afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  }
});

const node = JSON.stringify(process.execPath);
/** tsx's loader by absolute URL, for a client run from another folder as another user. */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
let seq = 0;

/** A folder with a config file; returns the file's path. */
function config(lines: string[]): string {
  const folder = path.join(dir, `d${++seq}`);
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, 'resmon.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
const processEntry = (name: string, args: string[], extra: string[] = []) => [
  `  - name: ${name}`,
  '    type: process',
  '    properties:',
  `      command: ${node}`,
  `      args: ${JSON.stringify(args)}`,
  ...extra,
];
const sleeper = (name: string, extra: string[] = []) => processEntry(name, ['-e', 'setInterval(() => {}, 1000)'], extra);

/** Starts `resmon run --json FILE` and waits until every named resource is online. */
async function start(file: string, names: string[]) {
  const run = runJson(file);
  runs.push(run);
  for (const name of names) await run.next(run.state(name, 'online'), `${name} online`);
  return run;
}

const cli = (args: string[]) => resmon(args);

async function statusJson(file: string): Promise<{ pid: number; resources: (Record<string, unknown> & { name: string; pid: number | null; restarts: { inWindow: number; total: number } })[] }> {
  const { code, stdout, stderr } = await cli(['status', '--json', '-c', file]);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout);
}
const pidOf = async (file: string, name: string) => (await statusJson(file)).resources.find((r) => r.name === name)!.pid as number;

describe('resmon run serves a control socket', () => {
  it('status, restart (a new pid, the restart window untouched), offline, online, terminate; exit codes', async () => {
    const file = config(['resources:', ...sleeper('web'), ...processEntry('family', [fixture('forker.mjs')], ['      env: { GRANDCHILD_IGNORE_TERM: "1" }'])]);
    const run = await start(file, ['web', 'family']);
    const socket = path.join(path.dirname(file), '.resmon/control.sock');
    expect(statSync(socket).isSocket()).toBe(true);
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    const table = await cli(['status', '-c', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/NAME +TYPE +STATE +SINCE/);
    expect(table.stdout).toMatch(/\nweb +process +online /);

    const before = (await statusJson(file)).resources.find((r) => r.name === 'web')!;
    expect(before.pid).toBeGreaterThan(0);
    const restarted = await cli(['restart', 'web', '-c', file]);
    expect(restarted).toMatchObject({ code: 0, stdout: 'web: online\n' });
    const after = (await statusJson(file)).resources.find((r) => r.name === 'web')!;
    expect(after.pid).not.toBe(before.pid);
    expect(isGone(before.pid!)).toBe(true);
    expect(after.restarts).toEqual(before.restarts); // an operator's restart is not a failure

    // offline: the process and its grandchild (ignoring SIGTERM) are gone.
    const pids = String((await run.next((l) => l.event === 'log' && String(l.msg).startsWith('pids '), 'the forker pids')).msg).split(' ').slice(1).map(Number);
    expect(await cli(['offline', 'family', '-c', file])).toMatchObject({ code: 0, stdout: 'family: offline\n' });
    await allGone(pids);
    expect(await cli(['online', 'family', '-c', file])).toMatchObject({ code: 0, stdout: 'family: online\n' });
    expect(await cli(['terminate', 'family', '-c', file])).toMatchObject({ code: 0, stdout: 'family: offline\n' });

    // Unknown names, usage errors.
    const unknown = await cli(['restart', 'nope', '-c', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no resource "nope" \(resources: web, family\)/);
    expect((await cli(['restart', '-c', file])).code).toBe(2);
    expect((await cli(['status', '--bogus'])).code).toBe(2);

    // curl-style requests straight to the socket: malformed ones are refused, nothing changes.
    const raw = (method: string, p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ socketPath: socket, method, path: p }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect((await raw('GET', '/v1/resources/web/restart')).status).toBe(405);
    expect((await raw('POST', '/v1/status')).status).toBe(405);
    expect((await raw('GET', '/nothing')).status).toBe(404);
    expect((await raw('GET', '/v1/resources/web/logs?lines=abc')).status).toBe(400);
    expect((await raw('GET', '/v1/resources/%E0%A4%A/logs')).status).toBe(400);
    const garbage = await new Promise<string>((resolve) => {
      const c = net.connect(socket, () => c.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      c.on('data', (d) => (text += d.toString()));
      c.on('close', () => resolve(text));
    });
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(await pidOf(file, 'web')).toBe(after.pid);

    // stop: every resource offline, exit 0, the socket removed.
    expect(await cli(['stop', '-c', file])).toMatchObject({ code: 0 });
    expect(await run.exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
    await allGone([after.pid!]);
    const gone = await cli(['status', '-c', file]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/no resmon run found: .*control\.sock does not exist \(looked there because of -c /);
  });

  it('status shows groups under their heading, as the live view does', async () => {
    const file = config(['resources:', ...sleeper('db', ['    group: shop']), ...sleeper('app', ['    group: shop', '    dependsOn: [db]'])]);
    const run = await start(file, ['db', 'app']);
    const table = await cli(['status', '-c', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/\ngroup shop: online\n/);
    expect(table.stdout).toMatch(/\ndb +process +online .*\n {2}app +process +online/);
    const json = await statusJson(file);
    expect((json as unknown as { groups: Record<string, string> }).groups).toEqual({ shop: 'online' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('refuses a second run on a live socket, and replaces the socket of a SIGKILLed run', async () => {
    const file = config(['resources:', ...sleeper('one')]);
    const first = await start(file, ['one']);
    const onePid = await pidOf(file, 'one');
    const second = await cli(['run', '--json', file]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/another resmon run \(pid \d+, .*resmon\.yaml\) is serving .*control\.sock; stop it first/);
    expect(await pidOf(file, 'one')).toBe(onePid); // nothing changed

    first.child.kill('SIGKILL');
    await first.exited;
    await allGone([onePid]); // the watchdog
    const socket = path.join(path.dirname(file), '.resmon/control.sock');
    expect(existsSync(socket)).toBe(true); // left behind
    const stale = await cli(['status', '-c', file]);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/is left from a run that ended/);
    const again = await start(file, ['one']);
    expect((await statusJson(file)).pid).toBe(again.child.pid);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  });
});

describe('safety', () => {
  it('a client without permission is refused with a clear error (another user: the socket is 0600 in a 0700 folder)', async () => {
    const file = config(['resources:', ...sleeper('one')]);
    chmodSync(dir, 0o755);
    chmodSync(path.dirname(file), 0o755);
    const run = await start(file, ['one']);
    const pid = await pidOf(file, 'one');
    const asNobody = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', tsxLoader, bin, 'restart', 'one', '-c', file], {
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(asNobody.stderr).toMatch(/resmon restart: permission denied on .*control\.sock.*: only the user who runs resmon may control it/);
    expect(asNobody.code).toBe(1);
    expect(await pidOf(file, 'one')).toBe(pid); // nothing changed
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('a reload that fails half-way applies the rest, stays consistent and says what was not applied', async () => {
    const file = config(['resources:', ...sleeper('keep'), ...sleeper('tune')]);
    const run = await start(file, ['keep', 'tune']);
    const keep = await pidOf(file, 'keep');
    writeFileSync(
      file,
      [
        'resources:',
        ...sleeper('keep'),
        ...sleeper('tune', ['    policy: { isAlivePollInterval: 9000 }']),
        ...processEntry('broken', ['-e', 'process.exit(4)'], ['      readiness: { tcp: { port: 1 }, interval: 50 }']),
        ...sleeper('fine'),
        '',
      ].join('\n'),
    );
    const reloaded = await cli(['reload', '-c', file]);
    expect(reloaded.code).toBe(1);
    expect(reloaded.stdout).toMatch(/^added: broken, fine\n/);
    expect(reloaded.stdout).toMatch(/changed: tune \(policy: applied\)/);
    expect(reloaded.stderr).toMatch(/not applied: broken: online: .*exited with code 4 before it was ready/);
    const now = (await statusJson(file)).resources;
    expect(now.map((r) => r.name)).toEqual(['keep', 'tune', 'broken', 'fine']);
    expect(now.find((r) => r.name === 'fine')!.state).toBe('online');
    expect(now.find((r) => r.name === 'keep')!.pid).toBe(keep);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('resmon defaults prints every policy field with the layer it comes from', async () => {
    const file = config(['defaults: { restartDelay: 1000, restartPeriod: 120000 }', 'resources:', ...sleeper('x')]);
    const { code, stdout } = await cli(['defaults', file]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^FIELD +VALUE +FROM +LIBRARY DEFAULT$/m);
    expect(stdout).toMatch(/^restartThreshold +5 +service \(resmon run\) +1$/m);
    expect(stdout).toMatch(/^restartDelay +1000 +file \(.*resmon\.yaml\) +500$/m);
    // The service retry period follows a longer restartPeriod of the file.
    expect(stdout).toMatch(/^retryPeriodOnFailure +120000 +service \(resmon run\) +3600000$/m);
    expect(stdout).toMatch(/^looksAlivePollInterval +5000 +built-in +5000$/m);
  });
});

describe('logs', () => {
  it('writes each stream to its file, rotated by size; logs -n reads across a rotation, logs -f follows', async () => {
    const chatter = "let i = 0; setInterval(() => { i++; console.log('out ' + i); if (i % 10 === 0) console.error('err ' + i); }, 5);";
    const file = config(['logs: { maxSize: 2K, keep: 2 }', 'resources:', ...processEntry('chatty', ['-e', chatter])]);
    await start(file, ['chatty']);
    const logs = path.join(path.dirname(file), '.resmon/logs');
    await until(() => existsSync(path.join(logs, 'chatty.out.log.1')), 'a rotation', 15_000);
    const files = readdirSync(logs).sort();
    expect(files).toContain('chatty.out.log');
    expect(files).toContain('chatty.err.log');
    expect(statSync(path.join(logs, 'chatty.out.log')).mode & 0o777).toBe(0o600);

    const tail = await cli(['logs', 'chatty', '-n', '5', '--stream', 'stdout', '-c', file]);
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(5);
    const numbers = lines.map((l) => Number(l.replace('out ', '')));
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
    const errs = await cli(['logs', 'chatty', '-n', '2', '-c', file]);
    expect(errs.stderr.trim().split('\n')).toHaveLength(2);
    expect(errs.stderr).toMatch(/^err \d+0\n/);

    // -f: lines keep coming across further rotations.
    const follow = spawn(process.execPath, ['--import', 'tsx', path.join(process.cwd(), 'src/cli/bin.ts'), 'logs', 'chatty', '-f', '-n', '0', '--stream', 'stdout', '-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = '';
    follow.stdout.on('data', (c: Buffer) => (seen += c.toString()));
    try {
      await until(() => seen.split('\n').length > 800, 'logs -f to see 800 lines (several rotations of 2K)', 20_000);
    } finally {
      follow.kill('SIGINT');
    }
    const followed = seen.trim().split('\n').map((l) => Number(l.replace('out ', '')));
    expect(followed.every((n, i) => i === 0 || n === followed[i - 1]! + 1)).toBe(true);
    expect(readdirSync(logs).filter((f) => f.startsWith('chatty.out.log')).sort()).toEqual(['chatty.out.log', 'chatty.out.log.1', 'chatty.out.log.2']);
  });
});

describe('reload', () => {
  it('adds, removes and changes resources, leaves the untouched one alone, and a bad file changes nothing', async () => {
    const file = config(['resources:', ...sleeper('keep'), ...sleeper('drop'), ...sleeper('change'), ...sleeper('tune')]);
    const run = await start(file, ['keep', 'drop', 'change', 'tune']);
    const pids = Object.fromEntries((await statusJson(file)).resources.map((r) => [r.name, r.pid]));

    // A file with errors: every error comes back, nothing changes.
    writeFileSync(file, ['resources:', ...sleeper('keep'), '  - name: bad', '    type: process', '    properties: { command: /no/such/binary }', '    policy: { restartDelay: -1 }', ''].join('\n'));
    const rejected = await cli(['reload', '-c', file]);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/2 errors; nothing was changed/);
    expect(rejected.stderr).toMatch(/resources\[1\]\.properties\.command does not exist/);
    expect(rejected.stderr).toMatch(/resources\[1\]\.policy\.restartDelay must be a number >= 0/);
    expect(Object.fromEntries((await statusJson(file)).resources.map((r) => [r.name, r.pid]))).toEqual(pids);

    writeFileSync(
      file,
      [
        'resources:',
        ...sleeper('keep'),
        ...processEntry('change', ['-e', 'setInterval(() => {}, 999)']),
        ...sleeper('tune', ['    policy: { isAlivePollInterval: 7000 }']),
        ...sleeper('new'),
        '',
      ].join('\n'),
    );
    const reloaded = await cli(['reload', '-c', file]);
    expect(reloaded.stderr).toBe('');
    expect(reloaded.code).toBe(0);
    expect(reloaded.stdout).toBe(
      ['added: new', 'removed: drop', 'changed: change (properties: restarted), tune (policy: applied)', 'unchanged: keep', ''].join('\n'),
    );
    const now = (await statusJson(file)).resources;
    expect(now.map((r) => `${r.name} ${r.state}`)).toEqual(['keep online', 'change online', 'tune online', 'new online']);
    const pid = (name: string) => now.find((r) => r.name === name)!.pid;
    expect(pid('keep')).toBe(pids.keep);
    expect(pid('tune')).toBe(pids.tune); // a policy change is applied live
    expect(pid('change')).not.toBe(pids.change);
    await allGone([pids.drop as number, pids.change as number]);

    // SIGHUP reloads too.
    writeFileSync(file, ['resources:', ...sleeper('keep'), ''].join('\n'));
    const mark = run.lines.length;
    run.child.kill('SIGHUP');
    const done = await run.next((l: JsonLine) => l.event === 'reload' && l.action === 'done', 'the SIGHUP reload', mark);
    expect(done).toMatchObject({ removed: ['change', 'tune', 'new'], unchanged: ['keep'], ok: true });
    expect(await pidOf(file, 'keep')).toBe(pids.keep);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await allGone([pids.keep as number, pid('new') as number]);
  });
});

describe('stopping', () => {
  it('while resmon stop waits for a slow process, status still answers and a second run is refused', async () => {
    // stopTimeout is long so that the run is surely still stopping during the checks; a second
    // signal then ends it at once.
    const file = config(['resources:', ...processEntry('stubborn', ['-e', "process.on('SIGTERM', () => console.log('ignoring')); setInterval(() => {}, 1000)"], ['      stopTimeout: 60000'])]);
    const run = await start(file, ['stubborn']);
    const pid = await pidOf(file, 'stubborn');
    expect(await cli(['stop', '-c', file])).toMatchObject({ code: 0 });
    await run.next((l) => l.event === 'log' && l.msg === 'ignoring', 'the stubborn process ignoring SIGTERM');
    const during = await cli(['status', '-c', file]);
    expect(during.code).toBe(0);
    expect(during.stdout).toMatch(/stubborn +process +offline-pending/);
    expect(await cli(['online', 'stubborn', '-c', file])).toMatchObject({ code: 1 }); // the monitor is closing
    const second = runJson(file); // exits 1 at once; were it to start, the test would see it
    runs.push(second);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/another resmon run \(pid \d+, .*resmon\.yaml\) is serving/);
    run.child.kill('SIGTERM'); // the second request to stop: kill every process group
    expect(await run.exited).toBe(130);
    await allGone([pid]);
    expect(existsSync(path.join(path.dirname(file), '.resmon/control.sock'))).toBe(false);
  });
});

describe('signals', () => {
  it('SIGINT: graceful, exit 0; the same signal twice within 300 ms (npx forwarding it) is one request', async () => {
    const file = config(['resources:', ...sleeper('a')]);
    const run = await start(file, ['a']);
    const pid = await pidOf(file, 'a');
    run.child.kill('SIGINT');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.lines.filter((l) => l.event === 'signal').map((l) => l.action)).toEqual(['close']);
    await allGone([pid]);
  });

  it('stops gracefully when the reader of its output goes away (a closed pipe or terminal)', async () => {
    const file = config(['resources:', ...sleeper('a', ['    policy: { looksAlivePollInterval: 100 }'])]);
    const run = await start(file, ['a']);
    const pid = await pidOf(file, 'a');
    run.child.stdout!.destroy();
    expect(await run.exited).toBe(0);
    await allGone([pid]);
  });

  it('a second signal later kills every process group at once: exit 130', async () => {
    const file = config(['resources:', ...sleeper('a'), ...processEntry('stubborn', ['-e', "process.on('SIGTERM', () => console.log('ignoring')); setInterval(() => {}, 1000)"], ['      stopTimeout: 60000'])]);
    const run = await start(file, ['a', 'stubborn']);
    const pid = await pidOf(file, 'stubborn');
    run.child.kill('SIGTERM');
    await run.next((l) => l.event === 'log' && l.msg === 'ignoring', 'the stubborn process ignoring SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 350));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(130);
    await allGone([pid]);
  });
});

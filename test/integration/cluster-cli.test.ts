import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resmon, runJson } from '../fixtures/servers/cli.js';
import { type Server, startEtcd } from './cluster-harness.js';

/** `resmon run` with `cluster:` in its config file, two machines (processes) on one etcd. */
describe('resmon run with cluster:', () => {
  let etcd: Server;
  let dir: string;
  beforeAll(async () => {
    etcd = await startEtcd();
    dir = mkdtempSync(join(tmpdir(), 'resmon-cluster-cli-'));
  });
  afterAll(async () => {
    await etcd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  // A failed test must not leave its members holding units that the next test's members need.
  const runs: ReturnType<typeof runJson>[] = [];
  const run = (file: string) => {
    const r = runJson(file);
    runs.push(r);
    return r;
  };
  afterEach(async () => {
    for (const r of runs.splice(0)) {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
  });

  const config = (node: string, cluster: string) => {
    const sub = join(dir, node);
    rmSync(sub, { recursive: true, force: true });
    const file = join(sub, 'resmon.yaml');
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      file,
      `cluster:\n${cluster}\nresources:\n  - name: svc\n    type: process\n    properties: { command: ${JSON.stringify(process.execPath)}, args: ["-e", "setInterval(() => {}, 1000)"] }\n`,
    );
    return file;
  };

  it('one machine runs the resource; stopping it hands the resource to the other; online on a member that does not own it is refused', async () => {
    const hosts = (etcd.store as { hosts: string }).hosts;
    const a = run(config('a', `  node: a\n  ttl: 3000\n  etcd: { hosts: "${hosts}" }`));
    await a.next(a.state('svc', 'online'), 'svc online on a');
    const acquired = await a.next((l) => l.event === 'cluster' && l.change === 'acquired', 'a acquired');
    expect(acquired).toMatchObject({ unit: 'svc', node: 'a' });
    const b = run(config('b', `  node: b\n  ttl: 3000\n  etcd: { hosts: "${hosts}" }`));
    await b.next((l) => l.event === 'started', 'b started');
    // b does not bring svc up while a holds it; asking it to is refused.
    const refused = await resmon(['online', 'svc', '-c', join(dir, 'b', 'resmon.yaml')]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/does not own the unit; node "a" owns it/);
    // A reload that changes cluster: says it is not applied (the member was made from the first file).
    const bFile = join(dir, 'b', 'resmon.yaml');
    writeFileSync(bFile, readFileSync(bFile, 'utf8').replace('ttl: 3000', 'ttl: 4000'));
    b.child.kill('SIGHUP');
    const reloaded = await b.next((l) => l.event === 'reload' && l.action === 'done', 'b reloaded');
    expect(String(reloaded.message)).toContain('NOT APPLIED: cluster (reload: a change of `cluster` takes effect at the next resmon run');
    // resmon status on b shows the unit's owner and token (as b last saw them).
    const status = await resmon(['status', '-c', join(dir, 'b', 'resmon.yaml')]);
    expect(status.stdout).toContain('cluster member b (live members: a, b):');
    expect(status.stdout).toContain(`svc  owner a  token ${acquired.token as number}`);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(a.lines.some((l) => l.event === 'cluster' && l.change === 'released')).toBe(true);
    const up = await b.next(b.state('svc', 'online'), 'svc online on b', 0, 10_000);
    expect(up).toBeDefined();
    expect(b.lines.find((l) => l.event === 'cluster' && l.change === 'acquired')!.token as number).toBeGreaterThan(acquired.token as number);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('a wrong cluster: section is a config error naming the field; nothing starts', async () => {
    const file = config('bad', '  node: ""\n  ttl: 3000\n  etcd: { hosts: "127.0.0.1:1" }\n  postgres: { connectionString: "postgres://x@127.0.0.1:1/x" }');
    const out = await resmon(['run', '--json', file]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/cluster\.node/);
    expect(out.stderr).toMatch(/exactly one store/);
  });

  it('resmon offline on the owner takes the unit offline cluster-wide: the next owner keeps it offline until resmon online', async () => {
    const hosts = (etcd.store as { hosts: string }).hosts;
    const cluster = (node: string) => `  node: ${node}\n  ttl: 3000\n  etcd: { hosts: "${hosts}" }`;
    const a = run(config('oa', cluster('oa')));
    await a.next(a.state('svc', 'online'), 'svc online on oa');
    const b = run(config('ob', cluster('ob')));
    await b.next((l) => l.event === 'started', 'ob started');
    const off = await resmon(['offline', 'svc', '-c', join(dir, 'oa', 'resmon.yaml')]);
    expect(off.code).toBe(0);
    await a.next(a.state('svc', 'offline'), 'svc offline on oa');
    // oa still owns it (offline); stopping oa hands it to ob, which keeps it offline.
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const acquired = await b.next((l) => l.event === 'cluster' && l.change === 'acquired', 'ob acquired', 0, 10_000);
    const status = await resmon(['status', '-c', join(dir, 'ob', 'resmon.yaml')]);
    expect(status.stdout).toContain(`svc  owner ob  token ${acquired.token as number}  (this machine)  offline cluster-wide`);
    expect(b.lines.some(b.state('svc', 'online'))).toBe(false);
    const on = await resmon(['online', 'svc', '-c', join(dir, 'ob', 'resmon.yaml')]);
    expect(on.code).toBe(0);
    await b.next(b.state('svc', 'online'), 'svc online on ob');
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});

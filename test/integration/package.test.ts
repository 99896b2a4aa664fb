import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, Record<string, Record<string, string>> | string>;
};

/** Builds the package with tsup, then imports it as a consumer would: by name, through `exports`. */
describe('the built package', () => {
  let consumer: string;
  beforeAll(() => {
    execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], { cwd: root, stdio: 'pipe' });
    consumer = mkdtempSync(join(tmpdir(), 'resmon-consumer-'));
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'resmon'), 'dir');
    // The optional peers, as a user who wants resmon/prometheus and resmon/otel installs them.
    mkdirSync(join(consumer, 'node_modules', '@opentelemetry'));
    symlinkSync(join(root, 'node_modules', 'prom-client'), join(consumer, 'node_modules', 'prom-client'), 'dir');
    symlinkSync(join(root, 'node_modules', '@opentelemetry', 'api'), join(consumer, 'node_modules', '@opentelemetry', 'api'), 'dir');
  }, 120_000);
  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  const run = (file: string, source: string) => {
    writeFileSync(join(consumer, file), source);
    return execFileSync(process.execPath, [join(consumer, file)], { cwd: consumer, encoding: 'utf8' }).trim();
  };

  const probe = (load: string) => `
    ${load}
    const m = new ResourceMonitor();
    m.registerType({ name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true });
    m.addResource({ name: 'r', type: 't' });
    m.online('r').then(async () => {
      const state = m.getState('r');
      // A wait with a deadline runs the bundled p-timeout: it must work in both builds.
      const waited = await m.waitFor('r', 'failed', { timeout: 1 }).catch((e) => e.code);
      await m.close();
      let guard = false;
      try { new ResourceMonitor({ abortGrace: -1 }); } catch (e) { guard = isConfigError(e); }
      console.log(state + ' ' + guard + ' ' + waited);
    });`;

  it('works with import (ESM) on this Node', () => {
    expect(run('esm.mjs', probe(`import { ResourceMonitor, isConfigError } from 'resmon';`))).toBe('online true ERR_RESMON_CALL_TIMEOUT');
  });

  it('works with require (CommonJS)', () => {
    expect(run('cjs.cjs', probe(`const { ResourceMonitor, isConfigError } = require('resmon');`))).toBe('online true ERR_RESMON_CALL_TIMEOUT');
  });

  // The optional integrations, from the built package: resmon/prometheus, resmon/otel and
  // healthHandler from the root, each doing its job once.
  const integrations = (load: string) => `
    ${load}
    const m = new ResourceMonitor();
    m.registerType({ name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => true });
    m.addResource({ name: 'r', type: 't' });
    const registry = new Registry();
    const stopProm = collect(m, { registry });
    const spans = [];
    const tracerProvider = { getTracer: () => ({ startSpan: (name) => { const s = { name, setAttribute() {}, setStatus() {}, end() { spans.push(name); } }; return s; } }) };
    const stopOtel = instrument(m, { tracerProvider });
    const handler = healthHandler(m);
    m.online('r').then(async () => {
      const text = await registry.metrics();
      const res = { writeHead(s) { this.s = s; }, end(b) { this.b = b; } };
      handler({ url: '/readyz', method: 'GET' }, res);
      stopProm(); stopOtel();
      await m.close();
      console.log([text.includes('resmon_resource_state{resource="r",type="t",state="online"} 1'), spans.join(','), res.s, JSON.parse(res.b).ready].join(' '));
    });`;

  it('resmon/prometheus, resmon/otel and healthHandler work with import (ESM)', () => {
    const load = `
      import { ResourceMonitor, healthHandler } from 'resmon';
      import { collect } from 'resmon/prometheus';
      import { instrument } from 'resmon/otel';
      import { Registry } from 'prom-client';`;
    expect(run('integrations.mjs', integrations(load))).toBe('true resmon.online 200 true');
  });

  it('resmon/prometheus, resmon/otel and healthHandler work with require (CommonJS)', () => {
    const load = `
      const { ResourceMonitor, healthHandler } = require('resmon');
      const { collect } = require('resmon/prometheus');
      const { instrument } = require('resmon/otel');
      const { Registry } = require('prom-client');`;
    expect(run('integrations.cjs', integrations(load))).toBe('true resmon.online 200 true');
  });

  it('the built resmon command: --version, defaults, and verify-type on a TypeScript file (loaded through tsx)', () => {
    const cli = join(root, 'dist/cli.js');
    const version = execFileSync(process.execPath, [cli, '--version'], { cwd: consumer, encoding: 'utf8' });
    expect(version).toBe(`resmon ${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version}\n`);
    expect(execFileSync(process.execPath, [cli, 'defaults'], { cwd: consumer, encoding: 'utf8' })).toMatch(/restartThreshold +5 +service \(resmon run\) +1/);
    // A .ts module, with no TypeScript loader preloaded: resmon registers tsx itself (exit 0 or 1, never 2 "cannot load").
    let out: string;
    try {
      out = execFileSync(process.execPath, [cli, 'verify-type', join(root, 'examples/echo-type.ts')], { cwd: consumer, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      const e = error as { status: number; stdout: string; stderr: string };
      expect(e.stderr).not.toMatch(/Unknown file extension|cannot load/);
      expect(e.status).toBe(1);
      out = e.stdout;
    }
    expect(out).toMatch(/conformance to the resmon contract/);
  });

  it('the core never loads the optional peers', () => {
    for (const file of ['index.js', 'index.cjs']) {
      const code = readFileSync(join(root, 'dist', file), 'utf8');
      expect(code, file).not.toMatch(/prom-client|@opentelemetry|etcd3|['"]pg['"]/);
    }
  });

  // resmon/cluster loads etcd3 and pg only when a store that needs them connects.
  const clusterProbe = (load: string) => `
    ${load}
    const m = new ResourceMonitor();
    m.registerType({ name: 't', online: (ctx) => { globalThis.token = ctx.fencingToken; }, offline() {}, terminate() {}, isAlive: () => true });
    m.addResource({ name: 'r', type: 't' });
    const member = new ClusterMember(m, { node: 'a', leases: memoryLeases(), ttl: 3000 });
    etcdLeases({ hosts: '127.0.0.1:1' }); postgresLeases({ connectionString: 'postgres://x@127.0.0.1:1/x' });
    member.start().then(async () => {
      const state = m.getState('r');
      await member.stop();
      await m.close();
      console.log(state + ' ' + globalThis.token);
    });`;

  it('resmon/cluster works with import (ESM) and require (CommonJS), and loads etcd3 and pg only on use', () => {
    expect(run('cluster.mjs', clusterProbe(`import { ResourceMonitor } from 'resmon'; import { ClusterMember, memoryLeases, etcdLeases, postgresLeases } from 'resmon/cluster';`))).toBe('online 1');
    expect(run('cluster.cjs', clusterProbe(`const { ResourceMonitor } = require('resmon'); const { ClusterMember, memoryLeases, etcdLeases, postgresLeases } = require('resmon/cluster');`))).toBe('online 1');
    for (const file of ['cluster.js', 'cluster.cjs']) {
      const code = readFileSync(join(root, 'dist', file), 'utf8');
      expect(code, file).not.toMatch(/^import .*from ['"](etcd3|pg)['"]|require\(['"](etcd3|pg)['"]\)(?!\))/m);
    }
  });

  it('lists types first for both conditions, and every file that exports names exists', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      for (const condition of ['import', 'require'] as const) {
        const entry = target[condition];
        expect(entry, `${subpath} ${condition}`).toBeDefined();
        expect(Object.keys(entry!)[0], `${subpath} ${condition}: types must come first`).toBe('types');
        for (const file of Object.values(entry!)) expect(existsSync(join(root, file)), file).toBe(true);
      }
    }
  });
});

import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { bin, resmon, root } from '../fixtures/servers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'resmon-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'cli-token-0123456789abcdef';
// The page's globals, in the functions Playwright runs there (this project has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

/** Starts `resmon run --json ARGS`; resolves with the child and the `http` line once it listens. */
function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', bin, 'run', '--json', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RESMON_TOKEN: '', ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const http = new Promise<{ url: string; mutating: boolean }>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      if (line.event === 'http') resolve(line as never);
    });
    void exited.then((code) => reject(new Error(`resmon exited (${code}) before listening`)));
  });
  return { child, lines, http, exited };
}

describe('resmon run --http', () => {
  const config = path.join(dir, 'resmon.yaml');
  writeFileSync(
    config,
    ['resources:', '  - name: sleeper', '    type: process', '    properties:', `      command: ${JSON.stringify(process.execPath)}`, '      args: ["-e", "setInterval(() => {}, 1000)"]', ''].join('\n'),
  );

  it('serves the page, the API, /metrics and the probes on the --http address; RESMON_TOKEN enables actions', async () => {
    const run = start([config, '--http', '127.0.0.1:0'], { RESMON_TOKEN: TOKEN });
    const { url, mutating } = await run.http;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(mutating).toBe(true);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/app.js" defer></script>');
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    const status = (await (await fetch(`${url}/v1/status`)).json()) as { resources: { name: string; state: string }[] };
    expect(status.resources.map((r) => `${r.name} ${r.state}`)).toEqual(['sleeper online']);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('resmon_resource_state{resource="sleeper",type="process",state="online"} 1');
    expect((await fetch(`${url}/v1/resources/sleeper/restart`, { method: 'POST' })).status).toBe(403);
    const restarted = await fetch(`${url}/v1/resources/sleeper/restart`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(restarted.status).toBe(200);
    // The control socket's API, mounted: the same answers as over the socket.
    expect(await restarted.json()).toMatchObject({ ok: true, status: { name: 'sleeper', state: 'online', restarts: { total: 0 } } });
    // The page on the daemon's API: it shows the resource and follows an action at once.
    const profile = mkdtempSync(path.join(tmpdir(), 'resmon-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${url}/`);
      await page.waitForFunction(() => document.querySelector('article[data-resource="sleeper"]')?.getAttribute('data-state') === 'online', null, { timeout: 5_000 });
      expect(await page.locator('#title').textContent()).toBe(config);
      const off = await fetch(`${url}/v1/resources/sleeper/offline`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(off.status).toBe(200);
      await page.waitForFunction(() => document.querySelector('article[data-resource="sleeper"]')?.getAttribute('data-state') === 'offline', null, { timeout: 1_000 });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await expect(fetch(`${url}/livez`)).rejects.toThrow();
  });

  it('takes http.listen from the file; without a token every action answers 403', async () => {
    const withHttp = path.join(dir, 'with-http.yaml');
    writeFileSync(withHttp, `http: { listen: "127.0.0.1:0" }\n${['resources:', '  - name: ep', '    type: tcp', '    properties: { host: 127.0.0.1, port: 9 }', ''].join('\n')}`);
    const run = start([withHttp]);
    const { url, mutating } = await run.http;
    expect(mutating).toBe(false);
    const res = await fetch(`${url}/v1/resources/ep/online`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
    // DNS rebinding: a page from another site that resolves its name to 127.0.0.1 gets nothing.
    const rebinding = await new Promise<number | undefined>((resolve, reject) => {
      get(`${url}/v1/status`, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    expect(rebinding).toBe(421);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('rejects a bad --http value, a short token and a bad http: section before starting anything', async () => {
    const bad = await resmon(['run', config, '--http', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--http must be HOST:PORT, :PORT or PORT/);
    const badFile = path.join(dir, 'bad-http.yaml');
    writeFileSync(badFile, `http: { listen: "127.0.0.1:0", token: short }\n${['resources:', '  - name: ep', '    type: tcp', '    properties: { host: 127.0.0.1, port: 9 }', ''].join('\n')}`);
    const file = await resmon(['run', badFile]);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(/http\.token must be a string of at least 16 characters/);
  });
});

import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Clock, ResourceMonitor, type ResourceType } from 'resmon';
import { type HttpListener, startHttp } from '../../src/cli/http/server.js';

/**
 * The status page of `resmon run --http`, in a real browser: Debian's chromium driven by
 * playwright-core (no browser download). The monitor first runs on a clock 300× faster than real
 * time, so that a few seconds give the timelines most of an hour of history to draw, then at
 * real speed for the page.
 */
const SPEED = 300;
// The page's globals, in the functions Playwright runs there (this project has no DOM types).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const window: any;
const TOKEN = 'test-token-0123456789abcdef';
const XSS = '<img src=x onerror=alert(1)>';
const root = fileURLToPath(new URL('../..', import.meta.url));

/** A clock that runs `speed` times faster than real time until `realTime()` slows it down. */
function fastClock(speed: number): Clock & { realTime(): void } {
  let anchorReal = Date.now();
  let anchor = anchorReal - 3_600_000; // the monitor's time starts an hour "ago"
  let rate = speed;
  const now = () => anchor + (Date.now() - anchorReal) * rate;
  return {
    now,
    setTimeout: (fn, ms) => setTimeout(fn, ms / rate),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    realTime() {
      anchor = now();
      anchorReal = Date.now();
      rate = 1;
    },
  };
}

describe('the status page', () => {
  const healthy = new Map<string, boolean>();
  let monitor: ResourceMonitor;
  let http: HttpListener;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const dialogs: string[] = [];
  const names = ['web', 'api', 'postgres', 'redis-cache', 'queue-worker', XSS];

  const type: ResourceType = {
    name: 'demo',
    online: () => new Promise<void>((r) => setTimeout(r, 30)),
    offline: () => {},
    terminate: () => {},
    looksAlive: (ctx) => healthy.get(ctx.resource) !== false,
    isAlive: (ctx) => healthy.get(ctx.resource) !== false,
  };

  beforeAll(async () => {
    const clock = fastClock(SPEED);
    monitor = new ResourceMonitor({
      clock,
      defaults: { looksAlivePollInterval: 30_000, isAlivePollInterval: 120_000, restartDelay: 60_000, restartThreshold: 3, restartPeriod: 3_600_000 },
    });
    monitor.registerType(type);
    for (const name of names) monitor.addResource({ name, type: 'demo', properties: {} });
    http = await startHttp(monitor, {
      listen: { host: '127.0.0.1', port: 0 },
      token: TOKEN,
      title: 'examples/resmon.yaml',
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      now: clock.now,
    });
    await Promise.all(names.filter((n) => n !== 'queue-worker').map((n) => monitor.online(n)));
    // Over an hour of history (about 15 s of real time): flaps, restarts, one resource started late.
    const flap = async (name: string, downMs: number) => {
      healthy.set(name, false);
      await monitor.waitFor(name, 'failed', { timeout: 5_000 * SPEED });
      await new Promise((r) => setTimeout(r, downMs / SPEED));
      healthy.set(name, true);
      await monitor.waitFor(name, 'online', { timeout: 5_000 * SPEED });
    };
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms / SPEED));
    await pause(1_500_000);
    await flap('api', 0);
    await pause(400_000);
    void monitor.online('queue-worker');
    await pause(600_000);
    await flap('redis-cache', 30_000);
    await pause(300_000);
    await flap('api', 0);
    await pause(500_000);
    await flap(XSS, 0);
    healthy.set('postgres', false); // stays down: restarts until the threshold is spent
    // Until its restarts are spent: then it stays failed until the retry an hour later.
    for (;;) {
      await monitor.waitFor('postgres', 'failed', { timeout: 5_000 * SPEED });
      if (monitor.inspect('postgres').restarts.inWindow >= 3) break;
      await monitor.waitFor('postgres', 'online', { timeout: 5_000 * SPEED });
    }
    await pause(120_000);
    // From here on the monitor's clock runs at real speed, as the page's does.
    clock.realTime();

    profile = mkdtempSync(join(tmpdir(), 'resmon-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // Nothing may come from anywhere but resmon.
    await page.route((url) => !url.href.startsWith(http.url), (route) => route.abort());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await http?.close();
    await monitor?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('loads and shows every resource with its state, checks and restarts', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${http.url}/`);
    await page.waitForFunction((n) => document.querySelectorAll('article[data-resource]').length === n, names.length, { timeout: 5_000 });
    const shown = await page.locator('article .name').allTextContents();
    expect(shown).toEqual(names);
    for (const status of monitor.snapshot()) {
      const card = page.locator(`article[data-resource="${status.name.replace(/"/g, '\\"')}"]`);
      await expect.poll(() => card.getAttribute('data-state')).toBe(monitor.getState(status.name));
      expect(await card.locator('.badge').textContent()).toBe(monitor.getState(status.name));
    }
    const api = page.locator('article[data-resource="api"]');
    expect(await api.locator('.facts').textContent()).toMatch(/2 in window · 2 total/);
    expect(await page.locator('#conn').getAttribute('data-live')).toBe('true');
    expect(requests.every((u) => u.startsWith(http.url)), requests.join('\n')).toBe(true);
    // The README's image (docs/status-page.png, with RESMON_DOC_IMAGE=1): the first screen at 1100×760.
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.waitForTimeout(200); // a frame after the resize
    const doc = await page.screenshot({ type: 'png' });
    expect(doc.length).toBeLessThan(200_000);
    if (process.env.RESMON_DOC_IMAGE === '1') {
      writeFileSync(join(root, 'docs', 'status-page.png'), doc);
      expect(statSync(join(root, 'docs', 'status-page.png')).size).toBeLessThan(200_000);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('draws each timeline: state bands, failures and restarts marked', async () => {
    const api = page.locator('article[data-resource="api"] svg');
    expect(await api.locator('rect.seg[data-state="online"]').count()).toBeGreaterThanOrEqual(3);
    expect(await api.locator('rect.seg[data-state="failed"]').count()).toBe(2);
    expect(await api.locator('line.mark.failure').count()).toBe(2);
    expect(await api.locator('line.mark.restart').count()).toBe(2);
    // The bands cover the hour: the first starts at the left edge, the last ends at the right.
    const box = await api.boundingBox();
    const rects = await api.locator('rect.seg').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => [r.left, r.right]));
    expect(rects[0]![0]).toBeLessThanOrEqual(box!.x + 2);
    expect(rects.at(-1)![1]).toBeGreaterThanOrEqual(box!.x + box!.width - 2);
    for (let i = 1; i < rects.length; i++) expect(Math.abs(rects[i]![0] - rects[i - 1]![1]), `band ${i}`).toBeLessThan(1.5);
    for (const name of names) {
      const card = page.locator(`article[data-resource="${name.replace(/"/g, '\\"')}"] svg rect.seg`);
      expect(await card.count(), name).toBeGreaterThan(0);
    }
  });

  it('renders a name that looks like HTML as text', async () => {
    const card = page.locator('article').filter({ has: page.locator('.name', { hasText: XSS }) });
    expect(await card.count()).toBe(1);
    expect(await card.locator('.name').innerHTML()).toBe('&lt;img src=x onerror=alert(1)&gt;');
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('shows a state change made through the API within a second, without a reload', async () => {
    await page.evaluate(() => (window.marker = 42));
    const t0 = Date.now();
    const res = await fetch(`${http.url}/v1/resources/web/offline`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe('offline');
    await page.waitForFunction(() => document.querySelector('article[data-resource="web"]')?.getAttribute('data-state') === 'offline', null, {
      timeout: 1_000,
    });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await page.evaluate(() => window.marker)).toBe(42);
    expect(await page.locator('article[data-resource="web"] svg rect.seg').last().getAttribute('data-state')).toBe('offline');
    // And back.
    const back = await fetch(`${http.url}/v1/resources/web/online`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(back.status).toBe(200);
    await page.waitForFunction(() => document.querySelector('article[data-resource="web"]')?.getAttribute('data-state') === 'online', null, {
      timeout: 1_000,
    });
  });

  it('answers a mutating request without the right token with 403, and changes nothing', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcd' }, { authorization: TOKEN }] as Record<string, string>[]) {
      const res = await fetch(`${http.url}/v1/resources/api/terminate`, { method: 'POST', headers });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(monitor.getState('api')).toBe('online');
    const unknown = await fetch(`${http.url}/v1/resources/nope/online`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(unknown.status).toBe(404);
  });

  it('serves the JSON API, /metrics, /livez and /readyz beside the page', async () => {
    const status = (await (await fetch(`${http.url}/v1/status`)).json()) as { resources: { name: string }[] };
    expect(status.resources.map((r) => r.name)).toEqual(names);
    const one = await fetch(`${http.url}/v1/resources/${encodeURIComponent(XSS)}`);
    expect(((await one.json()) as { name: string }).name).toBe(XSS);
    const metrics = await fetch(`${http.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await metrics.text()).toContain('resmon_resource_state{resource="api",type="demo",state="online"} 1');
    expect((await fetch(`${http.url}/livez`)).status).toBe(200);
    const ready = await fetch(`${http.url}/readyz`);
    expect(ready.status).toBe(503); // postgres is down
    expect(((await ready.json()) as { notReady: { name: string }[] }).notReady.map((r) => r.name)).toContain('postgres');
    const page = await fetch(`${http.url}/`);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
  });

  it('looks right at desktop and phone widths (screenshots)', async () => {
    const dir = process.env.RESMON_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'resmon-shots-'));
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.waitForTimeout(300); // let a frame render after the resize
    const desktop = await page.screenshot({ fullPage: true, type: 'png' });
    writeFileSync(join(dir, 'desktop.png'), desktop);
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0); // nothing wider than a phone
    writeFileSync(join(dir, 'phone.png'), await page.screenshot({ fullPage: true, type: 'png' }));
    if (!process.env.RESMON_SCREENSHOTS) rmSync(dir, { recursive: true, force: true });
  });
});

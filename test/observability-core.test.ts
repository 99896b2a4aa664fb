import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelName, ConfigError, healthHandler, type HealthResponse, readiness, ResourceMonitor } from 'resmon';
import { flaky } from './helpers/recording.js';
import { closeMonitor, TestMonitor } from './helpers/monitor.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const policy = { looksAlivePollInterval: 0, isAlivePollInterval: 1_000, restartDelay: 500, restartAction: 'restart' } as const;

describe('diagnostics_channel', () => {
  it('publishes every event on resmon:<event> with the payload listeners get', async () => {
    const seen: { channel: string; message: unknown }[] = [];
    const names = ['stateChange', 'check', 'restartScheduled'] as const;
    const subs = names.map((name) => {
      const fn = (message: unknown, channel: string | symbol) => void seen.push({ channel: String(channel), message });
      diagnosticsChannel.subscribe(channelName(name), fn);
      return () => diagnosticsChannel.unsubscribe(channelName(name), fn);
    });
    try {
      const { state, rec: { type } } = flaky();
      await using monitor = new TestMonitor({ defaults: policy });
      const listened: unknown[] = [];
      monitor.on('stateChange', (e) => listened.push(e));
      monitor.registerType(type);
      monitor.addResource({ name: 'a', type: 'flaky' });
      await monitor.online('a');
      state.broken = true;
      await vi.advanceTimersByTimeAsync(1_000);
      const changes = seen.filter((s) => s.channel === 'resmon:stateChange').map((s) => s.message);
      expect(changes).toEqual(listened);
      expect(changes.map((c) => (c as { to: string }).to)).toEqual(['online-pending', 'online', 'failed']);
      expect(seen.find((s) => s.channel === 'resmon:check')?.message).toEqual({
        resource: 'a', at: 1_000, kind: 'isAlive', ok: false, durationMs: 0, reason: 'returned false', consecutiveFailures: 1,
      });
      expect(seen.some((s) => s.channel === 'resmon:restartScheduled')).toBe(true);
      await monitor.close();
    } finally {
      for (const off of subs) off();
    }
  });

  it('builds no payload when nothing listens or subscribes', async () => {
    const { rec: { type } } = flaky();
    await using monitor = new TestMonitor({ defaults: policy });
    monitor.registerType(type);
    monitor.addResource({ name: 'a', type: 'flaky' });
    const publish = vi.spyOn(diagnosticsChannel.channel('resmon:check'), 'publish');
    await monitor.online('a');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(publish).not.toHaveBeenCalled();
    publish.mockRestore();
    await monitor.close();
  });
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function nodeResponse(): { res: HealthResponse; done: Promise<Answer> } {
  let resolve!: (a: Answer) => void;
  const done = new Promise<Answer>((r) => (resolve = r));
  let status = 0;
  let headers: Record<string, string> = {};
  const res = {
    writeHead(s: number, h: Record<string, string>) {
      status = s;
      headers = h;
      return res;
    },
    end(body: string) {
      resolve({ status, headers, body });
    },
  };
  return { res: res as unknown as HealthResponse, done };
}

async function ask(handler: ReturnType<typeof healthHandler>, url: string, method = 'GET') {
  const { res, done } = nodeResponse();
  handler({ url, method }, res);
  await vi.advanceTimersByTimeAsync(0);
  const a = await done;
  return { ...a, json: a.body ? (JSON.parse(a.body) as Record<string, unknown>) : null };
}

describe('healthHandler', () => {
  async function setup() {
    const { state, rec: { type } } = flaky();
    const monitor = new ResourceMonitor({ defaults: policy });
    monitor.registerType(type);
    for (const name of ['a', 'b', 'idle']) monitor.addResource({ name, type: 'flaky' });
    return { monitor, state, [Symbol.asyncDispose]: () => closeMonitor(monitor) };
  }

  it('/livez answers 200 from the next turn of the loop, 503 once the monitor is closed', async () => {
    await using fixture = await setup();
    const { monitor } = fixture;
    const h = healthHandler(monitor);
    const live = await ask(h, '/livez');
    expect(live.status).toBe(200);
    expect(live.json).toMatchObject({ live: true });
    expect(live.headers['cache-control']).toBe('no-store');
    await monitor.close();
    const dead = await ask(h, '/livez');
    expect(dead.status).toBe(503);
    expect(dead.json).toEqual({ live: false, loopMs: 0, reason: 'the monitor is closed' });
  });

  it('/readyz counts resources wanted online and names those that are not online', async () => {
    await using fixture = await setup();
    const { monitor, state } = fixture;
    const h = healthHandler(monitor);
    // Nothing asked for: nothing wanted, ready.
    expect((await ask(h, '/readyz')).json).toEqual({ ready: true, checked: 0, notReady: [] });
    await monitor.online('a');
    await monitor.online('b');
    expect((await ask(h, '/readyz?verbose')).status).toBe(200);
    state.broken = true;
    await vi.advanceTimersByTimeAsync(1_000); // both fail; a restart is scheduled for each
    state.refuse = true;
    const r = await ask(h, '/readyz');
    expect(r.status).toBe(503);
    expect(r.json).toEqual({
      ready: false,
      checked: 2,
      notReady: [
        { name: 'a', state: 'failed', target: 'online', since: 1_000, reason: 'failed (last failed check: returned false); a restart is scheduled' },
        { name: 'b', state: 'failed', target: 'online', since: 1_000, reason: 'failed (last failed check: returned false); a restart is scheduled' },
      ],
    });
    const only = healthHandler(monitor, { resources: ['idle', 'ghost'] });
    expect((await ask(only, '/readyz')).json).toEqual({
      ready: false,
      checked: 1,
      notReady: [{ name: 'ghost', state: null, target: 'online', since: null, reason: 'no such resource' }],
    });
    await monitor.close();
  });

  it('answers HEAD without a body, 405 to other methods, 404 or next() elsewhere', async () => {
    await using fixture = await setup();
    const { monitor } = fixture;
    const h = healthHandler(monitor, { readyPath: '/ready' });
    const head = await ask(h, '/ready', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    const post = await ask(h, '/ready', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect((await ask(h, '/readyz')).status).toBe(404);
    const next = vi.fn();
    h({ url: '/other', method: 'GET' }, nodeResponse().res, next);
    expect(next).toHaveBeenCalledOnce();
    await monitor.close();
  });

  it("answers through fastify's reply when given one", async () => {
    await using fixture = await setup();
    const { monitor } = fixture;
    const sent: { status: number; headers: Record<string, string>; body: string } = { status: 0, headers: {}, body: '' };
    const reply = {
      raw: {},
      code(s: number) {
        sent.status = s;
        return reply;
      },
      header(n: string, v: string) {
        sent.headers[n] = v;
        return reply;
      },
      send(b: string) {
        sent.body = b;
      },
    };
    healthHandler(monitor)({ url: '/readyz', method: 'GET', raw: {} as never }, reply as unknown as HealthResponse);
    expect(sent.status).toBe(200);
    expect(sent.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(sent.body)).toEqual({ ready: true, checked: 0, notReady: [] });
    expect(readiness(monitor).ready).toBe(true);
    await monitor.close();
  });

  it('rejects bad options with a ConfigError naming the field', async () => {
    await using monitor = new TestMonitor();
    expect(() => healthHandler(monitor, { resources: 'a' as never })).toThrow(ConfigError);
    expect(() => healthHandler(monitor, { resources: 'a' as never })).toThrow(/options\.resources must be a list of non-empty names/);
    expect(() => healthHandler(monitor, { livePath: 'livez' })).toThrow(/options\.livePath must be a path starting with '\/'/);
    expect(() => healthHandler(monitor, { port: 1 } as never)).toThrow(/options\.port is not an option/);
  });
});

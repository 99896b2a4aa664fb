import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { healthHandler, ResourceMonitor, type ResourceType } from 'resmon';

/** healthHandler mounted in real node:http, express and fastify servers on loopback. */
const healthy = { up: true };
const type: ResourceType = { name: 't', online() {}, offline() {}, terminate() {}, isAlive: () => healthy.up };

let monitor: ResourceMonitor;
beforeEach(async () => {
  healthy.up = true;
  monitor = new ResourceMonitor({ defaults: { isAlivePollInterval: 60_000, looksAlivePollInterval: 0 } });
  monitor.registerType(type);
  monitor.addResource({ name: 'db', type: 't' });
  monitor.addResource({ name: 'cache', type: 't' });
  await monitor.online('db');
});
afterEach(async () => {
  await monitor.close();
});

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const get = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.text()).trim() };
};

describe('healthHandler', () => {
  it('serves node:http', async () => {
    const server = createServer(healthHandler(monitor));
    const base = await listen(server);
    try {
      expect(await get(`${base}/livez`)).toMatchObject({ status: 200, type: 'application/json; charset=utf-8' });
      expect(await get(`${base}/readyz`)).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: '{"ready":true,"checked":1,"notReady":[]}' });
      expect((await get(`${base}/elsewhere`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('is express middleware: answers the probes, passes other paths on, works under a mount path', async () => {
    const app = express();
    app.use('/health', healthHandler(monitor, { resources: ['db', 'cache'] }));
    app.use('/strict', healthHandler(monitor, { resources: ['db', 'ghost'] }));
    app.get('/hello', (_req, res) => void res.send('hi'));
    const server = createServer(app);
    const base = await listen(server);
    try {
      // cache is offline and nobody asked for it: it does not count.
      expect(JSON.parse((await get(`${base}/health/readyz`)).body)).toEqual({ ready: true, checked: 1, notReady: [] });
      await monitor.online('cache');
      expect(JSON.parse((await get(`${base}/health/readyz`)).body)).toEqual({ ready: true, checked: 2, notReady: [] });
      const strict = await get(`${base}/strict/readyz`);
      expect(strict.status).toBe(503);
      expect(JSON.parse(strict.body)).toMatchObject({ ready: false, notReady: [{ name: 'ghost', state: null, reason: 'no such resource' }] });
      expect((await get(`${base}/health/livez`)).status).toBe(200);
      expect(await get(`${base}/hello`)).toMatchObject({ status: 200, body: 'hi' });
    } finally {
      server.close();
    }
  });

  it("answers fastify routes through fastify's reply", async () => {
    const app = Fastify();
    const health = healthHandler(monitor);
    app.get('/livez', (req, reply) => health(req, reply));
    app.get('/readyz', (req, reply) => health(req, reply));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      expect(await get(`${base}/readyz`)).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: '{"ready":true,"checked":1,"notReady":[]}' });
      healthy.up = false;
      await monitor.terminate('db');
      await monitor.online('db').catch(() => {});
      expect((await get(`${base}/livez`)).status).toBe(200);
      await monitor.close();
      expect((await get(`${base}/livez`)).status).toBe(503);
      expect(JSON.parse((await get(`${base}/livez`)).body)).toEqual({ live: false, loopMs: 0, reason: 'the monitor is closed' });
    } finally {
      await app.close();
    }
  });
});

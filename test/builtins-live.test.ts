import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type CheckEvent, httpType, ResourceMonitor, type ResourceType, tcpType } from 'resmon';
import { OutputTail } from '../src/builtins/output.js';
import { until } from './fixtures/servers/procs.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as net.AddressInfo).port;
}

function monitorWith<P>(type: ResourceType<P, undefined>, properties: unknown) {
  const monitor = new ResourceMonitor();
  cleanups.push(() => monitor.close());
  monitor.registerType(type);
  monitor.addResource({ name: 'e', type: type.name, properties, policy: { isAlivePollInterval: 30, restartAction: 'none' } });
  const checks: CheckEvent[] = [];
  monitor.on('check', (e) => checks.push(e));
  return { monitor, checks };
}

describe('endpoint types: setProperties applies at once', () => {
  it('tcp: a new port is probed by the next isAlive', async () => {
    const a = net.createServer((s) => s.destroy());
    const b = net.createServer((s) => s.destroy());
    const [portA, portB] = [await listen(a), await listen(b)];
    const { monitor, checks } = monitorWith(tcpType, { port: portA });
    await monitor.online('e');
    expect(await monitor.setProperties('e', { port: portB })).toBe('applied');
    await new Promise((resolve) => a.close(resolve));
    const from = checks.length;
    await until(() => checks.length >= from + 3, 'three isAlive checks on the new port');
    expect(checks.slice(from).every((c) => c.ok)).toBe(true);
    expect(monitor.getState('e')).toBe('online');
    expect(await monitor.control('e', 'get-properties')).toMatchObject({ probe: { kind: 'tcp', port: portB } });
  });

  it('http: a new URL is probed by the next isAlive; a bad one is a ConfigError that changes nothing', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/new' ? 200 : 500;
      res.end();
    });
    const port = await listen(server);
    cleanups.push(() => server.closeAllConnections());
    const { monitor, checks } = monitorWith(httpType, { url: `http://127.0.0.1:${port}/new` });
    await monitor.online('e');
    await expect(monitor.setProperties('e', { url: 'ftp://x' })).rejects.toThrow(/url must be an absolute http/);
    expect(await monitor.setProperties('e', { url: `http://127.0.0.1:${port}/old` })).toBe('applied');
    await until(() => monitor.getState('e') === 'failed', 'the resource to fail on the new URL');
    expect(checks.at(-1)?.reason).toMatch(/\/old answered 500/);
  });
});

describe('OutputTail.resize', () => {
  it('keeps the newest lines when it shrinks, and the order when it grows', () => {
    const tail = new OutputTail(3);
    tail.write('a\nb\nc\nd\n');
    expect(tail.lines()).toEqual(['b', 'c', 'd']);
    tail.resize(2);
    expect(tail.lines()).toEqual(['c', 'd']);
    tail.write('e\n');
    expect(tail.lines()).toEqual(['d', 'e']);
    tail.resize(4);
    tail.write('f\ng\nh\n');
    expect(tail.lines()).toEqual(['e', 'f', 'g', 'h']);
    tail.resize(0);
    tail.write('i\n');
    expect(tail.lines()).toEqual([]);
  });
});

import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConfigError, httpType, isConfigError, ResourceMonitor, type ResourcePolicy, tcpType } from 'resmon';
import { runProbe } from '../src/builtins/probes.js';
import { allGone, freePort, until } from './fixtures/servers/procs.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real HTTP server on 127.0.0.1, port 0, answering with `handler`. */
async function httpServer(handler: http.RequestListener) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  cleanups.push(() => (server.listening ? stop() : undefined));
  return { server, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, stop };
}

/** A real TCP server on 127.0.0.1, port 0. */
async function tcpServer() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  };
  cleanups.push(() => (server.listening ? stop() : undefined));
  return { port: (server.address() as net.AddressInfo).port, stop };
}

function monitorWith(properties: unknown, type: 'http' | 'tcp', policy: Partial<ResourcePolicy> = {}) {
  const monitor = new ResourceMonitor();
  cleanups.push(() => monitor.close());
  monitor.registerType(httpType);
  monitor.registerType(tcpType);
  monitor.addResource({ name: 'e', type, properties, policy });
  const progress: string[] = [];
  const reasons: string[] = [];
  monitor.on('progress', (e) => progress.push(e.message ?? ''));
  monitor.on('stateChange', (e) => reasons.push(`${e.to}: ${e.reason}`));
  return { monitor, progress, reasons };
}

describe('http type', () => {
  it('goes online at the first successful probe, reporting progress on each failed try', async () => {
    let hits = 0;
    const { url } = await httpServer((_req, res) => {
      hits++;
      res.writeHead(hits <= 2 ? 503 : 200).end();
    });
    const { monitor, progress } = monitorWith({ url: `${url}/health`, interval: 10 }, 'http');
    await monitor.online('e');
    expect(hits).toBe(3);
    expect(progress).toEqual([
      `waiting for GET ${url}/health (try 1): GET ${url}/health answered 503, expected 200..399`,
      `waiting for GET ${url}/health (try 2): GET ${url}/health answered 503, expected 200..399`,
    ]);
  });

  it('fails the resource when the endpoint goes away', async () => {
    const { url, stop } = await httpServer((_req, res) => res.end('ok'));
    const { monitor, reasons } = monitorWith({ url, timeout: 1_000 }, 'http', { isAlivePollInterval: 20, restartAction: 'none' });
    await monitor.online('e');
    const failed = monitor.waitFor('e', 'failed');
    await stop();
    await failed;
    expect(reasons.at(-1)).toMatch(/^failed: isAlive threw: GET http:\/\/127\.0\.0\.1:\d+\/ failed: connect ECONNREFUSED/);
  });

  it('checks the expected status and the body', async () => {
    const { url } = await httpServer((req, res) => {
      if (req.url === '/teapot') res.writeHead(418).end('short and stout');
      else res.end('status: green');
    });
    const signal = new AbortController().signal;
    const probe = (p: unknown) => runProbe(httpType.validate!(p).probe, signal);
    await expect(probe({ url: `${url}/teapot`, status: 418, body: 'stout' })).resolves.toBeUndefined();
    await expect(probe({ url: `${url}/teapot` })).rejects.toThrow(/answered 418, expected 200\.\.399/);
    await expect(probe({ url, status: 201 })).rejects.toThrow(/answered 200, expected 201/);
    await expect(probe({ url, body: 'green' })).resolves.toBeUndefined();
    await expect(probe({ url, body: 'red' })).rejects.toThrow(/the body does not contain "red"/);
  });

  it('fails a probe that takes longer than its timeout', async () => {
    const { url } = await httpServer(() => {});
    await expect(runProbe(httpType.validate!({ url, timeout: 50 }).probe, new AbortController().signal)).rejects.toThrow(
      /timed out after 50 ms/,
    );
  });

  it('offline and terminate only stop watching', async () => {
    let hits = 0;
    const { url } = await httpServer((_req, res) => {
      hits++;
      res.end();
    });
    const { monitor } = monitorWith({ url }, 'http');
    await monitor.online('e');
    await monitor.offline('e');
    await monitor.online('e');
    await monitor.terminate('e');
    expect(hits).toBe(2);
    expect(monitor.getState('e')).toBe('offline');
  });

  it('aborts the probe in flight when the online call is abandoned', async () => {
    let closed = 0;
    let requests = 0;
    const { url } = await httpServer((req) => {
      requests++;
      req.socket.on('close', () => closed++);
    });
    const { monitor } = monitorWith({ url, timeout: 60_000 }, 'http');
    const online = monitor.online('e').catch((e: unknown) => e);
    await until(() => requests === 1, 'the first probe');
    await monitor.offline('e');
    expect(String(await online)).toMatch(/StateError/);
    await until(() => closed === 1, 'the probe connection to close');
    expect(requests).toBe(1);
  });
});

describe('tcp type', () => {
  it('goes online once the port accepts connections, and fails when it stops', async () => {
    const { port, stop } = await tcpServer();
    const { monitor, reasons } = monitorWith({ port }, 'tcp', { isAlivePollInterval: 20, restartAction: 'none' });
    await monitor.online('e');
    const failed = monitor.waitFor('e', 'failed');
    await stop();
    await failed;
    expect(reasons.at(-1)).toMatch(new RegExp(`isAlive threw: connect to 127.0.0.1:${port} failed: connect ECONNREFUSED`));
  });

  it('keeps trying until the port opens', async () => {
    const port = await freePort();
    const { monitor, progress } = monitorWith({ host: '127.0.0.1', port, interval: 10 }, 'tcp');
    const online = monitor.online('e');
    await until(() => progress.length >= 2, 'two failed tries');
    const server = net.createServer();
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    await online;
    expect(progress[0]).toMatch(new RegExp(`^waiting for tcp 127.0.0.1:${port} \\(try 1\\): connect to 127.0.0.1:${port} failed`));
  });

  it('fails online after startTimeout', async () => {
    const port = await freePort();
    const { monitor } = monitorWith({ port, interval: 10, startTimeout: 100 }, 'tcp', { restartAction: 'none' });
    await expect(monitor.online('e')).rejects.toThrow(/not ready after \d+ ms \(startTimeout 100 ms/);
  });
});

describe('exec probes', () => {
  const exec = (command: string, args: string[], timeout = 5_000) =>
    runProbe({ kind: 'exec', command, args, timeout }, new AbortController().signal);

  it('passes on exit code 0', async () => {
    await expect(exec(process.execPath, ['-e', 'process.exit(0)'])).resolves.toBeUndefined();
  });

  it('fails on another exit code, quoting stderr', async () => {
    await expect(exec(process.execPath, ['-e', 'console.error("db not ready"); process.exit(2)'])).rejects.toThrow(
      /exec .* exited with code 2: db not ready/,
    );
  });

  it('kills a probe past its timeout, with its process group', async () => {
    // sh starts in a millisecond (a node child may take longer than the timeout on a loaded machine).
    const pidFile = `/tmp/resmon-exec-probe-${process.pid}`;
    const script = `sleep 100 & echo $$ $! > ${pidFile}; wait`;
    await expect(exec('/bin/sh', ['-c', script], 300)).rejects.toThrow(/timed out after 300 ms/);
    const { readFileSync, rmSync } = await import('node:fs');
    const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    rmSync(pidFile);
    expect(pids).toHaveLength(2);
    await allGone(pids);
  });
});

describe('endpoint properties', () => {
  const reject = (validate: (p: unknown) => unknown, properties: unknown): ConfigError => {
    try {
      validate(properties);
    } catch (error) {
      if (isConfigError(error)) return error;
      throw error;
    }
    throw new Error('validate accepted the properties');
  };

  it.each([
    [{}, 'url', /url is required/],
    [{ url: 'localhost:8080' }, 'url', /must be an absolute http:\/\/ or https:\/\/ URL/],
    [{ url: 'http://x/', status: 99 }, 'status', /must be an integer >= 100 and <= 599/],
    [{ url: 'http://x/', timeout: 0 }, 'timeout', /must be a finite number > 0/],
    [{ url: 'http://x/', interval: 'fast' }, 'interval', /must be a finite number > 0/],
    [{ url: 'http://x/', method: 'POST' }, 'method', /is not a known field/],
  ])('http rejects %j naming %s', (properties, field, message) => {
    const error = reject(httpType.validate!, properties);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it.each([
    [{}, 'port', /port is required: a port number 1\.\.65535/],
    [{ port: 0 }, 'port', /must be an integer >= 1 and <= 65535/],
    [{ port: 65_536 }, 'port', /must be an integer >= 1 and <= 65535 \(got 65536\)/],
    [{ port: '80' }, 'port', /must be an integer/],
    [{ port: 80, host: '' }, 'host', /must be a non-empty string/],
  ])('tcp rejects %j naming %s', (properties, field, message) => {
    const error = reject(tcpType.validate!, properties);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});

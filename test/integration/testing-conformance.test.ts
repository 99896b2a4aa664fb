import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpType, processType, tcpType } from 'resmon';
import { verifyResourceType, type ConformanceReport, formatReport } from 'resmon/testing';
import { httpServerType } from '../../examples/http-server-type.js';
import { breakServer, tcpServerType } from '../fixtures/broken-types/tcp-server-type.js';

/**
 * Every conformance case passed, none was skipped (but those of optional entry points the type does not
 * have, and the refused-change case without refusedProperties); on failure the message is the
 * whole report.
 */
function expectAllPassed(report: ConformanceReport) {
  const optional = (reason: string | null) => /^the type has no (applyProperties|control|typeControl)\(\)$|^no refusedProperties/.test(reason ?? '');
  expect(report.cases.filter((c) => !c.passed || (c.skipped && !optional(c.reason))).map((c) => c.name), formatReport(report)).toEqual([]);
  expect(report.passed).toBe(true);
}

describe('the conformance suite passes for the well-behaved types', () => {
  it('passes for an in-process TCP server type, with breakResource', async () => {
    const report = await verifyResourceType(tcpServerType(), { properties: { port: 0 }, breakResource: breakServer });
    expectAllPassed(report);
    expect(report.cases).toHaveLength(19);
    expect(report.durationMs).toBeLessThan(5_000);
  });

  it('passes for the example HTTP server type (a real child process), killed by breakResource', async () => {
    const report = await verifyResourceType(httpServerType, {
      properties: { port: 0 },
      breakResource: (handle) => void handle.child?.kill('SIGKILL'),
    });
    expectAllPassed(report);
  }, 30_000);

  it('passes for the built-in process type, killed by breakResource', async () => {
    const report = await verifyResourceType(processType, {
      properties: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
      // A change of stopTimeout is applied at once; one of args would be stored for the next online.
      changedProperties: { command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'], stopTimeout: 500 },
      breakResource: (handle) => void handle.child?.kill('SIGKILL'),
    });
    expectAllPassed(report);
  }, 30_000);

  describe('the built-in observers (tcp, http) pass as observers of an endpoint they do not own', () => {
    let tcp: Server;
    let port = 0;
    const sockets = new Set<import('node:net').Socket>();
    const http = createHttpServer((_req, res) => res.end('ok'));
    beforeAll(async () => {
      tcp = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.end();
      });
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
      port = (tcp.address() as { port: number }).port;
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    });
    afterAll(async () => {
      await new Promise((resolve) => tcp.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    });

    it('tcp', async () => {
      const report = await verifyResourceType(tcpType, {
        properties: { host: '127.0.0.1', port },
        changedProperties: { host: '127.0.0.1', port, timeout: 1_000 },
        observer: true,
        breakResource: () => {
          tcp.close();
          for (const socket of sockets) socket.destroy();
        },
      });
      expectAllPassed(report);
    });

    it('http', async () => {
      const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/`;
      const report = await verifyResourceType(httpType, { properties: { url }, observer: true, detectLeaks: false });
      expect(report.cases.find((c) => c.name.startsWith('after breakResource'))?.skipped).toBe(true);
      expect(report.passed, formatReport(report)).toBe(true);
    });

    it('without observer: true, an observer fails the cases that expect the resource down after offline and terminate', async () => {
      const server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      try {
        const report = await verifyResourceType(tcpType, { properties: { host: '127.0.0.1', port: (server.address() as { port: number }).port } });
        expect(report.cases.filter((c) => !c.passed).map((c) => c.name)).toEqual([
          'offline takes the resource down: isAlive is false',
          'terminate when offline settles promptly and leaves isAlive false',
          'terminate twice in a row settles promptly and leaves isAlive false',
          'terminate in the middle of a slow online settles promptly and leaves isAlive false',
        ]);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});

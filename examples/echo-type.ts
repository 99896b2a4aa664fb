// A resource type written from scratch: a TCP echo server inside this process. Used by
// examples/quickstart.ts (under a monitor) and examples/testing/ (under resmon/testing).
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ResourceType } from 'resmon';

export interface EchoProps {
  port: number;
}
export interface EchoHandle {
  server: Server | null;
  sockets: Set<Socket>;
  port: number;
}

/** Stops the server and drops its connections; resolves once it is closed. */
function stop(handle: EchoHandle): Promise<void> {
  const server = handle.server;
  handle.server = null;
  for (const socket of handle.sockets) socket.destroy();
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

export const echoType: ResourceType<EchoProps, EchoHandle> = {
  name: 'echo-server',
  // Runs when the resource is added: reject bad properties before anything starts.
  validate(input) {
    const port = (input as { port?: unknown } | null)?.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`port must be an integer from 0 to 65535, got ${String(port)}`);
    }
    return { port };
  },
  // Once per resource, before the first online: the handle every other entry point gets.
  open: (ctx) => ({ server: null, sockets: new Set(), port: ctx.properties.port }),
  online: (ctx) =>
    new Promise<void>((resolve, reject) => {
      const server = createServer((socket) => {
        ctx.handle.sockets.add(socket);
        socket.on('close', () => ctx.handle.sockets.delete(socket));
        socket.pipe(socket);
      });
      ctx.handle.server = server;
      // Honour the signal: if the monitor gives up on this online, stop listening and settle.
      const onAbort = () => void stop(ctx.handle).then(() => reject(ctx.signal.reason));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      server.once('error', reject);
      server.listen(ctx.properties.port, '127.0.0.1', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        ctx.handle.port = (server.address() as { port: number }).port;
        resolve();
      });
    }),
  offline: (ctx) => stop(ctx.handle),
  // The hard stop: must work in any state, at once, and more than once.
  terminate: (ctx) => stop(ctx.handle),
  // The cheap check: is the server still listening?
  looksAlive: (ctx) => ctx.handle.server?.listening === true,
  // The thorough check: a real round trip through the server.
  isAlive: (ctx) =>
    new Promise<boolean>((resolve) => {
      if (!ctx.handle.server) return resolve(false);
      const socket = connect({ port: ctx.handle.port, host: '127.0.0.1', signal: ctx.signal });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => socket.write('ping'));
      socket.once('data', (data) => done(data.toString() === 'ping'));
      socket.once('error', () => done(false));
    }),
  // The resource is removed (or the monitor closed).
  close: (ctx) => stop(ctx.handle),
};

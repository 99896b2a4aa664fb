// A resource type written from scratch, registered on a monitor, brought online, polled,
// taken offline. The resource: a TCP echo server inside this process.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ResourceMonitor, type ResourceType } from 'resmon';

interface EchoProps {
  port: number;
}
interface EchoHandle {
  server: Server | null;
  sockets: Set<Socket>;
}

const echoType: ResourceType<EchoProps, EchoHandle> = {
  name: 'echo-server',
  // Runs when the resource is added: reject bad properties before anything starts.
  validate(input) {
    const port = (input as { port?: unknown })?.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new Error(`port must be an integer from 0 to 65535, got ${String(port)}`);
    }
    return { port };
  },
  // Once per resource, before the first online: the handle every other entry point gets.
  open: () => ({ server: null, sockets: new Set() }),
  online: (ctx) =>
    new Promise<void>((resolve, reject) => {
      const server = createServer((socket) => {
        ctx.handle.sockets.add(socket);
        socket.on('close', () => ctx.handle.sockets.delete(socket));
        socket.pipe(socket);
      });
      ctx.handle.server = server;
      server.once('error', reject);
      server.listen(ctx.properties.port, '127.0.0.1', () => resolve());
      // A server error after start is a failure the monitor should hear about at once.
      server.on('error', (error) => ctx.reportFailure(error));
    }),
  // Cheap: is the server still listening?
  looksAlive: (ctx) => ctx.handle.server?.listening === true,
  // Thorough: does it really echo? Honour ctx.signal so a deadline can stop it.
  isAlive: (ctx) =>
    new Promise<boolean>((resolve) => {
      const address = ctx.handle.server?.address();
      if (!address || typeof address === 'string') return resolve(false);
      const socket = connect(address.port, '127.0.0.1');
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('error', () => done(false));
      socket.once('data', (data) => done(data.toString() === 'ping'));
      socket.write('ping');
      ctx.signal.addEventListener('abort', () => done(false), { once: true });
    }),
  offline: (ctx) =>
    new Promise<void>((resolve) => {
      const server = ctx.handle.server;
      if (!server) return resolve();
      for (const socket of ctx.handle.sockets) socket.end();
      server.close(() => resolve());
      ctx.handle.server = null;
    }),
  // The hard stop: must work in any state, at once, more than once.
  terminate: (ctx) => {
    for (const socket of ctx.handle.sockets) socket.destroy();
    ctx.handle.server?.close();
    ctx.handle.server = null;
  },
};

const monitor = new ResourceMonitor({ defaults: { looksAlivePollInterval: 200, isAlivePollInterval: 1_000 } });
monitor.on('stateChange', (e) => console.log(`${e.resource}: ${e.from} -> ${e.to} (${e.reason})`));
monitor.on('check', (e) => console.log(`${e.resource}: ${e.kind} ${e.ok ? 'ok' : `failed: ${e.reason}`} in ${e.durationMs} ms`));

monitor.registerType(echoType);
monitor.addResource({ name: 'echo', type: 'echo-server', properties: { port: 0 } });
await monitor.online('echo');
await new Promise((resolve) => setTimeout(resolve, 1_100)); // a few looksAlive polls and one isAlive
console.log(monitor.inspect('echo').lastChecks.isAlive?.ok ? 'echo is healthy' : 'echo is NOT healthy');
await monitor.offline('echo');
await monitor.close();

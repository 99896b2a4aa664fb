import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError, type ResourceType } from 'resmon';

/** The properties of an `example-http-server` resource. */
export interface HttpServerProperties {
  /** The port to listen on; 0 picks a free one. */
  port: number;
  /** Crash (exit 1) this long after start; 0 never. For demos of crash loops. */
  crashAfterMs: number;
  /**
   * Report the server's exit at once with `ctx.reportFailure` (asynchronous failure
   * detection). When false, the polls find out: looksAlive sees the process gone.
   */
  watchExit: boolean;
}

/** The per-resource handle: the server process of the current generation, and its port. */
export interface HttpServerHandle {
  child: ChildProcess | null;
  port: number;
}

/** Stops the server with `signal` (a planned stop: its exit is not reported as a failure). */
async function stop(handle: HttpServerHandle, signal: NodeJS.Signals): Promise<void> {
  const child = handle.child;
  if (!child) return;
  child.removeAllListeners('exit');
  child.kill(signal);
  await exited(child);
  handle.child = null;
}

const script = fileURLToPath(new URL('./servers/http-server.mjs', import.meta.url));

/** Resolves when `child` has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A resource type that runs a small HTTP server in a child process: online starts it and waits
 * until it listens, looksAlive checks that the process runs, isAlive makes a real request to
 * `/health`, offline stops it with SIGTERM, terminate kills it with SIGKILL.
 */
export const httpServerType: ResourceType<HttpServerProperties, HttpServerHandle> = {
  name: 'example-http-server',

  validate(input) {
    const p = (input ?? {}) as Record<string, unknown>;
    const port = p.port ?? 0;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new ConfigError('properties.port', port, 'must be an integer from 0 to 65535');
    }
    const crashAfterMs = p.crashAfterMs ?? 0;
    if (typeof crashAfterMs !== 'number' || !(crashAfterMs >= 0)) {
      throw new ConfigError('properties.crashAfterMs', crashAfterMs, 'must be a number >= 0');
    }
    const watchExit = p.watchExit ?? true;
    if (typeof watchExit !== 'boolean') throw new ConfigError('properties.watchExit', watchExit, 'must be a boolean');
    return { port, crashAfterMs, watchExit };
  },

  open: (ctx) => ({ child: null, port: ctx.properties.port }),

  online(ctx) {
    const handle = ctx.handle;
    const args = ['--port', String(ctx.properties.port), '--crash-after', String(ctx.properties.crashAfterMs)];
    const child = fork(script, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    handle.child = child;
    ctx.reportProgress('starting the server');
    return new Promise<void>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        const port = (message as { listening?: unknown })?.listening;
        if (typeof port !== 'number') return;
        handle.port = port;
        cleanup();
        ctx.log.info({ pid: child.pid, port }, 'server listening');
        // Asynchronous failure detection: a crash is reported at once, no need to wait for a poll.
        if (ctx.properties.watchExit) {
          child.once('exit', (code, signal) => ctx.reportFailure(new Error(`server exited (${signal ?? `code ${code}`})`)));
        }
        resolve();
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        reject(new Error(`server exited before listening (${signal ?? `code ${code}`})`));
      };
      const onAbort = () => {
        cleanup();
        child.kill('SIGKILL');
        reject(ctx.signal.reason);
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        ctx.signal.removeEventListener('abort', onAbort);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  },

  looksAlive: (ctx) => {
    const child = ctx.handle.child;
    return child !== null && child.exitCode === null && child.signalCode === null;
  },

  async isAlive(ctx) {
    if (!ctx.handle.child || ctx.handle.child.exitCode !== null || ctx.handle.child.signalCode !== null) return false;
    try {
      const res = await fetch(`http://127.0.0.1:${ctx.handle.port}/health`, { signal: ctx.signal });
      await res.text();
      return res.ok;
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      return false;
    }
  },

  offline: (ctx) => stop(ctx.handle, 'SIGTERM'),

  terminate: (ctx) => stop(ctx.handle, 'SIGKILL'),

  close(ctx) {
    ctx.handle.child?.kill('SIGKILL');
    ctx.handle.child = null;
  },
};

import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

/** Why the control socket could not be served or reached; `code` tells the CLI's exit code. */
export class ControlSocketError extends Error {
  override name = 'ControlSocketError';
  constructor(
    message: string,
    /** `in-use`: a live resmon serves it; `not-found`: no daemon there; `denied`: no permission; `other`. */
    readonly code: 'in-use' | 'not-found' | 'denied' | 'other',
  ) {
    super(message);
  }
}

/** A request to a control socket: resolves with the status and the body as text. */
export function request(
  socket: string,
  method: string,
  urlPath: string,
  options: { timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: urlPath, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', (error: NodeJS.ErrnoException) => reject(connectError(socket, error)));
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    }
    req.end();
  });
}

/** The error of a failed connection to a control socket, in words. */
export function connectError(socket: string, error: NodeJS.ErrnoException): ControlSocketError | NodeJS.ErrnoException {
  switch (error.code) {
    case 'ENOENT':
      return new ControlSocketError(`no resmon run found: ${socket} does not exist`, 'not-found');
    case 'ECONNREFUSED':
      return new ControlSocketError(`no resmon run found: ${socket} is left from a run that ended (nothing listens on it)`, 'not-found');
    case 'ENOTSOCK':
      return new ControlSocketError(`no resmon run found: ${socket} is not a socket`, 'not-found');
    case 'EACCES':
    case 'EPERM': {
      let owner = '';
      try {
        owner = ` (it belongs to uid ${statSync(socket).uid}; you are uid ${process.getuid?.()})`;
      } catch {
        // the folder itself is closed to us
      }
      return new ControlSocketError(`permission denied on ${socket}${owner}: only the user who runs resmon may control it`, 'denied');
    }
    default:
      return error;
  }
}

/** What {@link serveControl} started. */
export interface ControlServer {
  readonly socket: string;
  readonly server: http.Server;
  /** Stops listening, drops every connection, removes the socket file (if it is still ours). */
  close(): Promise<void>;
}

/**
 * Serves `handler` on a Unix socket at `socket`, mode 0600 (its folder is created 0700).
 * A socket file left by a run that was killed (nothing listens) is replaced; a live one is
 * refused with a {@link ControlSocketError} (`in-use`) naming the pid that serves it.
 */
export async function serveControl(socket: string, handler: http.RequestListener): Promise<ControlServer> {
  mkdirSync(path.dirname(socket), { recursive: true, mode: 0o700 });
  let existing: ReturnType<typeof lstatSync> | null = null;
  try {
    existing = lstatSync(socket);
  } catch {
    existing = null;
  }
  if (existing) {
    if (!existing.isSocket()) throw new ControlSocketError(`${socket} exists and is not a socket; remove it or choose another path (--control)`, 'other');
    try {
      const { body } = await request(socket, 'GET', '/v1/status', { timeoutMs: 2_000 });
      let who = '';
      try {
        const info = JSON.parse(body) as { pid?: number; file?: string };
        who = ` (pid ${info.pid}${info.file ? `, ${info.file}` : ''})`;
      } catch {
        // not ours, but alive
      }
      throw new ControlSocketError(`another resmon run${who} is serving ${socket}; stop it first (resmon stop) or use another --control path`, 'in-use');
    } catch (error) {
      if (error instanceof ControlSocketError && error.code === 'in-use') throw error;
      if (error instanceof ControlSocketError && error.code === 'denied') throw error;
      // Nothing answers: a socket left by a run that was killed. Replace it.
      unlinkSync(socket);
    }
  }
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  const mask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(mask);
  }
  chmodSync(socket, 0o600);
  const ino = statSync(socket).ino;
  let closed: Promise<void> | null = null;
  return {
    socket,
    server,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        try {
          if (statSync(socket).ino === ino) unlinkSync(socket);
        } catch {
          // already gone
        }
      });
      return closed;
    },
  };
}

/** True when something accepts connections on `socket` now. */
export function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

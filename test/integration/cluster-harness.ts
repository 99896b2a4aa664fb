/**
 * The cluster integration tests' kit: a real etcd or PostgreSQL started in a temporary folder on
 * loopback ports, member processes (test/fixtures/cluster/member.ts), the shared history file,
 * and the history checker.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/cluster/member.ts', import.meta.url));

/** A free loopback port (bound, read, closed). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 50 ms until it returns a value other than undefined/null/false, or throws after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, fn: () => T | undefined | null | false): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A TCP proxy on a loopback port to `port`; `cut()` drops every connection and refuses new ones. */
export async function startProxy(port: number, listenOn = 0): Promise<{ port: number; cut(): Promise<void>; heal(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(listenOn, '127.0.0.1', r));
  const own = (server.address() as { port: number }).port;
  return {
    port: own,
    heal: async () => {
      if (server.listening) return;
      await new Promise<void>((r) => server.listen(own, '127.0.0.1', r));
    },
    cut: async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

export interface Server {
  /** What a member passes to its store. */
  store: { kind: 'etcd'; hosts: string } | { kind: 'postgres'; connectionString: string };
  /** The same store reached through another port (a proxy's). */
  via(port: number): Server['store'];
  port: number;
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port and data. */
  restart(): Promise<void>;
}

/** Waits for `child` to exit; after `ms`, calls `beforeKill` and SIGKILLs it. */
async function waitExit(child: ChildProcess, ms: number, beforeKill?: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    exited,
    new Promise<void>((r) => {
      timer = setTimeout(() => {
        beforeKill?.();
        child.kill('SIGKILL');
        r();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
  await exited;
}

/** etcd on a temporary data dir and two loopback ports; resolves once it answers /health. */
export async function startEtcd(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'resmon-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(
      'etcd',
      [
        '--name', 'resmon-test', '--data-dir', join(dir, 'data'),
        '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
        '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
        '--initial-cluster', `resmon-test=http://127.0.0.1:${peer}`, '--log-level', 'error',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const end = Date.now() + 20_000;
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${client}/health`);
        if (res.ok && ((await res.json()) as { health: string }).health === 'true') return;
      } catch {}
      if (child.exitCode !== null || Date.now() > end) throw new Error(`etcd did not start: ${err}`);
      await sleep(100);
    }
  };
  await launch();
  return {
    store: { kind: 'etcd', hosts: `127.0.0.1:${client}` },
    via: (p) => ({ kind: 'etcd', hosts: `127.0.0.1:${p}` }),
    port: client,
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child, 5_000);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      child.kill('SIGTERM');
      await waitExit(child, 5_000);
      await launch();
    },
  };
}

/** The directory of PostgreSQL's programs (initdb, pg_ctl, postgres). */
function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
}

/**
 * A PostgreSQL cluster of its own: initdb in a temporary dir, then pg_ctl on a loopback port.
 * As root, both run as the `postgres` user (initdb refuses root) through runuser.
 */
export async function startPostgres(): Promise<Server> {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'resmon-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (program: string, args: string[]) => {
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, program), ...args] : [join(bin, program), ...args];
    return execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'pipe', encoding: 'utf8' });
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  writeFileSync(join(dir, 'log'), '');
  chmodSync(join(dir, 'log'), 0o666);
  const start = () => run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  start();
  return {
    store: { kind: 'postgres', connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` },
    via: (p) => ({ kind: 'postgres', connectionString: `postgres://postgres@127.0.0.1:${p}/postgres` }),
    port,
    async stop() {
      try {
        stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    async restart() {
      stop();
      start();
    },
  };
}

export interface HistoryEntry {
  at: number;
  node: string;
  resource: string;
  call: 'online' | 'offline' | 'terminate' | 'killed';
  token: number | null;
}

export interface Member {
  node: string;
  child: ChildProcess;
  events: Record<string, unknown>[];
  /** SIGKILL: the member and its resources are gone at once (recorded in the history as `killed`). */
  kill(): Promise<number>;
  /** SIGTERM: stop() releases its units after taking them offline. */
  terminate(): Promise<void>;
  /** Calls `member.offline(unit)` or `member.online(unit)` in the process: resolves true when it succeeded, false when refused (not the owner), null if the process is gone. */
  command(how: 'offline' | 'online', unit: string): Promise<boolean | null>;
}

export class ClusterRun {
  readonly dir = mkdtempSync(join(tmpdir(), 'resmon-cluster-'));
  readonly historyFile = join(this.dir, 'history.jsonl');
  readonly members: Member[] = [];
  private commands = 0;

  constructor(
    readonly store: Server['store'],
    readonly ttl: number,
  ) {
    writeFileSync(this.historyFile, '');
  }

  /** Starts a member process; resolves once it has finished its first round. */
  async spawn(node: string, store: Server['store'] = this.store, options: Record<string, unknown> = {}): Promise<Member> {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, node, this.historyFile, String(this.ttl), JSON.stringify(store), JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.on('error', () => {});
    const events: Record<string, unknown>[] = [];
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {}
      }
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const member: Member = {
      node,
      child,
      events,
      kill: async () => {
        const at = Date.now();
        if (child.exitCode !== null || child.signalCode !== null) return at;
        writeFileSync(this.historyFile, `${JSON.stringify({ at, node, resource: '*', call: 'killed', token: null })}\n`, { flag: 'a' });
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
        return at;
      },
      command: async (how, unit) => {
        if (child.exitCode !== null || child.signalCode !== null) return null;
        const id = String(++this.commands);
        child.stdin!.write(`${id} ${how} ${unit}\n`);
        const exited = new Promise<null>((r) => child.once('exit', () => r(null)));
        const done = until(`${node}: ${how} ${unit}`, 30_000, () => events.find((e) => e.event === 'done' && e.id === id)).then((e) => e.ok === true, () => null);
        return Promise.race([done, exited]);
      },
      terminate: async () => {
        child.kill('SIGTERM');
        await waitExit(child, 15_000, () => writeFileSync(this.historyFile, `${JSON.stringify({ at: Date.now(), node, resource: '*', call: 'killed', token: null })}\n`, { flag: 'a' }));
      },
    };
    this.members.push(member);
    await until(`member ${node} to start (stderr: ${err})`, 30_000, () => events.some((e) => e.event === 'started') || (child.exitCode !== null ? (() => { throw new Error(`member ${node} exited: ${err}`); })() : false));
    return member;
  }

  history(): HistoryEntry[] {
    return readFileSync(this.historyFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as HistoryEntry);
  }

  /** The node that has `resource` online now per the history, or null. */
  ownerOf(resource: string): string | null {
    return replay(this.history()).up.get(resource) ?? null;
  }

  /** Stops every member still running (SIGTERM), removes the temporary folder; resolves with the final history. */
  async close(): Promise<HistoryEntry[]> {
    await Promise.all(this.members.map((m) => m.terminate()));
    const history = this.history();
    rmSync(this.dir, { recursive: true, force: true });
    return history;
  }
}

/**
 * Replays a history: who has each resource up. Throws when a resource comes online on one node
 * while it is up on another (two owners at once), or when a new owner's token is not strictly
 * greater than the previous owner's (or any online's token is lower than the one before).
 */
export function replay(history: HistoryEntry[]): { up: Map<string, string>; onlines: number } {
  const up = new Map<string, string>();
  const last = new Map<string, { node: string; token: number }>();
  let onlines = 0;
  // File order is the real order: every record is one O_APPEND write, made when it happened.
  for (const e of history) {
    if (e.call === 'killed') {
      for (const [r, n] of up) if (n === e.node) up.delete(r);
      continue;
    }
    if (e.call !== 'online') {
      if (up.get(e.resource) === e.node) up.delete(e.resource);
      continue;
    }
    onlines++;
    const cur = up.get(e.resource);
    if (cur !== undefined && cur !== e.node) throw new Error(`two owners: ${e.resource} came online on ${e.node} at ${e.at} while online on ${cur}`);
    if (typeof e.token !== 'number') throw new Error(`${e.resource} came online on ${e.node} at ${e.at} without a fencing token`);
    const prev = last.get(e.resource);
    if (prev && (e.token < prev.token || (prev.node !== e.node && e.token <= prev.token))) {
      throw new Error(`token not increasing: ${e.resource} on ${e.node} got ${e.token} after ${prev.node}'s ${prev.token}`);
    }
    last.set(e.resource, { node: e.node, token: e.token });
    up.set(e.resource, e.node);
  }
  return { up, onlines };
}

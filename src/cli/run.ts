import path from 'node:path';
import { isConfigFileError } from '../config/file.js';
import { ClusterMember, etcdLeases, postgresLeases } from '../cluster/index.js';
import { openConfig } from '../config/open.js';
import { createControlHandler, ReloadRejected } from '../daemon/api.js';
import { Daemon } from '../daemon/daemon.js';
import { LogFiles } from '../daemon/logs.js';
import { ControlSocketError, type ControlServer, serveControl } from '../daemon/socket.js';
import { reasonOf } from '../errors.js';
import { MONITOR_EVENTS } from '../events.js';
import { defaultIo, parseCommand, printError, printHelp, SYNOPSIS, UsageError, wantsHelp, withUsage } from './args.js';
import { bearerAllows, type HttpListener, type ListenAddress, isLoopback, parseListen, startHttp } from './http/server.js';
import { JsonView } from './json-view.js';
import { TableView } from './table-view.js';
import type { View } from './view.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** What `--events` may name: the monitor's events, the log lines, and resmon run's own lines. */
const EVENT_NAMES: readonly string[] = [...MONITOR_EVENTS, 'log', 'started', 'http', 'signal', 'reload', 'error', 'exit'];
/**
 * A repeat of the same stop signal within this many ms is the same request delivered twice
 * (`npx` forwards the terminal's SIGINT to resmon, which got it from the terminal already).
 */
const ECHO_MS = 300;

/** The text of `resmon run --help`. */
export const RUN_ABOUT = `Brings every resource of the config file online and keeps it there (the restart policy does the
keeping), and serves the control API that resmon status, online, offline, restart, terminate,
logs, reload and stop use from another terminal.

Flags:
  --json            one JSON object per line on stdout for every event (the default when stdout
                    is not a terminal); without it, on a terminal, a live status table
  --events LIST     JSON lines of these events only (comma-separated: stateChange, check,
                    slowCall, callTimeout, progress, restartScheduled, escalated, hostExit,
                    groupStateChange, log, started, http, signal, reload, error, exit);
                    implies --json
  -v, --verbose     debug logs too
  --control PATH    the control socket (default: control.socket in the file, else
                    .resmon/control.sock beside the file)
  --http HOST:PORT  also serve the status page, the read-only JSON API, /metrics, /livez and
                    /readyz over TCP (or http: { listen } in the file); changes need a token
  -h, --help        this text

Signals:
  SIGINT, SIGTERM   take every resource offline, then exit 0; a second one kills every process
                    group at once and exits 130
  SIGHUP            reload the config file (as resmon reload): nothing changes if it has errors

Files it writes (beside the config file unless the file says otherwise):
  .resmon/control.sock          the control socket, mode 0600 (only its owner may use it)
  .resmon/logs/NAME.out.log     each process resource's stdout (NAME.err.log: stderr), rotated
                                by size (logs: { dir, maxSize, keep }; default 10M, 5 kept)

Defaults: resmon run puts service defaults under the file's defaults (5 restarts a minute with
backoff, then a retry a minute later); resmon defaults prints them.

Exit codes: 0 stopped cleanly, 1 invalid config or the control socket is in use, 2 bad usage,
130 killed by a second signal.`;

/**
 * `resmon run <config>`: builds the monitor from the file, serves the control socket, brings
 * every resource online and keeps them there. On a terminal it shows a live status table;
 * otherwise, or with `--json`, one JSON line per event on stdout.
 */
export async function runMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return printHelp(defaultIo, 'run', RUN_ABOUT);
  let file: string;
  let flags: { json: boolean; verbose: boolean; events: string | undefined; http: string | undefined; control: string | undefined };
  let httpFlag: ListenAddress | null = null;
  try {
    ({ file, flags } = parseCommand(
      argv,
      { json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, events: { type: 'string' }, http: { type: 'string' }, control: { type: 'string' } },
      SYNOPSIS.run,
    ));
    if (flags.http !== undefined) {
      try {
        httpFlag = parseListen(flags.http);
      } catch (error) {
        throw new UsageError(withUsage('run', `--http ${(error as Error).message}`));
      }
    }
    if (flags.events !== undefined) {
      const named = flags.events.split(',').map((e) => e.trim()).filter(Boolean);
      const unknown = named.filter((e) => !EVENT_NAMES.includes(e));
      const problem = named.length === 0 ? 'needs at least one event name' : unknown.length > 0 ? `names no event: ${unknown.join(', ')}` : '';
      if (problem) throw new UsageError(withUsage('run', `--events ${problem} (events: ${EVENT_NAMES.join(', ')})`));
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    return printError(defaultIo, 'run', error.message);
  }
  const events = flags.events?.split(',').map((e) => e.trim()).filter(Boolean);
  const view: View =
    !flags.json && !events && process.stdout.isTTY
      ? new TableView(process.stdout, file, flags.verbose)
      : new JsonView(process.stdout, flags.verbose, events ? { events } : {});

  let logs: LogFiles | null = null;
  let opened;
  try {
    opened = await openConfig(file, {
      logger: view.logger,
      mode: 'run',
      processType: { onOutput: (resource, stream, chunk) => logs?.write(resource, stream, chunk) },
    });
  } catch (error) {
    view.stop();
    if (!isConfigFileError(error)) throw error;
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    process.stderr.write(`${file}: ${error.errors.length} error${error.errors.length === 1 ? '' : 's'}; nothing was started\n`);
    return 1;
  }
  logs = new LogFiles(opened.logs);
  const socket = flags.control ? path.resolve(flags.control) : opened.controlSocket;
  const daemon = new Daemon(file, opened, logs, socket);
  const { monitor, processType, resources } = opened;
  const handler = createControlHandler(daemon, { allowMutations: true });
  let control: ControlServer;
  try {
    control = await serveControl(socket, handler);
  } catch (error) {
    view.stop();
    await monitor.close();
    await logs.close();
    if (!(error instanceof ControlSocketError)) throw error;
    process.stderr.write(`resmon run: ${error.message}; nothing was started\n`);
    return 1;
  }
  view.attach(monitor);
  for (const w of opened.warnings) view.logger.warn(w.message);

  // The status page and HTTP API (opt-in: --http or http.listen in the file).
  let http: HttpListener | null = null;
  const listen = httpFlag ?? (opened.http?.listen !== undefined ? parseListen(opened.http.listen) : null);
  if (listen) {
    const token = process.env.RESMON_TOKEN || opened.http?.token || null;
    if (token !== null && token.length < 16) {
      process.stderr.write('resmon run: RESMON_TOKEN must be at least 16 characters; nothing was started\n');
      await Promise.all([monitor.close(), control.close()]);
      await logs.close();
      view.stop();
      return 1;
    }
    try {
      // The control socket's API, mounted read-only, or with the actions behind the bearer token.
      const api = createControlHandler(daemon, { allowMutations: bearerAllows(token) });
      http = await startHttp(monitor, { listen, token, title: file, logger: view.logger, control: api });
    } catch (error) {
      process.stderr.write(`resmon run: cannot listen on ${listen.host}:${listen.port}: ${reasonOf(error)}; nothing was started\n`);
      await Promise.all([monitor.close(), control.close()]);
      await logs.close();
      view.stop();
      return 1;
    }
    const exposed = !isLoopback(listen.host);
    view.note('http', `status page on ${http.url}/${token === null ? ' (read-only: no token)' : ''}${exposed ? ' (not loopback: reachable from the network)' : ''}`, {
      url: http.url,
      mutating: token !== null,
    });
  }

  const reload = (why: string) => {
    view.note('reload', `${why}: reloading ${file}`, { action: 'start' });
    daemon.reload().then(
      (report) => {
        const parts = [
          report.added.length ? `added ${report.added.join(', ')}` : '',
          report.removed.length ? `removed ${report.removed.join(', ')}` : '',
          report.changed.length ? `changed ${report.changed.map((c) => c.name).join(', ')}` : '',
          report.failed.length ? `NOT APPLIED: ${report.failed.map((f) => `${f.name} (${f.action}: ${f.reason})`).join('; ')}` : '',
        ].filter(Boolean);
        view.note('reload', `reloaded ${file}: ${parts.join('; ') || 'nothing changed'}`, { action: 'done', ...report });
      },
      (error: unknown) => {
        if (error instanceof ReloadRejected) {
          view.note('reload', `${error.message}:\n${error.errors.join('\n')}`, { action: 'rejected', errors: error.errors });
        } else {
          view.note('reload', `reload failed: ${reasonOf(error)}`, { action: 'failed' });
        }
      },
    );
  };

  // cluster: (opt-in) share the resources with other machines by lease.
  let member: ClusterMember | null = null;
  if (opened.cluster) {
    const c = opened.cluster;
    try {
      member = new ClusterMember(monitor, {
      node: c.node,
      ttl: c.ttl,
      leases: c.etcd ? etcdLeases({ hosts: c.etcd.hosts }) : postgresLeases({ connectionString: c.postgres!.connectionString }),
      ...(c.safetyMargin !== undefined ? { safetyMargin: c.safetyMargin } : {}),
      ...(c.preferredNodes !== undefined ? { preferredNodes: c.preferredNodes } : {}),
      ...(c.failoverThreshold !== undefined ? { failoverThreshold: c.failoverThreshold } : {}),
      ...(c.failoverPeriod !== undefined ? { failoverPeriod: c.failoverPeriod } : {}),
      ...(c.preferenceDelay !== undefined ? { preferenceDelay: c.preferenceDelay } : {}),
      ...(c.failbackDelay !== undefined ? { failbackDelay: c.failbackDelay } : {}),
      logger: view.logger,
    });
    } catch (error) {
      process.stderr.write(`resmon run: ${file}: cluster: ${reasonOf(error)}; nothing was started\n`);
      await Promise.all([monitor.close(), control.close(), http?.close()]);
      await logs.close();
      view.stop();
      return 1;
    }
    daemon.cluster = member;
    for (const event of ['acquired', 'released', 'lost', 'failover'] as const) {
      member.on(event, (e) => view.note('cluster', `${event} ${e.unit} (token ${e.token})${'reason' in e ? `: ${e.reason}` : ''}`, { ...e, change: event }));
    }
  }

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  let onOutputGone: (error: NodeJS.ErrnoException) => void = () => {};
  let stopping = false;
  const onHup = () => {
    if (!stopping) reload('SIGHUP');
  };
  const code = await new Promise<number>((resolve) => {
    let last: { signal: string; at: number } | null = null;
    const stop = (why: string, fields: Record<string, unknown>) => {
      stopping = true;
      view.note('signal', `${why}: taking every resource offline (send SIGINT or SIGTERM again to kill them at once)`, { ...fields, action: 'close' });
      handler.close();
      // The control socket stays until the monitor has closed: status answers while processes stop
      // (actions get 503), and a second resmon run on the file is refused until this one is done.
      // A cluster member takes its units offline and releases their leases first.
      (member ? member.stop().catch((error: unknown) => view.note('error', `cluster stop failed: ${reasonOf(error)}`)) : Promise.resolve())
        .then(() => monitor.close())
        .then(
        () => resolve(0),
        (error: unknown) => {
          view.note('error', `close failed: ${reasonOf(error)}`);
          resolve(1);
        },
      );
    };
    onSignal = (signal) => {
      const now = Date.now();
      const echo = last !== null && last.signal === signal && now - last.at < ECHO_MS;
      last = { signal, at: now };
      if (echo) return;
      if (!stopping) {
        stop(signal, { signal });
      } else {
        view.note('signal', `${signal} again: killing every process group`, { signal, action: 'kill' });
        processType.killAll();
        resolve(130);
      }
    };
    daemon.onShutdown(() => {
      if (!stopping) stop('resmon stop', { signal: null, from: 'control socket' });
    });
    // The terminal closed (EIO) or the reader of a pipe went away (EPIPE): nobody is watching,
    // so stop gracefully rather than die on the next write.
    onOutputGone = (error: NodeJS.ErrnoException) => {
      if (!stopping && (error.code === 'EIO' || error.code === 'EPIPE')) stop(`stdout closed (${error.code})`, { signal: null, from: 'stdout' });
    };
    process.stdout.on('error', onOutputGone);
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    process.on('SIGHUP', onHup);
    view.note('started', `${resources.length} resource${resources.length === 1 ? '' : 's'} from ${file}; control socket ${socket}`, {
      file,
      pid: process.pid,
      resources,
      socket,
      logs: opened.logs.dir,
    });
    if (member) {
      // cluster: the member brings online the units whose leases it wins.
      member.start().catch((error: unknown) => view.note('error', `cluster start failed: ${reasonOf(error)}`));
      return;
    }
    for (const name of resources) {
      monitor.online(name).catch((error: unknown) => {
        // The state change already says why; the restart policy takes it from here.
        view.logger.debug({ resource: name }, `online failed: ${reasonOf(error)}`);
      });
    }
  });
  for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  process.off('SIGHUP', onHup);
  handler.close();
  // Writes to a closed stdout keep failing until the exit: never let one crash the shutdown.
  process.stdout.off('error', onOutputGone);
  process.stdout.on('error', () => {});
  await http?.close();
  await control.close();
  await logs.close();
  view.note('exit', `exiting with code ${code}`, { code });
  view.stop();
  return code;
}


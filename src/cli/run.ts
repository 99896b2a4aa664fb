import { ConfigFileError } from '../config/file.js';
import { openConfig } from '../config/open.js';
import { reasonOf } from '../errors.js';
import { defaultIo, parseCommand, printError, printHelp, SYNOPSIS, UsageError, wantsHelp, withUsage } from './args.js';
import { type HttpListener, type ListenAddress, isLoopback, parseListen, startHttp } from './http/server.js';
import { JsonView } from './json-view.js';
import { TableView } from './table-view.js';
import type { View } from './view.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * `resmon run <config>`: builds the monitor from the file, brings every resource online and
 * keeps them there (the restart policy does the keeping). On a terminal it shows a live
 * status table; otherwise, or with `--json`, one JSON line per event on stdout.
 *
 * SIGINT or SIGTERM: a graceful `close()` (every resource offline), exit 0. A second signal
 * while that runs: every process group is killed at once, exit 130.
 */
export async function runMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) return printHelp(defaultIo, 'run');
  let file: string;
  let flags: { json: boolean; verbose: boolean; events: string | undefined; http: string | undefined };
  let httpFlag: ListenAddress | null = null;
  try {
    ({ file, flags } = parseCommand(
      argv,
      { json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, events: { type: 'string' }, http: { type: 'string' } },
      SYNOPSIS.run,
    ));
    if (flags.http !== undefined) {
      try {
        httpFlag = parseListen(flags.http);
      } catch (error) {
        throw new UsageError(withUsage('run', `--http ${(error as Error).message}`));
      }
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

  let opened;
  try {
    opened = await openConfig(file, { logger: view.logger, mode: 'run' });
  } catch (error) {
    view.stop();
    if (!(error instanceof ConfigFileError)) throw error;
    for (const e of error.errors) process.stderr.write(`${e.message}\n`);
    process.stderr.write(`${file}: ${error.errors.length} error${error.errors.length === 1 ? '' : 's'}; nothing was started\n`);
    return 1;
  }
  const { monitor, processType, resources } = opened;
  view.attach(monitor);
  for (const w of opened.warnings) view.logger.warn(w.message);

  // The status page and HTTP API (opt-in: --http or http.listen in the file).
  let http: HttpListener | null = null;
  const listen = httpFlag ?? (opened.http?.listen !== undefined ? parseListen(opened.http.listen) : null);
  if (listen) {
    const token = process.env.RESMON_TOKEN || opened.http?.token || null;
    if (token !== null && token.length < 16) {
      process.stderr.write('resmon run: RESMON_TOKEN must be at least 16 characters; nothing was started\n');
      await monitor.close();
      view.stop();
      return 1;
    }
    try {
      http = await startHttp(monitor, { listen, token, title: file, logger: view.logger });
    } catch (error) {
      process.stderr.write(`resmon run: cannot listen on ${listen.host}:${listen.port}: ${reasonOf(error)}; nothing was started\n`);
      await monitor.close();
      view.stop();
      return 1;
    }
    const exposed = !isLoopback(listen.host);
    view.note('http', `status page on ${http.url}/${token === null ? ' (read-only: no token)' : ''}${exposed ? ' (not loopback: reachable from the network)' : ''}`, {
      url: http.url,
      mutating: token !== null,
    });
  }

  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const code = await new Promise<number>((resolve) => {
    let signals = 0;
    onSignal = (signal) => {
      signals++;
      if (signals === 1) {
        view.note('signal', `${signal}: taking every resource offline (send it again to kill them at once)`, { signal, action: 'close' });
        monitor.close().then(
          () => resolve(0),
          (error: unknown) => {
            view.note('error', `close failed: ${reasonOf(error)}`);
            resolve(1);
          },
        );
      } else {
        view.note('signal', `${signal} again: killing every process group`, { signal, action: 'kill' });
        processType.killAll();
        resolve(130);
      }
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
    view.note('started', `${resources.length} resource${resources.length === 1 ? '' : 's'} from ${file}`, { file, pid: process.pid, resources });
    for (const name of resources) {
      monitor.online(name).catch((error: unknown) => {
        // The state change already says why; the restart policy takes it from here.
        view.logger.debug({ resource: name }, `online failed: ${reasonOf(error)}`);
      });
    }
  });
  for (const signal of SIGNALS) process.off(signal, onSignal);
  await http?.close();
  view.note('exit', `exiting with code ${code}`, { code });
  view.stop();
  return code;
}


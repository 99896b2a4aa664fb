import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MonitorMessage } from './protocol.js';
import { hostEntry, type Transport, type TransportEvents, type TransportOptions } from './transport.js';

/** A planned stop sends SIGTERM; a host that has not exited after this long gets SIGKILL. */
const STOP_GRACE_MS = 2_000;

/**
 * Starts a host in a child process (child_process.fork, an IPC channel with the structured-clone
 * serialization). A crash there, native or not, ends only the child.
 */
export function startProcessHost(options: TransportOptions, events: TransportEvents): Transport {
  const entry = hostEntry();
  const execArgv = [...(entry.ts ? ['--import', 'tsx'] : []), ...(options.execArgv ?? [])];
  const heap = options.resourceLimits?.maxOldGenerationSizeMb;
  if (heap !== undefined) execArgv.push(`--max-old-space-size=${heap}`);
  const child = fork(fileURLToPath(entry.url), [JSON.stringify({ log: options.log })], {
    execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let error: Error | null = null;
  let exited = false;
  let killTimer: NodeJS.Timeout | null = null;
  child.on('message', (raw: unknown) => events.message(raw));
  child.on('error', (e) => {
    // Spawn failure, or a message that could not be sent: the host is of no use any more.
    error ??= e;
    if (!exited) child.kill('SIGKILL');
  });
  child.once('exit', (code, signal) => {
    exited = true;
    if (killTimer) clearTimeout(killTimer);
    events.exit({ code, signal, error });
  });
  return {
    id: child.pid ?? -1,
    send(message: MonitorMessage) {
      if (!exited && child.connected) child.send(message);
    },
    kill(hard: boolean) {
      if (exited) return;
      if (hard) {
        child.kill('SIGKILL');
        return;
      }
      child.kill('SIGTERM');
      killTimer ??= setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, STOP_GRACE_MS);
    },
  };
}

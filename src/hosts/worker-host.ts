import { Worker } from 'node:worker_threads';
import type { MonitorMessage } from './protocol.js';
import { hostEntry, type Transport, type TransportEvents, type TransportOptions } from './transport.js';

/** Starts a host in a worker thread. `kill` terminates it even inside a synchronous loop. */
export function startWorkerHost(options: TransportOptions, events: TransportEvents): Transport {
  const entry = hostEntry();
  const file = entry.ts ? new URL('./ts-bootstrap.mjs', entry.url) : entry.url;
  const worker = new Worker(file, {
    workerData: { log: options.log, entry: entry.url.href },
    execArgv: [...(options.execArgv ?? [])],
    ...(options.resourceLimits ? { resourceLimits: { ...options.resourceLimits } } : {}),
  });
  let error: Error | null = null;
  let exited = false;
  worker.on('message', (raw: unknown) => events.message(raw));
  worker.on('messageerror', (e) => {
    error = e;
    void worker.terminate();
  });
  worker.on('error', (e) => {
    error = e;
  });
  worker.once('exit', (code) => {
    exited = true;
    events.exit({ code, signal: null, error });
  });
  return {
    id: worker.threadId,
    send(message: MonitorMessage) {
      if (!exited) worker.postMessage(message);
    },
    kill() {
      if (!exited) void worker.terminate();
    },
  };
}

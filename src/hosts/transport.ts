import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MonitorMessage } from './protocol.js';

/** How a host ended, as its transport saw it. */
export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** What killed it, when the transport knows (a worker's uncaught error, running out of memory). */
  error: Error | null;
}

/** What a transport tells its host. */
export interface TransportEvents {
  message(raw: unknown): void;
  exit(info: ExitInfo): void;
}

/** Options of a host's thread or process. */
export interface TransportOptions {
  /** Whether ctx.log lines travel back. */
  log: boolean;
  /** Worker: V8 heap limits. Process: maxOldGenerationSizeMb becomes --max-old-space-size. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number; stackSizeMb?: number } | undefined;
  /** Extra Node options for the host. */
  execArgv?: readonly string[] | undefined;
}

/** A running worker thread or child process that speaks the host protocol. */
export interface Transport {
  /** The child's pid, or the worker's threadId. */
  readonly id: number;
  send(message: MonitorMessage): void;
  /** Ends it: `hard` at once (deadlock, protocol violation), else politely (a planned stop). */
  kill(hard: boolean): void;
}

/** Where the host program is: the built .js next to the bundle, or the .ts source under a TS runner. */
export function hostEntry(): { url: URL; ts: boolean } {
  const here = import.meta.url;
  for (const rel of ['./hosts/host-entry.js', './host-entry.js', './hosts/host-entry.cjs', './host-entry.cjs', './host-entry.ts']) {
    const url = new URL(rel, here);
    if (existsSync(fileURLToPath(url))) return { url, ts: rel.endsWith('.ts') };
  }
  throw new Error(`resmon: cannot find the isolation host program (host-entry.js) near ${here}; is the package complete?`);
}

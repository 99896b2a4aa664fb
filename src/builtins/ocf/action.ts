import { spawn } from 'node:child_process';
import type { Logger } from '../../logger.js';
import { signalGroup, trackGroup, untrackGroup } from '../group.js';
import { OutputTail } from '../output.js';
import { type ActionExit, exitReasonOf } from './codes.js';

/** One run of an agent: `<path> <action>` with its environment. */
export interface ActionSpec {
  /** The agent's executable. */
  readonly path: string;
  /** The action (`start`, `stop`, `monitor`, `validate-all`, `meta-data`). */
  readonly action: string;
  readonly env: Readonly<Record<string, string>>;
  /** Aborting it kills the action's process group at once; the run then rejects with the reason. */
  readonly signal: AbortSignal;
  /** Where each line of stdout and stderr goes. */
  readonly log: Logger;
  /** Keep the whole of stdout (meta-data), up to this many bytes; otherwise only log it. */
  readonly keepStdout?: number;
  /** Told the process group id once the action runs, and again with null once its leader exited. */
  readonly onGroup?: (pgid: number, running: boolean) => void;
}

/** How a run ended, and what it printed when asked to keep it. */
export interface ActionResult extends ActionExit {
  readonly stdout: string;
  readonly durationMs: number;
}

/** How long an exited action's output may take to arrive (its pipes close) before its exit counts. */
const DRAIN_MS = 200;
const LEVELS: [RegExp, keyof Logger][] = [
  [/\b(ERROR|CRIT|CRITICAL)\b/, 'error'],
  [/\bWARN(ING)?\b/, 'warn'],
  [/\bDEBUG\b/, 'debug'],
];

/** The log level of an agent's output line: ocf_log's ERROR/WARNING/DEBUG prefixes, else info. */
export function levelOf(line: string): keyof Logger {
  for (const [pattern, level] of LEVELS) if (pattern.test(line.slice(0, 40))) return level;
  return 'info';
}

/**
 * Runs one action of an agent in a process group of its own (`detached`), as Pacemaker's
 * executor does. stdout and stderr lines go to `log` (tagged with the action, stream and pid);
 * an `ocf-exit-reason:` line on stderr becomes the result's `exitReason`. When `signal` aborts,
 * the whole group gets SIGKILL and the promise rejects with the signal's reason at once.
 *
 * Once the action's own process exits, the group is left alone: a daemon that `start` launched
 * in the background lives on in it (that is how agents such as `anything` work).
 */
export function runAction(spec: ActionSpec): Promise<ActionResult> {
  const { signal, log, action } = spec;
  if (signal.aborted) return Promise.reject(signal.reason);
  const started = performance.now();
  return new Promise<ActionResult>((resolve, reject) => {
    let settled = false;
    let exitReason: string | null = null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    const child = spawn(spec.path, [action], {
      env: spec.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid;
    const tag = { action, pid };
    const stdout = new OutputTail(0, (line) => {
      if (line.trim() !== '') log[levelOf(line)]({ ...tag, stream: 'stdout' }, line);
    });
    const stderr = new OutputTail(20, (line) => {
      if (line.trim() === '') return;
      const reason = exitReasonOf(line);
      if (reason !== null) exitReason = reason;
      log[reason !== null ? 'warn' : levelOf(line)]({ ...tag, stream: 'stderr' }, line);
    });
    let leaderRunning = pid !== undefined;
    const onAbort = () => {
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      finish(() => reject(signal.reason));
    };
    const finish = (how: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      how();
    };
    if (pid !== undefined) {
      trackGroup(pid);
      spec.onGroup?.(pid, true);
    }
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => {
      if (spec.keepStdout !== undefined) {
        if (keptBytes < spec.keepStdout) kept.push(chunk);
        keptBytes += chunk.length;
      } else {
        stdout.write(chunk);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    child.once('error', (error) => {
      if (pid !== undefined && leaderRunning) return; // spawned: 'exit' follows
      finish(() => reject(new Error(`could not run ${spec.path} ${action}: ${error.message}`)));
    });
    child.once('exit', (code, sig) => {
      leaderRunning = false;
      if (pid !== undefined) {
        untrackGroup(pid);
        spec.onGroup?.(pid, false);
      }
      let done = false;
      const drained = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        // A background process that inherited the pipes must not hold the action: stop reading.
        child.stdout?.destroy();
        child.stderr?.destroy();
        stdout.flush();
        stderr.flush();
        if (spec.keepStdout !== undefined && keptBytes > spec.keepStdout) {
          finish(() => reject(new Error(`${spec.path} ${action} printed more than ${spec.keepStdout} bytes`)));
          return;
        }
        const result: ActionResult = {
          exitCode: code,
          signal: sig,
          exitReason,
          stderrTail: stderr.lines().filter((line) => line.trim() !== '').slice(-5),
          stdout: Buffer.concat(kept).toString('utf8'),
          durationMs: performance.now() - started,
        };
        finish(() => resolve(result));
      };
      const timer = setTimeout(drained, DRAIN_MS);
      child.once('close', drained);
    });
  });
}

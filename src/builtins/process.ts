import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import { abortable } from '../abort.js';
import { ConfigError, isResmonError, ResmonError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ResourceContext, ResourceType } from '../types.js';
import { numberAt, objectAt, onlyKeys, stringAt, stringMapAt, stringsAt } from './fields.js';
import { type Stray, signalGroup, signalStrays, strayDescendants, trackGroup, untrackGroup } from './group.js';
import { OutputTail } from './output.js';
import { type Probe, type ProbeSpec, parseProbe, runProbe, untilReady } from './probes.js';

/**
 * The properties of a `process` resource: a program resmon starts, watches and stops.
 *
 * @example
 * ```ts
 * monitor.addResource({
 *   name: 'web',
 *   type: 'process',
 *   properties: {
 *     command: 'node',
 *     args: ['server.js'],
 *     env: { PORT: '8080' },
 *     readiness: { http: { url: 'http://127.0.0.1:8080/health' } },
 *     health: { http: { url: 'http://127.0.0.1:8080/health', status: 200 } },
 *   },
 * });
 * ```
 */
export interface ProcessProperties {
  /** The program (looked up on PATH, or a path relative to `cwd`). Run without a shell. */
  command: string;
  /** Its arguments. @default [] */
  args?: string[];
  /** Its working directory. @default the monitor's working directory (`resmon run`: the config file's directory) */
  cwd?: string;
  /** Variables added to (or overriding) resmon's own environment. @default {} */
  env?: Record<string, string>;
  /** The signal `offline` sends to the process group first. @default 'SIGTERM' */
  stopSignal?: NodeJS.Signals;
  /** Milliseconds `offline` waits after `stopSignal` before it sends SIGKILL. @default 10000 */
  stopTimeout?: number;
  /**
   * What "started" means: online resolves when this probe first passes, trying every
   * `interval` ms (default 500) and reporting progress on each try. Without it the process is
   * online once spawned.
   * @example { http: { url: 'http://127.0.0.1:8080/health' }, interval: 250 }
   */
  readiness?: ProbeSpec & { interval?: number };
  /** The thorough check (isAlive). Without it, isAlive checks that the process runs. */
  health?: ProbeSpec;
  /** Milliseconds the readiness probe may take to pass before online fails. @default 60000 */
  startTimeout?: number;
  /** How many lines of stdout and of stderr are kept for `output()`. @default 50 */
  outputLines?: number;
}

/** `ProcessProperties` after validation: defaults filled in, probes parsed. */
export interface ProcessConfig {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly stopSignal: NodeJS.Signals;
  readonly stopTimeout: number;
  readonly readiness: { readonly probe: Probe; readonly interval: number } | null;
  readonly health: Probe | null;
  readonly startTimeout: number;
  readonly outputLines: number;
}

/** How the process last ended. */
export interface ProcessExit {
  /** Its exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** `Date.now()` when it ended. */
  at: number;
}

/** What `output()` shows of one process resource. */
export interface ProcessOutput {
  /** The pid (and process group id) of the running process, or of the last one. */
  pid: number | null;
  /** Whether the process runs now. */
  running: boolean;
  /** How the last process ended, or null when none has ended yet. */
  lastExit: ProcessExit | null;
  /** The last lines it wrote to stdout, oldest first (kept across restarts). */
  stdout: string[];
  /** The last lines it wrote to stderr, oldest first (kept across restarts). */
  stderr: string[];
}

/**
 * A process ended when it should not have: before it was ready, or while online. The `online()`
 * rejection and the failure's cause of a `process` resource. Match it with
 * {@link isProcessExitError} (works across two copies of the package) or its `code`.
 */
export class ProcessExitError extends ResmonError {
  override readonly code = 'ERR_RESMON_PROCESS_EXIT';
  /** Its exit code, or null when a signal ended it. */
  readonly exitCode: number | null;
  /** The signal that ended it, or null. */
  readonly signal: NodeJS.Signals | null;
  /** The last lines of its stderr. */
  readonly stderr: string[];

  constructor(message: string, exit: ProcessExit, stderr: string[]) {
    super(message);
    this.exitCode = exit.code;
    this.signal = exit.signal;
    this.stderr = stderr;
  }
}

/** True for a {@link ProcessExitError}, from any copy of the package. */
export const isProcessExitError = (error: unknown): error is ProcessExitError =>
  isResmonError(error) && error.code === 'ERR_RESMON_PROCESS_EXIT';

/** The per-resource state of a process resource (its `open` handle). */
export class ProcessHandle {
  child: ChildProcess | null = null;
  pid: number | null = null;
  running = false;
  lastExit: ProcessExit | null = null;
  /** Resolves when the current process exits. */
  exited: Promise<ProcessExit> = Promise.resolve({ code: null, signal: null, at: 0 });
  /** Called when the process exits while online (reports the failure to the monitor). */
  onCrash: ((error: ProcessExitError) => void) | null = null;
  log: Logger = silentLogger;
  /** The type's `onOutput` option. */
  onOutput: ProcessTypeOptions['onOutput'] = undefined;
  /** `stderr.written` when the current process started: a failure quotes only its own lines. */
  stderrMark = 0;
  /** Descendants that left the process group, found when a stop began (killed with the group). */
  strays: Stray[] = [];
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;

  constructor(
    readonly resource: string,
    lines: number,
  ) {
    this.stdout = new OutputTail(lines, (line) => this.log.info({ stream: 'stdout', pid: this.pid }, line));
    this.stderr = new OutputTail(lines, (line) => this.log.info({ stream: 'stderr', pid: this.pid }, line));
  }

  /** The picture `output()` returns. */
  output(): ProcessOutput {
    return {
      pid: this.pid,
      running: this.running,
      lastExit: this.lastExit ? { ...this.lastExit } : null,
      stdout: this.stdout.lines(),
      stderr: this.stderr.lines(),
    };
  }
}

/** The `process` resource type, with a way to read its resources' output. */
export interface ProcessResourceType extends ResourceType<ProcessConfig, ProcessHandle> {
  /**
   * The last lines of stdout and stderr, the pid and the last exit of the resource `resource`
   * of this type, or null when there is none (it was never brought online, or was removed).
   * Resources are found by name: when one type object serves several monitors that reuse
   * names, give each monitor its own with `createProcessType()`.
   */
  output(resource: string): ProcessOutput | null;
  /**
   * SIGKILLs every process group of this type's resources at once, synchronously: the last
   * resort when a graceful shutdown takes too long (`resmon run` on a second Ctrl-C).
   */
  killAll(): void;
}

const SIGNALS = Object.keys(constants.signals);
/** How long an exited process's output may take to arrive before its exit is reported. */
const DRAIN_MS = 200;
const KEYS = ['command', 'args', 'cwd', 'env', 'stopSignal', 'stopTimeout', 'readiness', 'health', 'startTimeout', 'outputLines'];

/** Checks a process resource's properties; throws `ConfigError` naming the field. */
export function validateProcessProperties(properties: unknown): ProcessConfig {
  const p = objectAt(properties, 'properties', 'an object with at least `command`');
  onlyKeys(p, KEYS, '');
  const command = stringAt(p, 'command', '', true);
  const stopSignal = p.stopSignal ?? 'SIGTERM';
  if (typeof stopSignal !== 'string' || !SIGNALS.includes(stopSignal)) {
    throw new ConfigError('stopSignal', stopSignal, 'must be a signal name such as SIGTERM, SIGINT or SIGQUIT');
  }
  let readiness: ProcessConfig['readiness'] = null;
  if (p.readiness !== undefined) {
    const probe = parseProbe(p.readiness, 'readiness', ['interval']);
    const interval = numberAt(objectAt(p.readiness, 'readiness'), 'interval', 'readiness', 500, { min: 0, exclusive: true });
    readiness = { probe, interval };
  }
  const cwd = stringAt(p, 'cwd', '');
  const args = stringsAt(p, 'args', '');
  const env = stringMapAt(p, 'env', '');
  noNul('command', command);
  if (cwd !== undefined) noNul('cwd', cwd);
  args.forEach((arg, i) => noNul(`args[${i}]`, arg));
  for (const [name, value] of Object.entries(env)) {
    noNul(`env.${name}`, name, 'its name');
    noNul(`env.${name}`, value);
  }
  return {
    command,
    args,
    cwd: cwd === undefined ? undefined : path.resolve(cwd),
    env,
    stopSignal: stopSignal as NodeJS.Signals,
    stopTimeout: numberAt(p, 'stopTimeout', '', 10_000, { min: 0 }),
    readiness,
    health: p.health === undefined ? null : parseProbe(p.health, 'health'),
    startTimeout: numberAt(p, 'startTimeout', '', 60_000, { min: 0, exclusive: true }),
    outputLines: numberAt(p, 'outputLines', '', 50, { min: 0, max: 10_000, integer: true }),
  };
}

/** The operating system cannot pass a string holding a NUL byte to a program: a ConfigError. */
function noNul(field: string, value: string, what = 'it'): void {
  if (value.includes('\0')) throw new ConfigError(field, value, `must not contain a NUL byte (${what} cannot be passed to a program)`);
}

function describeExit(exit: ProcessExit): string {
  return exit.code !== null ? `code ${exit.code}` : `signal ${exit.signal}`;
}

function exitError(h: ProcessHandle, config: ProcessConfig, when: string): ProcessExitError {
  const exit = h.lastExit ?? { code: null, signal: null, at: Date.now() };
  const stderr = h.stderr.since(h.stderrMark, 5);
  const tail = stderr.length ? `; last stderr: ${stderr.join(' | ')}` : '';
  return new ProcessExitError(`${config.command} (pid ${h.pid}) exited with ${describeExit(exit)} ${when}${tail}`, exit, stderr);
}

/** Resolves with true when `exited` (the process's exit) resolves within `ms`, false after; rejects with the signal's reason when it aborts. */
function exitsWithin(exited: Promise<unknown>, ms: number, signal: AbortSignal): Promise<boolean> {
  return abortable(
    exited.then(() => true),
    { timeoutMs: ms, signal, onTimeout: () => false },
  );
}

/** Whether two configs start the same process (command, args, cwd and env). */
function sameStart(a: ProcessConfig, b: ProcessConfig): boolean {
  const envA = Object.entries(a.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const envB = Object.entries(b.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return a.command === b.command && a.cwd === b.cwd && JSON.stringify(a.args) === JSON.stringify(b.args) && JSON.stringify(envA) === JSON.stringify(envB);
}

/** Spawns the process in a group of its own; resolves once it runs, rejects if it cannot start. */
function start(h: ProcessHandle, config: ProcessConfig, log: Logger): Promise<void> {
  h.log = log;
  h.lastExit = null;
  h.strays = [];
  h.stderr.flush(); // a partial line of the previous run is that run's
  h.stdout.flush();
  h.stderrMark = h.stderr.written;
  const child = spawn(config.command, [...config.args], {
    cwd: config.cwd,
    env: { ...process.env, ...config.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  h.child = child;
  h.pid = child.pid ?? null;
  h.running = child.pid !== undefined;
  const pid = child.pid;
  if (pid !== undefined) trackGroup(pid);
  child.stdout?.on('data', (chunk: Buffer) => {
    h.stdout.write(chunk);
    h.onOutput?.(h.resource, 'stdout', chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    h.stderr.write(chunk);
    h.onOutput?.(h.resource, 'stderr', chunk);
  });
  let settleExit!: (exit: ProcessExit) => void;
  h.exited = new Promise<ProcessExit>((resolve) => {
    settleExit = resolve;
  });
  child.once('exit', (code, signal) => {
    const exit: ProcessExit = { code, signal, at: Date.now() };
    if (pid !== undefined) {
      // The leader is gone: whatever it left in its group goes too, and the strays a stop found.
      signalGroup(pid, 'SIGKILL');
      signalStrays(h.strays, 'SIGKILL');
      untrackGroup(pid);
    }
    // Let its last output arrive (the pipes close once the group is gone) before telling anyone.
    let reported = false;
    const drained = () => {
      if (reported) return;
      reported = true;
      clearTimeout(timer);
      h.stdout.flush();
      h.stderr.flush();
      h.running = false;
      h.lastExit = exit;
      if (h.child === child) h.child = null;
      const crash = h.onCrash;
      h.onCrash = null;
      crash?.(exitError(h, config, 'while online'));
      settleExit(exit);
    };
    const timer = setTimeout(drained, DRAIN_MS);
    child.once('close', drained);
  });
  return new Promise<void>((resolve, reject) => {
    child.once('spawn', () => {
      child.on('error', (error) => log.warn({ err: error }, `process error: ${error.message}`));
      resolve();
    });
    child.once('error', (error) => {
      if (h.running) return;
      h.child = null;
      h.lastExit = { code: null, signal: null, at: Date.now() };
      settleExit(h.lastExit);
      reject(new Error(`could not start ${JSON.stringify(config.command)}${config.cwd ? ` in ${config.cwd}` : ''}: ${error.message}`));
    });
  });
}

/** Adds the descendants of the leader that left its group now to those found before. */
function findStrays(h: ProcessHandle, pid: number): Stray[] {
  const known = new Set(h.strays.map((s) => s.pid));
  for (const stray of strayDescendants(pid)) if (!known.has(stray.pid)) h.strays.push(stray);
  return h.strays;
}

/** SIGKILLs the group and the strays outside it, synchronously. */
function killNow(h: ProcessHandle): void {
  if (!h.running || h.pid === null) return;
  signalStrays(findStrays(h, h.pid), 'SIGKILL');
  signalGroup(h.pid, 'SIGKILL');
}

/** Sends SIGKILL to the group and waits for the leader to exit (or the signal to abort). */
async function kill(h: ProcessHandle, signal: AbortSignal): Promise<void> {
  h.onCrash = null;
  if (!h.running || h.pid === null) return;
  killNow(h);
  await exitsWithin(h.exited, Number.POSITIVE_INFINITY, signal);
}

/** Options of {@link createProcessType}. */
export interface ProcessTypeOptions {
  /** The type's name. @default 'process' */
  name?: string;
  /**
   * Called with every chunk a process writes, as it comes (what `resmon run` writes to its log
   * files). Must not throw; it runs on the hot path of the output.
   */
  onOutput?: (resource: string, stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

/**
 * Creates a `process` resource type. Each one keeps its own registry of resources for
 * `output()`; the exported {@link processType} is one such instance.
 *
 * online spawns `command` in a process group of its own and resolves when the readiness probe
 * passes (rejecting at once if the process exits first, with its exit code and the last lines
 * of its stderr); looksAlive checks it still runs; isAlive runs the health probe; offline sends
 * `stopSignal` to the group, then SIGKILL after `stopTimeout`; terminate SIGKILLs the group at
 * once. When the process exits by itself while online, the monitor is told at once
 * (`reportFailure`). stdout and stderr lines go to the monitor's logger and are kept for
 * `output()`.
 *
 * `monitor.setProperties()` while online: a change of `command`, `args`, `cwd` or `env` (what
 * the running process was started with) is `'stored'` and takes effect at the next online;
 * otherwise (`stopSignal`, `stopTimeout`, `health`, `readiness`, `startTimeout`, `outputLines`)
 * it is applied at once: the next offline, check or online uses it.
 */
export function createProcessType(options: string | ProcessTypeOptions = {}): ProcessResourceType {
  const { name = 'process', onOutput } = typeof options === 'string' ? { name: options } : options;
  const handles = new Map<string, ProcessHandle>();
  const type: ProcessResourceType = {
    name,
    defaults: { isAlivePollInterval: 10_000 },
    validate: validateProcessProperties,
    open(ctx: ResourceContext<ProcessConfig, undefined>) {
      const handle = new ProcessHandle(ctx.resource, ctx.properties.outputLines);
      handle.onOutput = onOutput;
      handles.set(ctx.resource, handle);
      return handle;
    },
    async online(ctx) {
      const h = ctx.handle;
      const config = ctx.properties;
      if (h.running) {
        ctx.log.warn(`a process of an earlier attempt (pid ${h.pid}) still runs; killing its group`);
        await kill(h, ctx.signal);
      }
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await start(h, config, ctx.log);
      ctx.reportProgress(`started pid ${h.pid}`);
      const stopped = new AbortController();
      void h.exited.then(() => stopped.abort(new Error('the process exited')));
      if (config.readiness) {
        try {
          await untilReady(config.readiness.probe, {
            signal: AbortSignal.any([ctx.signal, stopped.signal]),
            interval: config.readiness.interval,
            startTimeout: config.startTimeout,
            onRetry: (message) => ctx.reportProgress(message),
            options: { cwd: config.cwd, env: { ...process.env, ...config.env } },
          });
        } catch (error) {
          if (!h.running && !ctx.signal.aborted) throw exitError(h, config, 'before it was ready');
          throw error;
        }
      }
      if (!h.running) throw exitError(h, config, 'before it was ready');
      if (!ctx.signal.aborted) h.onCrash = (error) => ctx.reportFailure(error);
    },
    async offline(ctx) {
      const h = ctx.handle;
      h.onCrash = null;
      if (!h.running || h.pid === null) return;
      const { stopSignal, stopTimeout } = ctx.properties;
      const pid = h.pid;
      signalStrays(findStrays(h, pid), stopSignal);
      signalGroup(pid, stopSignal);
      ctx.reportProgress(`sent ${stopSignal} to process group ${pid}; SIGKILL in ${stopTimeout} ms`);
      if (await exitsWithin(h.exited, stopTimeout, ctx.signal)) return;
      ctx.log.warn(`pid ${pid} did not exit within stopTimeout (${stopTimeout} ms) of ${stopSignal}; sending SIGKILL`);
      ctx.reportProgress(`sent SIGKILL to process group ${pid}`);
      await kill(h, ctx.signal);
    },
    terminate: (ctx) => kill(ctx.handle, ctx.signal),
    applyProperties(ctx, next, previous) {
      if (!sameStart(next, previous)) return 'stored';
      ctx.handle?.stdout.resize(next.outputLines);
      ctx.handle?.stderr.resize(next.outputLines);
      return undefined;
    },
    looksAlive(ctx) {
      const h = ctx.handle;
      if (h.running) return true;
      throw new Error(h.lastExit ? `process exited with ${describeExit(h.lastExit)}` : 'process is not running');
    },
    async isAlive(ctx) {
      const h = ctx.handle;
      const config = ctx.properties;
      if (!h.running) throw new Error(h.lastExit ? `process exited with ${describeExit(h.lastExit)}` : 'process is not running');
      if (config.health) await runProbe(config.health, ctx.signal, { cwd: config.cwd, env: { ...process.env, ...config.env } });
      return true;
    },
    async close(ctx) {
      const h = ctx.handle;
      if (h.running) await kill(h, ctx.signal);
      if (handles.get(ctx.resource) === h) handles.delete(ctx.resource);
    },
    output: (resource) => handles.get(resource)?.output() ?? null,
    killAll() {
      for (const h of handles.values()) {
        h.onCrash = null;
        killNow(h);
      }
    },
  };
  return type;
}

/**
 * The built-in `process` resource type: register it with `monitor.registerType(processType)`.
 * See {@link createProcessType} for what it does and {@link ProcessProperties} for its properties.
 */
export const processType: ProcessResourceType = createProcessType();


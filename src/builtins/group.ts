/**
 * Process groups: every child the built-in types spawn leads a group of its own
 * (`detached: true`), so a signal to `-pid` reaches it and everything it forked.
 *
 * Nothing is left behind, however this Node process ends:
 * - it exits (an uncaught exception, `process.exit()`): a synchronous `exit` hook SIGKILLs the
 *   groups still alive;
 * - it dies of a signal it does not handle (SIGTERM, SIGHUP) or of SIGKILL: no code of ours
 *   runs, so a **watchdog** does it. The first tracked group starts one small `/bin/sh` process
 *   (its own session, ignoring SIGHUP/SIGINT/SIGTERM/SIGQUIT) whose stdin is a pipe from this
 *   process; each group is announced on the pipe (`+pgid`, `-pgid` when it is gone). When this
 *   process dies the kernel closes the pipe, the watchdog reads end-of-file, sends SIGTERM to
 *   every group still announced, then SIGKILL one second later, and exits. One watchdog serves
 *   the whole Node process, whatever the number of children.
 *
 * Limits: a group announced in the microseconds between `spawn` and the write to the pipe is
 * missed if this process is SIGKILLed exactly then; a process that leaves its group
 * (`setsid`, `detached: true`) is not a member of any announced group (see
 * {@link strayDescendants} for how `offline` and `terminate` still find it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

const live = new Set<number>();
let hooked = false;

function killAllOnExit(): void {
  for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  live.clear();
}

/**
 * Sends `signal` to the process group `pgid`. False when the group no longer exists;
 * other errors (EPERM) are thrown.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

// The watchdog's script (dash, bash and busybox sh alike): keep the announced groups in a
// space-separated list; on end-of-file, TERM them, wait a second, KILL them.
const WATCHDOG = [
  "trap '' HUP INT TERM QUIT",
  "g=' '",
  'while read -r op p; do',
  '  case $op in',
  '    +) g="$g$p " ;;',
  '    -) case "$g" in *" $p "*) g="${g%% $p *} ${g#* $p }" ;; esac ;;',
  '  esac',
  'done',
  'for p in $g; do kill -15 -$p 2>/dev/null; done',
  '[ "$g" = " " ] || sleep 1',
  'for p in $g; do kill -9 -$p 2>/dev/null; done',
].join('\n');

let watchdog: ChildProcess | null = null;

/** Writes one line to the watchdog, starting it first when none runs (POSIX only). */
function tellWatchdog(line: string): void {
  if (process.platform === 'win32') return;
  if (watchdog === null || watchdog.exitCode !== null || watchdog.signalCode !== null || !watchdog.stdin?.writable) {
    if (line.startsWith('-')) return; // nothing to forget in a new watchdog
    startWatchdog();
    return; // startWatchdog announced every live group, this one included
  }
  watchdog.stdin.write(line);
}

function startWatchdog(): void {
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch {
    watchdog = null;
    return;
  }
  watchdog = child;
  // Neither the watchdog nor its pipe may keep this process alive.
  child.unref();
  const stdin = child.stdin as Socket | null;
  stdin?.on('error', () => {
    if (watchdog === child) watchdog = null; // it died: the next announcement starts another
  });
  child.on('error', () => {
    if (watchdog === child) watchdog = null;
  });
  child.on('exit', () => {
    if (watchdog === child) watchdog = null;
  });
  stdin?.unref();
  if (live.size > 0) stdin?.write([...live].map((pgid) => `+ ${pgid}\n`).join(''));
}

/** The watchdog's pid, or null when none runs (for tests and diagnostics). */
export function watchdogPid(): number | null {
  return watchdog?.pid ?? null;
}

/** Remembers a live group for the exit hook and the watchdog. */
export function trackGroup(pgid: number): void {
  live.add(pgid);
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllOnExit);
  }
  tellWatchdog(`+ ${pgid}\n`);
}

/** Forgets a group (its leader exited and the rest were killed); drops the hook when none is left. */
export function untrackGroup(pgid: number): void {
  if (!live.delete(pgid)) return;
  tellWatchdog(`- ${pgid}\n`);
  if (live.size === 0 && hooked) {
    hooked = false;
    process.off('exit', killAllOnExit);
  }
}

/** The groups alive now (for tests and diagnostics). */
export function liveGroups(): number[] {
  return [...live];
}

/** A process found by {@link strayDescendants}: its pid and its start time (to tell a reused pid). */
export interface Stray {
  readonly pid: number;
  /** Field 22 of `/proc/PID/stat` (clock ticks after boot). */
  readonly start: string;
}

/** `[ppid, pgid, starttime]` of a process from /proc, or null when it is gone. */
function stat(pid: number): [number, number, string] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // After the command name (in parentheses, which may itself hold spaces and parentheses).
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  return [Number(fields[1]), Number(fields[2]), fields[19] ?? ''];
}

/**
 * The descendants of `pid` that have left its process group (a `setsid`, or a grandchild
 * spawned with `detached: true`): a walk of /proc (Linux; elsewhere an empty list). Only
 * processes still descended from `pid` are found: one whose parent already exited has been
 * reparented (to init or a subreaper) and is out of reach.
 */
export function strayDescendants(pid: number): Stray[] {
  if (process.platform !== 'linux') return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, { pid: number; pgid: number; start: string }[]>();
  for (const entry of entries) {
    const child = Number(entry);
    if (!Number.isInteger(child) || child <= 0) continue;
    const s = stat(child);
    if (!s) continue;
    const list = children.get(s[0]);
    const item = { pid: child, pgid: s[1], start: s[2] };
    if (list) list.push(item);
    else children.set(s[0], [item]);
  }
  const out: Stray[] = [];
  const queue = [pid];
  const seen = new Set<number>(queue);
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const child of children.get(parent) ?? []) {
      if (seen.has(child.pid)) continue;
      seen.add(child.pid);
      queue.push(child.pid);
      if (child.pgid !== pid) out.push({ pid: child.pid, start: child.start });
    }
  }
  return out;
}

/**
 * Sends `signal` to each stray that still is the same process (same start time), and to the
 * group it leads when it leads one. Never throws.
 */
export function signalStrays(strays: readonly Stray[], signal: NodeJS.Signals): void {
  for (const stray of strays) {
    const now = stat(stray.pid);
    if (!now || now[2] !== stray.start) continue;
    try {
      if (now[1] === stray.pid) process.kill(-stray.pid, signal);
      else process.kill(stray.pid, signal);
    } catch {
      // gone meanwhile, or not ours to signal
    }
  }
}

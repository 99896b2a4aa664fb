/**
 * Process groups: every child the built-in types spawn leads a group of its own
 * (`detached: true`), so a signal to `-pid` reaches it and everything it forked.
 *
 * The groups still alive are also remembered here, so that if this Node process exits
 * while some are up (an uncaught exception, `process.exit()`), a synchronous `exit` hook
 * kills them: no orphans. (Nothing can help when this process is killed with SIGKILL.)
 */
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

/** Remembers a live group for the exit hook. */
export function trackGroup(pgid: number): void {
  live.add(pgid);
  if (!hooked) {
    hooked = true;
    process.on('exit', killAllOnExit);
  }
}

/** Forgets a group (its leader exited and the rest were killed); drops the hook when none is left. */
export function untrackGroup(pgid: number): void {
  live.delete(pgid);
  if (live.size === 0 && hooked) {
    hooked = false;
    process.off('exit', killAllOnExit);
  }
}

/** The groups alive now (for tests and diagnostics). */
export function liveGroups(): number[] {
  return [...live];
}

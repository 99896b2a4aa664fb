import type { Logger } from './logger.js';
import type { OnlineAttempt } from './attempt.js';
import { reasonOf } from './errors.js';
import type { PluginCalls } from './plugin-calls.js';

/** What taking a resource offline needs from it (the resource itself). */
export interface OfflineOwner {
  /** The number of the operation in charge of the resource now. */
  currentOp(): number;
  /** The offline of operation `op` is over: offline-pending -> offline with `why`, if `op` is still in charge. */
  wentOffline(op: number, why: string): void;
}

/**
 * The calls of an `offline()` from online or online-pending (DESIGN §3, §5.2), as operation `op`
 * of `owner`. From online-pending, the attempt's online was abandoned: wait until it settles,
 * and terminate instead if it has not settled within abortGrace. Then the plugin's `offline`
 * (not started once `stop` aborts: a terminate() superseded it); if that fails or makes no
 * progress for pendingTimeout, terminate. `completed` is the reason of the last state change
 * when offline succeeds. Never rejects.
 */
export async function takeOffline(
  owner: OfflineOwner,
  calls: PluginCalls,
  log: Logger,
  abortGrace: number,
  op: number,
  attempt: OnlineAttempt | null,
  reason: string,
  completed: string,
  stop: AbortSignal,
): Promise<void> {
  if (attempt) {
    await attempt.done;
    const call = attempt.onlineCall;
    if (!call) return owner.wentOffline(op, `${reason} before online started`);
    await call.released;
    if (owner.currentOp() !== op) return;
    if (!call.settled) {
      await calls.terminate(op, `online did not settle within abortGrace (${abortGrace} ms) after ${reason}`);
      return owner.wentOffline(op, `${reason}; online did not settle within abortGrace, so it was terminated`);
    }
  }
  const out = await calls.offline(op, stop);
  calls.ended('offline', out);
  if (owner.currentOp() !== op) return;
  if (out.kind === 'ok') return owner.wentOffline(op, completed);
  if (out.kind === 'abandoned') return;
  const why = out.kind === 'timeout' ? `offline made no progress for ${out.timeoutMs} ms (pendingTimeout)` : `offline failed: ${reasonOf(out.error)}`;
  log.warn(`${why}; terminating`);
  await calls.terminate(op, why);
  owner.wentOffline(op, `${why}; terminated`);
}

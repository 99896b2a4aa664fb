import { abortable } from './abort.js';
import type { Clock } from './clock.js';
import type { TypeBinding } from './types.js';

/** The least time an attempt waits for its isolation host to start before calling into it anyway. */
export const HOST_START_WAIT_MS = 30_000;

/**
 * For a hosted type whose host is still starting: a promise that settles once the host is
 * ready, after `max(deadlockTimeout, 30 s)`, or when `signal` aborts, whichever is first. It
 * never rejects: the caller checks afterwards whether its attempt still counts. Null when the
 * resource's calls need not wait (inline types, a host that runs).
 *
 * The wait is outside any call's deadline: a host's start-up is not the plugin's time.
 */
export function hostReady(binding: TypeBinding, resource: string, deadlockTimeout: number, scope: { readonly signal: AbortSignal }, clock: Clock): Promise<void> | null {
  const ready = binding.ready?.(resource);
  if (!ready) return null;
  return abortable(ready, {
    timeoutMs: Math.max(deadlockTimeout, HOST_START_WAIT_MS),
    signal: scope.signal,
    clock,
    onTimeout: () => undefined,
  }).catch(() => {});
}

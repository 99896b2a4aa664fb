import { type Clock, systemClock } from '../clock.js';
import type { LeaseHolder, LeaseStore } from './store.js';

/** Options of {@link memoryLeases}. */
export interface MemoryLeasesOptions {
  /**
   * Where expiry reads the time.
   * @default systemClock (`Date.now()`, so `vi.useFakeTimers()` drives it)
   */
  clock?: Clock;
}

interface Entry {
  node: string | null;
  token: number;
  expiresAt: number;
}

/**
 * A lease store in this process's memory: for tests, and for a single machine (several monitors
 * in one process). Members that share ownership must share the one store object. `close()` does
 * nothing (the store has no connections), so each member may close it.
 *
 * @example
 * ```ts
 * const leases = memoryLeases();
 * const a = new ClusterMember(monitorA, { node: 'a', leases, ttl: 3_000 });
 * const b = new ClusterMember(monitorB, { node: 'b', leases, ttl: 3_000 });
 * ```
 */
export function memoryLeases(options: MemoryLeasesOptions = {}): LeaseStore {
  const clock = options.clock ?? systemClock;
  const entries = new Map<string, Entry>();
  const live = (unit: string): Entry | undefined => {
    const e = entries.get(unit);
    return e && e.node !== null && e.expiresAt > clock.now() ? e : undefined;
  };
  return {
    async acquire(unit, node, ttlMs) {
      if (live(unit)) return null;
      const token = (entries.get(unit)?.token ?? 0) + 1;
      entries.set(unit, { node, token, expiresAt: clock.now() + ttlMs });
      return token;
    },
    async renew(unit, node, token, ttlMs) {
      const e = live(unit);
      if (!e || e.node !== node || e.token !== token) return false;
      e.expiresAt = clock.now() + ttlMs;
      return true;
    },
    async release(unit, node, token) {
      const e = entries.get(unit);
      if (e && e.node === node && e.token === token) e.node = null;
    },
    async holder(unit): Promise<LeaseHolder | null> {
      const e = live(unit);
      return e ? { node: e.node as string, token: e.token } : null;
    },
    async close() {},
  };
}

import { type Clock, systemClock } from '../clock.js';
import type { LeaseChange, LeaseHolder, LeaseStore } from './store.js';

/** Options of {@link memoryLeases}. */
export interface MemoryLeasesOptions {
  /**
   * Where expiry and the failover window read the time.
   * @default systemClock (`Date.now()`, so `vi.useFakeTimers()` drives it)
   */
  clock?: Clock;
}

interface Entry {
  node: string | null;
  token: number;
  expiresAt: number;
  offline: boolean;
  failovers: number[];
}

/**
 * A lease store in this process's memory: for tests, and for a single machine (several monitors
 * in one process). Members that share ownership must share the one store object. `close()` does
 * nothing (the store has no connections), so each member may close it. It reports grants and
 * releases to its watchers at once; an expiry is not announced: `holder()` gives `expiresIn`, and
 * members wake at that moment.
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
  const listeners = new Set<(change: LeaseChange) => void>();
  const alive = new Map<string, number>();
  const live = (unit: string): Entry | undefined => {
    const e = entries.get(unit);
    return e && e.node !== null && e.expiresAt > clock.now() ? e : undefined;
  };
  const held = (unit: string, node: string, token: number): Entry | undefined => {
    const e = live(unit);
    return e && e.node === node && e.token === token ? e : undefined;
  };
  const notify = (change: LeaseChange) => {
    for (const listener of [...listeners]) listener(change);
  };
  return {
    async acquire(unit, node, ttlMs) {
      if (live(unit)) return null;
      const prev = entries.get(unit);
      const e: Entry = { node, token: (prev?.token ?? 0) + 1, expiresAt: clock.now() + ttlMs, offline: prev?.offline ?? false, failovers: prev?.failovers ?? [] };
      entries.set(unit, e);
      notify({ unit, holder: { node, token: e.token } });
      return { token: e.token, offline: e.offline };
    },
    async renew(unit, node, token, ttlMs) {
      const e = held(unit, node, token);
      if (!e) return false;
      e.expiresAt = clock.now() + ttlMs;
      return true;
    },
    async release(unit, node, token) {
      const e = entries.get(unit);
      if (!e || e.node !== node || e.token !== token) return;
      e.node = null;
      notify({ unit, holder: null });
    },
    async holder(unit): Promise<LeaseHolder | null> {
      const e = live(unit);
      return e ? { node: e.node as string, token: e.token, expiresIn: e.expiresAt - clock.now() } : null;
    },
    async setOffline(unit, node, token, offline) {
      const e = held(unit, node, token);
      if (!e) return false;
      e.offline = offline;
      return true;
    },
    async countFailover(unit, node, token, threshold, periodMs) {
      const e = held(unit, node, token);
      if (!e) return false;
      const now = clock.now();
      e.failovers = e.failovers.filter((t) => t > now - periodMs);
      if (e.failovers.length >= threshold) return false;
      e.failovers.push(now);
      return true;
    },
    async heartbeat(node, ttlMs) {
      alive.set(node, clock.now() + ttlMs);
    },
    async members() {
      const now = clock.now();
      return [...alive].filter(([, until]) => until > now).map(([node]) => node).sort();
    },
    async leave(node) {
      alive.delete(node);
    },
    watch(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {},
  };
}

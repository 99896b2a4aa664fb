/**
 * The lease store contract of `resmon/cluster`: what a {@link ClusterMember} needs of the engine
 * that decides who owns a unit. `memoryLeases`, `etcdLeases` and `postgresLeases` implement it;
 * another engine can too.
 *
 * @module
 */

/** Who holds a unit's lease, as the store sees it. */
export interface LeaseHolder {
  /** The holder's node name. */
  node: string;
  /** The lease's fencing token. */
  token: number;
}

/**
 * A lease store. Every method may reject (the store is unreachable); the member then retries at
 * its next round, and its own clock keeps it safe meanwhile.
 *
 * Rules an implementation must keep:
 * - `acquire` grants a unit only when no unexpired lease holds it, atomically (compare-and-set),
 *   and expires the lease `ttlMs` after it took effect, measured by the store.
 * - Each grant of a unit gets a token strictly greater than every earlier grant of that unit.
 * - `renew` extends only the lease with that node and token, only while it has not expired.
 */
export interface LeaseStore {
  /** Grants `unit` to `node` for `ttlMs`: resolves with the fencing token, or `null` when another lease holds it. */
  acquire(unit: string, node: string, ttlMs: number): Promise<number | null>;
  /** Extends the lease by `ttlMs` from now: `true`, or `false` when it has expired or is not this one. */
  renew(unit: string, node: string, token: number, ttlMs: number): Promise<boolean>;
  /** Ends the lease at once if it is still this one (otherwise does nothing). */
  release(unit: string, node: string, token: number): Promise<void>;
  /** The unexpired lease on `unit`, or `null` when it is free. */
  holder(unit: string): Promise<LeaseHolder | null>;
  /** Releases the store's connections and timers. Called by `ClusterMember.stop()`. Idempotent. */
  close(): Promise<void>;
}

/** The methods every {@link LeaseStore} has, to check a user-given one. */
export const LEASE_STORE_METHODS = ['acquire', 'renew', 'release', 'holder', 'close'] as const;

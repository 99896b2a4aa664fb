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
  /**
   * Milliseconds until the lease runs out unless renewed, measured by the store when it answered.
   * A store that announces expiries through {@link LeaseStore.watch} may leave it out; otherwise
   * members wake at that moment (on their own clocks) to take the unit over.
   */
  expiresIn?: number;
}

/** A granted lease: what {@link LeaseStore.acquire} resolves with. */
export interface LeaseGrant {
  /** The fencing token, strictly greater than every earlier grant's for the unit. */
  token: number;
  /** The unit was taken offline cluster-wide (`ClusterMember.offline()`): the new holder keeps it offline. */
  offline: boolean;
}

/** A change {@link LeaseStore.watch} reports. */
export interface LeaseChange {
  /** The unit. */
  unit: string;
  /** The new holder, or `null` when the lease ended (released, or expired). */
  holder: LeaseHolder | null;
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
 * - A unit's state besides its lease (the offline flag, the failover count) outlives its leases
 *   and changes only through its current holder (node and token compared).
 */
export interface LeaseStore {
  /** Grants `unit` to `node` for `ttlMs`: resolves with the token and the unit's offline flag, or `null` when another lease holds it. */
  acquire(unit: string, node: string, ttlMs: number): Promise<LeaseGrant | null>;
  /** Extends the lease by `ttlMs` from now: `true`, or `false` when it has expired or is not this one. */
  renew(unit: string, node: string, token: number, ttlMs: number): Promise<boolean>;
  /** Ends the lease at once if it is still this one (otherwise does nothing). */
  release(unit: string, node: string, token: number): Promise<void>;
  /** The unexpired lease on `unit`, or `null` when it is free. */
  holder(unit: string): Promise<LeaseHolder | null>;
  /**
   * Sets the unit's cluster-wide offline flag (kept across leases, read by `acquire`), if this
   * lease (node, token) still holds it: `true`, else `false` and nothing changes.
   */
  setOffline(unit: string, node: string, token: number, offline: boolean): Promise<boolean>;
  /**
   * Counts one failover of `unit` for the whole cluster, if this lease (node, token) still holds
   * it and fewer than `threshold` failovers were counted within the last `periodMs` (the store's
   * clock where it has one): `true` when counted, `false` (nothing counted) otherwise.
   */
  countFailover(unit: string, node: string, token: number, threshold: number, periodMs: number): Promise<boolean>;
  /**
   * Optional: calls `listener` when a unit's lease is granted or ends (released, or expired where
   * the store notices expiry itself), until the returned function is called. Members then take a
   * freed unit over at once instead of at their next round. Changes may be missed while the store
   * is unreachable; the members' rounds every `ttl / 3` catch up.
   */
  watch?(listener: (change: LeaseChange) => void): () => void;
  /**
   * Optional, with `members` and `leave` (the built-in stores have all three): records that
   * `node` is alive for `ttlMs` (the store's clock). Members call it every `ttl / 3`, so that
   * preference skips members that are down, and the default `failoverThreshold` is (members - 1).
   */
  heartbeat?(node: string, ttlMs: number): Promise<void>;
  /** The nodes whose heartbeat has not expired, sorted. */
  members?(): Promise<string[]>;
  /** Removes `node`'s heartbeat at once (`ClusterMember.stop()`). */
  leave?(node: string): Promise<void>;
  /** Releases the store's connections and timers. Called by `ClusterMember.stop()`. Idempotent. */
  close(): Promise<void>;
}

/** The methods every {@link LeaseStore} has, to check a user-given one. */
export const LEASE_STORE_METHODS = ['acquire', 'renew', 'release', 'holder', 'setOffline', 'countFailover', 'close'] as const;

import type { Etcd3, IOptions, Lease, Watcher } from 'etcd3';
import { ConfigError } from '../errors.js';
import type { LeaseChange, LeaseHolder, LeaseStore } from './store.js';

/** Options of {@link etcdLeases}. */
export interface EtcdLeasesOptions {
  /** The etcd endpoints: `'127.0.0.1:2379'`, `'http://10.0.0.1:2379,http://10.0.0.2:2379'` or an array. */
  hosts: string | readonly string[];
  /**
   * The key prefix of the unit keys (`<prefix><unit>`).
   * @default 'resmon/units/'
   */
  prefix?: string;
  /**
   * The key prefix of each unit's state besides its lease (`<statePrefix><unit>`: the offline
   * flag and the failover times, as JSON). It must not overlap `prefix`.
   * @default 'resmon/unit-state/'
   */
  statePrefix?: string;
  /**
   * The key prefix of the members' heartbeats (`<membersPrefix><node>`, each attached to an etcd
   * lease of the member's `ttl`). It must not overlap `prefix` or `statePrefix`.
   * @default 'resmon/members/'
   */
  membersPrefix?: string;
  /**
   * Deadline of each etcd call, in milliseconds.
   * @default 2_000
   */
  callTimeout?: number;
  /** More options for the `etcd3` client (credentials, auth); `hosts` and call deadlines come from above. */
  client?: Omit<IOptions, 'hosts'>;
}

/**
 * A lease store on etcd 3.4+ through the `etcd3` client (an optional peer dependency: install
 * `etcd3` yourself). A unit's lease is an etcd lease with the member's `ttl` (rounded up to whole
 * seconds, at least 2), attached to the key `<prefix><unit>`, which a transaction creates only if
 * it does not exist. The fencing token is the key's create revision: etcd's revision counter only
 * grows, so each grant of a unit gets a higher token. Renewal is a lease keep-alive; release
 * revokes the lease (which deletes the key). Expiry is etcd's own clock. Members watch the
 * prefix: etcd reports a key's deletion (a release, or an expiry: etcd's leader checks for
 * expired leases every 500 ms) and members take the unit over at once. A unit's offline flag and
 * failover times live in `<statePrefix><unit>`, written by a transaction that also checks the
 * writer's lease (the failover times are the writer's `Date.now()`). Each member's heartbeat is
 * the key `<membersPrefix><node>` on an etcd lease of its own.
 *
 * @example
 * ```ts
 * const member = new ClusterMember(monitor, { node: 'node-a', leases: etcdLeases({ hosts: '10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379' }), ttl: 10_000 });
 * ```
 */
export function etcdLeases(options: EtcdLeasesOptions): LeaseStore {
  const context = 'etcdLeases()';
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'must be an object { hosts }', { context });
  const { hosts, prefix = 'resmon/units/', statePrefix = 'resmon/unit-state/', membersPrefix = 'resmon/members/', callTimeout = 2_000 } = options;
  const list = (typeof hosts === 'string' ? hosts.split(',') : Array.isArray(hosts) ? [...hosts] : null)?.map((h) => String(h).trim()).filter((h) => h.length > 0);
  if (!list || list.length === 0) throw new ConfigError('hosts', hosts, "must be etcd endpoints: 'host:port', comma-separated, or an array", { context });
  if (typeof prefix !== 'string') throw new ConfigError('prefix', prefix, 'must be a string', { context });
  if (typeof statePrefix !== 'string' || statePrefix.length === 0 || statePrefix.startsWith(prefix) || prefix.startsWith(statePrefix)) {
    throw new ConfigError('statePrefix', statePrefix, `must be a non-empty string that does not overlap prefix ("${prefix}")`, { context });
  }
  const overlaps = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  if (typeof membersPrefix !== 'string' || membersPrefix.length === 0 || overlaps(membersPrefix, prefix) || overlaps(membersPrefix, statePrefix)) {
    throw new ConfigError('membersPrefix', membersPrefix, `must be a non-empty string that does not overlap prefix ("${prefix}") or statePrefix ("${statePrefix}")`, { context });
  }
  if (typeof callTimeout !== 'number' || !Number.isFinite(callTimeout) || callTimeout <= 0) {
    throw new ConfigError('callTimeout', callTimeout, 'must be a finite number > 0 (milliseconds)', { context });
  }
  const endpoints = list.map((h) => (/^https?:\/\//.test(h) ? h : `http://${h}`));
  let client: Promise<Etcd3> | null = null;
  let module: typeof import('etcd3') | null = null;
  let closed = false;
  /** The etcd lease behind each unit this store acquired, by unit. */
  const held = new Map<string, { token: number; node: string; lease: Lease }>();
  const connect = (): Promise<Etcd3> => {
    if (closed) return Promise.reject(new Error('etcdLeases: the store is closed'));
    client ??= import('etcd3').then(
      (m) =>
        new (module = m).Etcd3({
          ...options.client,
          hosts: endpoints,
          dialTimeout: callTimeout,
          defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeout }),
        }),
    );
    return client;
  };
  const key = (unit: string) => `${prefix}${unit}`;
  const decode = (value: Buffer | string): string => {
    try {
      return String((JSON.parse(value.toString()) as { node?: unknown }).node);
    } catch {
      return value.toString();
    }
  };
  const stateKey = (unit: string) => `${statePrefix}${unit}`;
  interface State {
    offline: boolean;
    failovers: number[];
  }
  const parseState = (value: Buffer | string | undefined): State => {
    try {
      const s = JSON.parse(String(value ?? '{}')) as Partial<State>;
      return { offline: s.offline === true, failovers: Array.isArray(s.failovers) ? s.failovers.filter((t) => typeof t === 'number') : [] };
    } catch {
      return { offline: false, failovers: [] };
    }
  };
  /**
   * Read-modify-write of a unit's state, only while the lease with this token holds the unit
   * (its key's create revision): `update` returns the new state, or null to leave it. Retries
   * when the state changed between the read and the write.
   */
  const updateState = async (unit: string, token: number, update: (s: State) => State | null): Promise<boolean> => {
    const etcd = await connect();
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await etcd.get(stateKey(unit)).exec();
      const kv = res.kvs[0];
      const next = update(parseState(kv?.value));
      if (next === null) return false;
      const txn = await etcd
        .if(key(unit), 'Create', '==', token)
        .and(stateKey(unit), 'Mod', '==', kv ? Number(kv.mod_revision) : 0)
        .then(etcd.put(stateKey(unit)).value(JSON.stringify(next)))
        .else(etcd.get(key(unit)))
        .commit();
      if (txn.succeeded) return true;
      const lease = txn.responses[0]?.response_range?.kvs?.[0];
      if (!lease || Number(lease.create_revision) !== token) return false;
    }
    return false;
  };
  const listeners = new Set<(change: LeaseChange) => void>();
  /** This member's heartbeat: an etcd lease with its key `<membersPrefix><node>`. */
  let presence: { node: string; lease: Lease } | null = null;
  let watcher: Promise<Watcher | null> | null = null;
  const startWatch = () => {
    watcher ??= connect()
      .then((etcd) => etcd.watch().prefix(prefix).create())
      .then(
        (w) => {
          w.on('put', (kv) => {
            const change = { unit: kv.key.toString().slice(prefix.length), holder: { node: decode(kv.value), token: Number(kv.create_revision) } };
            for (const listener of [...listeners]) listener(change);
          });
          w.on('delete', (kv) => {
            const change = { unit: kv.key.toString().slice(prefix.length), holder: null };
            for (const listener of [...listeners]) listener(change);
          });
          // Disconnections are retried by the client; members' rounds catch up meanwhile.
          w.on('error', () => {});
          w.on('disconnected', () => {});
          if (closed) void w.cancel().catch(() => {});
          return w;
        },
        () => {
          watcher = null;
          return null;
        },
      );
  };
  return {
    async acquire(unit, node, ttlMs) {
      const etcd = await connect();
      const lease = etcd.lease(Math.max(2, Math.ceil(ttlMs / 1000)), { autoKeepAlive: false });
      lease.on('lost', () => {});
      try {
        const id = await lease.grant();
        const res = await etcd
          .if(key(unit), 'Create', '==', 0)
          .then(etcd.put(key(unit)).value(JSON.stringify({ node })).lease(id), etcd.get(stateKey(unit)))
          .commit();
        if (!res.succeeded) {
          await lease.revoke().catch(() => {});
          return null;
        }
        const token = Number(res.header.revision);
        held.get(unit)?.lease.release();
        held.set(unit, { token, node, lease });
        const state = parseState(res.responses[1]?.response_range?.kvs?.[0]?.value);
        return { token, offline: state.offline };
      } catch (error) {
        await lease.revoke().catch(() => {});
        throw error;
      }
    },
    async renew(unit, node, token) {
      const h = held.get(unit);
      if (!h || h.token !== token || h.node !== node) return false;
      try {
        const res = await h.lease.keepaliveOnce({ deadline: Date.now() + callTimeout });
        return Number(res.TTL) > 0;
      } catch (error) {
        // etcd answered: the lease is expired or revoked. Anything else (unreachable) rethrows.
        if (module && error instanceof module.EtcdLeaseInvalidError) return false;
        throw error;
      }
    },
    async release(unit, node, token) {
      const h = held.get(unit);
      if (!h || h.token !== token || h.node !== node) return;
      held.delete(unit);
      await h.lease.revoke({ deadline: Date.now() + callTimeout });
    },
    async holder(unit): Promise<LeaseHolder | null> {
      const etcd = await connect();
      const res = await etcd.get(key(unit)).exec();
      const kv = res.kvs[0];
      return kv ? { node: decode(kv.value), token: Number(kv.create_revision) } : null;
    },
    async setOffline(unit, node, token, offline) {
      const h = held.get(unit);
      if (!h || h.token !== token || h.node !== node) return false;
      return updateState(unit, token, (s) => ({ ...s, offline }));
    },
    async countFailover(unit, node, token, threshold, periodMs) {
      const h = held.get(unit);
      if (!h || h.token !== token || h.node !== node) return false;
      return updateState(unit, token, (s) => {
        const now = Date.now();
        const failovers = s.failovers.filter((t) => t > now - periodMs);
        return failovers.length >= threshold ? null : { ...s, failovers: [...failovers, now] };
      });
    },
    async heartbeat(node, ttlMs) {
      const etcd = await connect();
      if (presence?.node === node) {
        try {
          const res = await presence.lease.keepaliveOnce({ deadline: Date.now() + callTimeout });
          if (Number(res.TTL) > 0) return;
        } catch (error) {
          if (!(module && error instanceof module.EtcdLeaseInvalidError)) throw error;
        }
      }
      // No heartbeat lease yet, or it expired: a new one, with the member's key on it.
      presence?.lease.release();
      presence = null;
      const lease = etcd.lease(Math.max(2, Math.ceil(ttlMs / 1000)), { autoKeepAlive: false });
      lease.on('lost', () => {});
      try {
        await lease.put(`${membersPrefix}${node}`).value(JSON.stringify({ node }));
      } catch (error) {
        await lease.revoke().catch(() => {});
        throw error;
      }
      presence = { node, lease };
    },
    async members() {
      const etcd = await connect();
      const keys = await etcd.getAll().prefix(membersPrefix).keys();
      return keys.map((k) => k.slice(membersPrefix.length)).sort();
    },
    async leave(node) {
      if (presence?.node !== node) return;
      const { lease } = presence;
      presence = null;
      await lease.revoke({ deadline: Date.now() + callTimeout });
    },
    watch(listener) {
      listeners.add(listener);
      startWatch();
      return () => void listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      const w = await watcher?.catch(() => null);
      await w?.cancel().catch(() => {});
      for (const h of held.values()) h.lease.release();
      held.clear();
      presence?.lease.release();
      presence = null;
      const etcd = await client?.catch(() => null);
      etcd?.close();
    },
  };
}

import type { Etcd3, IOptions, Lease } from 'etcd3';
import { ConfigError } from '../errors.js';
import type { LeaseHolder, LeaseStore } from './store.js';

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
 * revokes the lease (which deletes the key). Expiry is etcd's own clock.
 *
 * @example
 * ```ts
 * const member = new ClusterMember(monitor, { node: 'node-a', leases: etcdLeases({ hosts: '10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379' }), ttl: 10_000 });
 * ```
 */
export function etcdLeases(options: EtcdLeasesOptions): LeaseStore {
  const context = 'etcdLeases()';
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'must be an object { hosts }', { context });
  const { hosts, prefix = 'resmon/units/', callTimeout = 2_000 } = options;
  const list = (typeof hosts === 'string' ? hosts.split(',') : Array.isArray(hosts) ? [...hosts] : null)?.map((h) => String(h).trim()).filter((h) => h.length > 0);
  if (!list || list.length === 0) throw new ConfigError('hosts', hosts, "must be etcd endpoints: 'host:port', comma-separated, or an array", { context });
  if (typeof prefix !== 'string') throw new ConfigError('prefix', prefix, 'must be a string', { context });
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
  return {
    async acquire(unit, node, ttlMs) {
      const etcd = await connect();
      const lease = etcd.lease(Math.max(2, Math.ceil(ttlMs / 1000)), { autoKeepAlive: false });
      lease.on('lost', () => {});
      try {
        const id = await lease.grant();
        const res = await etcd
          .if(key(unit), 'Create', '==', 0)
          .then(etcd.put(key(unit)).value(JSON.stringify({ node })).lease(id))
          .commit();
        if (!res.succeeded) {
          await lease.revoke().catch(() => {});
          return null;
        }
        const token = Number(res.header.revision);
        held.get(unit)?.lease.release();
        held.set(unit, { token, node, lease });
        return token;
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
    async close() {
      if (closed) return;
      closed = true;
      for (const h of held.values()) h.lease.release();
      held.clear();
      const etcd = await client?.catch(() => null);
      etcd?.close();
    },
  };
}

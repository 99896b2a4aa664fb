import type { Client, Pool, PoolConfig } from 'pg';
import { ConfigError } from '../errors.js';
import type { LeaseChange, LeaseHolder, LeaseStore } from './store.js';

/** Options of {@link postgresLeases}. */
export interface PostgresLeasesOptions {
  /** A PostgreSQL connection string: `postgres://user:password@host:5432/db`. */
  connectionString: string;
  /**
   * The lease table (created if missing, its columns added if missing): one row per unit. Its
   * name is also the `LISTEN`/`NOTIFY` channel on which grants and releases are announced.
   * @default 'resmon_leases'
   */
  table?: string;
  /**
   * Deadline of each query and of each connection attempt, in milliseconds.
   * @default 2_000
   */
  callTimeout?: number;
  /** More options for the `pg` pool (ssl, ...); the connection string and deadlines come from above. */
  pool?: Omit<PoolConfig, 'connectionString'>;
}

/**
 * A lease store on PostgreSQL through the `pg` client (an optional peer dependency: install `pg`
 * yourself). One row per unit `(unit, node, token, expires_at)`; acquiring is a single
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE` that takes the row only when it is free or
 * expired, and bumps `token`, the row's version: the fencing token. Renewal and release compare
 * node and token (compare-and-set). Expiry is the server's clock (`clock_timestamp()`), never a
 * member's. Grants and releases are announced with `NOTIFY` on the channel named as the table
 * (members `LISTEN` on a connection of their own, reconnected when it breaks); an expiry has no
 * event, so `holder()` tells how long the lease has left and members wake at that moment. The
 * row also keeps the unit's offline flag and its failover times (server clock). Members' heartbeats
 * are rows of `<table>_members (node, expires_at)`.
 *
 * @example
 * ```ts
 * const member = new ClusterMember(monitor, { node: 'node-a', leases: postgresLeases({ connectionString: process.env.DATABASE_URL! }), ttl: 10_000 });
 * ```
 */
export function postgresLeases(options: PostgresLeasesOptions): LeaseStore {
  const context = 'postgresLeases()';
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', options, 'must be an object { connectionString }', { context });
  const { connectionString, table = 'resmon_leases', callTimeout = 2_000 } = options;
  if (typeof connectionString !== 'string' || connectionString.length === 0) {
    throw new ConfigError('connectionString', connectionString, "must be a PostgreSQL connection string ('postgres://user@host:5432/db')", { context });
  }
  if (typeof table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,54}$/.test(table)) {
    throw new ConfigError('table', table, 'must be a plain SQL identifier of at most 55 characters (letters, digits, _; not starting with a digit)', { context });
  }
  const membersTable = `${table}_members`;
  if (typeof callTimeout !== 'number' || !Number.isFinite(callTimeout) || callTimeout <= 0) {
    throw new ConfigError('callTimeout', callTimeout, 'must be a finite number > 0 (milliseconds)', { context });
  }
  let pool: Promise<Pool> | null = null;
  let ready: Promise<void> | null = null;
  let closed = false;
  const connect = (): Promise<Pool> => {
    if (closed) return Promise.reject(new Error('postgresLeases: the store is closed'));
    pool ??= import('pg').then((m) => {
      const p = new (m.default ?? m).Pool({
        max: 2,
        ...options.pool,
        connectionString,
        connectionTimeoutMillis: callTimeout,
        query_timeout: callTimeout,
        statement_timeout: callTimeout,
      });
      // A connection that breaks while idle (a server restart) must not crash the process.
      p.on('error', () => {});
      return p;
    });
    return pool;
  };
  const query = async (text: string, values: unknown[]) => {
    const p = await connect();
    ready ??= p
      .query(
        `CREATE TABLE IF NOT EXISTS ${table} (unit text PRIMARY KEY, node text, token bigint NOT NULL, expires_at timestamptz NOT NULL);
         ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS offline boolean NOT NULL DEFAULT false, ADD COLUMN IF NOT EXISTS failovers timestamptz[] NOT NULL DEFAULT '{}';
         CREATE TABLE IF NOT EXISTS ${membersTable} (node text PRIMARY KEY, expires_at timestamptz NOT NULL)`,
      )
      .then(
        () => {},
        (error: { code?: string }) => {
          // Another member created it at the same moment.
          if (error.code === '23505' || error.code === '42P07' || error.code === '42701') return;
          ready = null;
          throw error;
        },
      );
    await ready;
    return p.query(text, values);
  };
  const listeners = new Set<(change: LeaseChange) => void>();
  let listener: Client | null = null;
  let listenRetry: NodeJS.Timeout | null = null;
  /** The LISTEN connection: opened while someone watches, opened again `callTimeout` after it breaks. */
  const listen = async (): Promise<void> => {
    if (closed || listeners.size === 0 || listener || listenRetry) return;
    const m = await import('pg');
    if (closed || listener) return;
    const c = new (m.default ?? m).Client({ ...(options.pool as object), connectionString, connectionTimeoutMillis: callTimeout });
    listener = c;
    const broken = () => {
      if (listener !== c) return;
      listener = null;
      void c.end().catch(() => {});
      if (closed) return;
      listenRetry = setTimeout(() => {
        listenRetry = null;
        void listen();
      }, callTimeout);
      listenRetry.unref?.();
    };
    c.on('error', broken);
    c.on('end', broken);
    c.on('notification', (msg) => {
      if (msg.channel !== table || !msg.payload) return;
      let change: LeaseChange;
      try {
        const p = JSON.parse(msg.payload) as { unit: string; node?: string; token?: number; expiresIn?: number };
        change = { unit: p.unit, holder: typeof p.node === 'string' ? { node: p.node, token: Number(p.token), expiresIn: Number(p.expiresIn) } : null };
      } catch {
        return;
      }
      for (const l of [...listeners]) l(change);
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${table}"`);
      if (closed) await c.end();
    } catch {
      broken();
    }
  };
  return {
    async acquire(unit, node, ttlMs) {
      const res = await query(
        `WITH granted AS (
           INSERT INTO ${table} AS t (unit, node, token, expires_at) VALUES ($1::text, $2::text, 1, clock_timestamp() + $3::float8 * interval '1 millisecond')
           ON CONFLICT (unit) DO UPDATE SET node = EXCLUDED.node, token = t.token + 1, expires_at = EXCLUDED.expires_at
           WHERE t.node IS NULL OR t.expires_at <= clock_timestamp()
           RETURNING token, offline)
         SELECT token, offline, pg_notify($4::text, json_build_object('unit', $1::text, 'node', $2::text, 'token', token, 'expiresIn', $3::float8)::text) FROM granted`,
        [unit, node, ttlMs, table],
      );
      const row = res.rows[0] as { token: string; offline: boolean } | undefined;
      return row ? { token: Number(row.token), offline: row.offline === true } : null;
    },
    async renew(unit, node, token, ttlMs) {
      const res = await query(
        `UPDATE ${table} SET expires_at = clock_timestamp() + $4::float8 * interval '1 millisecond'
         WHERE unit = $1 AND node = $2 AND token = $3 AND expires_at > clock_timestamp()`,
        [unit, node, token, ttlMs],
      );
      return res.rowCount === 1;
    },
    async release(unit, node, token) {
      await query(
        `WITH released AS (UPDATE ${table} SET node = NULL, expires_at = clock_timestamp() WHERE unit = $1::text AND node = $2 AND token = $3 RETURNING unit)
         SELECT pg_notify($4::text, json_build_object('unit', unit)::text) FROM released`,
        [unit, node, token, table],
      );
    },
    async holder(unit): Promise<LeaseHolder | null> {
      const res = await query(
        `SELECT node, token, (extract(epoch FROM expires_at - clock_timestamp()) * 1000)::float8 AS remaining
         FROM ${table} WHERE unit = $1 AND node IS NOT NULL AND expires_at > clock_timestamp()`,
        [unit],
      );
      const row = res.rows[0] as { node: string; token: string; remaining: number } | undefined;
      return row ? { node: row.node, token: Number(row.token), expiresIn: Math.max(0, Number(row.remaining)) } : null;
    },
    async setOffline(unit, node, token, offline) {
      const res = await query(`UPDATE ${table} SET offline = $4 WHERE unit = $1 AND node = $2 AND token = $3 AND expires_at > clock_timestamp()`, [unit, node, token, offline]);
      return res.rowCount === 1;
    },
    async countFailover(unit, node, token, threshold, periodMs) {
      const res = await query(
        `UPDATE ${table} AS t SET failovers = ARRAY(SELECT x FROM unnest(t.failovers) x WHERE x > clock_timestamp() - $5::float8 * interval '1 millisecond') || clock_timestamp()
         WHERE unit = $1 AND node = $2 AND token = $3 AND expires_at > clock_timestamp()
           AND (SELECT count(*) FROM unnest(t.failovers) x WHERE x > clock_timestamp() - $5::float8 * interval '1 millisecond') < $4`,
        [unit, node, token, threshold, periodMs],
      );
      return res.rowCount === 1;
    },
    async heartbeat(node, ttlMs) {
      await query(
        `INSERT INTO ${membersTable} (node, expires_at) VALUES ($1, clock_timestamp() + $2::float8 * interval '1 millisecond')
         ON CONFLICT (node) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [node, ttlMs],
      );
    },
    async members() {
      const res = await query(`SELECT node FROM ${membersTable} WHERE expires_at > clock_timestamp() ORDER BY node`, []);
      return (res.rows as { node: string }[]).map((r) => r.node);
    },
    async leave(node) {
      await query(`DELETE FROM ${membersTable} WHERE node = $1`, [node]);
    },
    watch(l) {
      listeners.add(l);
      void listen();
      return () => void listeners.delete(l);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      if (listenRetry) clearTimeout(listenRetry);
      listenRetry = null;
      const c = listener;
      listener = null;
      await c?.end().catch(() => {});
      const p = await pool?.catch(() => null);
      await p?.end();
    },
  };
}

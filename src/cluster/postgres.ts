import type { Pool, PoolConfig } from 'pg';
import { ConfigError } from '../errors.js';
import type { LeaseHolder, LeaseStore } from './store.js';

/** Options of {@link postgresLeases}. */
export interface PostgresLeasesOptions {
  /** A PostgreSQL connection string: `postgres://user:password@host:5432/db`. */
  connectionString: string;
  /**
   * The lease table (created if missing): one row per unit.
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
 * member's.
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
  if (typeof table !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(table)) {
    throw new ConfigError('table', table, 'must be a plain SQL identifier (letters, digits, _; not starting with a digit)', { context });
  }
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
      .query(`CREATE TABLE IF NOT EXISTS ${table} (unit text PRIMARY KEY, node text, token bigint NOT NULL, expires_at timestamptz NOT NULL)`)
      .then(
        () => {},
        (error: { code?: string }) => {
          // Another member created it at the same moment.
          if (error.code === '23505' || error.code === '42P07') return;
          ready = null;
          throw error;
        },
      );
    await ready;
    return p.query(text, values);
  };
  return {
    async acquire(unit, node, ttlMs) {
      const res = await query(
        `INSERT INTO ${table} AS t (unit, node, token, expires_at) VALUES ($1, $2, 1, clock_timestamp() + $3 * interval '1 millisecond')
         ON CONFLICT (unit) DO UPDATE SET node = EXCLUDED.node, token = t.token + 1, expires_at = EXCLUDED.expires_at
         WHERE t.node IS NULL OR t.expires_at <= clock_timestamp()
         RETURNING token`,
        [unit, node, ttlMs],
      );
      return res.rows.length === 1 ? Number((res.rows[0] as { token: string }).token) : null;
    },
    async renew(unit, node, token, ttlMs) {
      const res = await query(
        `UPDATE ${table} SET expires_at = clock_timestamp() + $4 * interval '1 millisecond'
         WHERE unit = $1 AND node = $2 AND token = $3 AND expires_at > clock_timestamp()`,
        [unit, node, token, ttlMs],
      );
      return res.rowCount === 1;
    },
    async release(unit, node, token) {
      await query(`UPDATE ${table} SET node = NULL, expires_at = clock_timestamp() WHERE unit = $1 AND node = $2 AND token = $3`, [unit, node, token]);
    },
    async holder(unit): Promise<LeaseHolder | null> {
      const res = await query(`SELECT node, token FROM ${table} WHERE unit = $1 AND node IS NOT NULL AND expires_at > clock_timestamp()`, [unit]);
      const row = res.rows[0] as { node: string; token: string } | undefined;
      return row ? { node: row.node, token: Number(row.token) } : null;
    },
    async close() {
      if (closed) return;
      closed = true;
      const p = await pool?.catch(() => null);
      await p?.end();
    },
  };
}

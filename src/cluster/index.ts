/**
 * `resmon/cluster`: monitors on several machines share units (groups, and ungrouped resources)
 * through leases on a store, so that each unit is online on at most one machine at a time and
 * comes up on another when its owner dies. Stores: `memoryLeases` (one process), `etcdLeases`
 * (the `etcd3` client) and `postgresLeases` (the `pg` client); the clients are optional peer
 * dependencies, loaded only by the store that needs them.
 *
 * @module
 */
export {
  ClusterMember,
  type ClusterEvent,
  type ClusterMemberEvents,
  type ClusterMemberOptions,
  type ClusterReasonEvent,
  type ClusterStatus,
  type ClusterUnitStatus,
} from './member.js';
export { memoryLeases, type MemoryLeasesOptions } from './memory.js';
export { etcdLeases, type EtcdLeasesOptions } from './etcd.js';
export { postgresLeases, type PostgresLeasesOptions } from './postgres.js';
export type { LeaseChange, LeaseGrant, LeaseHolder, LeaseStore } from './store.js';

import { defineConfig } from 'vitest/config';
import { resmonAliases } from './vitest.config.js';

/**
 * `npm run test:cluster`: randomized runs of resmon/cluster (kills, cuts from the store, store
 * restarts, at random moments, bounded in time) on a real etcd and PostgreSQL the tests start
 * themselves. `CLUSTER_SEED` replays a run; `CLUSTER_RANDOM_MS` sets how long each run lasts.
 */
export default defineConfig({
  resolve: {
    alias: resmonAliases,
  },
  test: {
    include: ['test/cluster-random/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

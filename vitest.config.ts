import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The package's entry points, resolved to the sources, for every suite's config. */
export const resmonAliases = {
  'resmon/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'resmon/otel': fileURLToPath(new URL('./src/otel.ts', import.meta.url)),
  'resmon/prometheus': fileURLToPath(new URL('./src/prometheus.ts', import.meta.url)),
  'resmon/cluster': fileURLToPath(new URL('./src/cluster/index.ts', import.meta.url)),
  resmon: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
};

/**
 * The fast suite (`npm test`): the core on fake timers, the model-based suite, the CLI's pure parts.
 * Tests that start real child processes, worker threads, servers or browsers live in
 * `test/integration/` and run with `npm run test:integration` (vitest.integration.config.ts).
 */
export default defineConfig({
  resolve: {
    alias: resmonAliases,
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/integration/**', 'test/cluster-random/**', '**/node_modules/**'],
    testTimeout: 20_000,
    // A plugin misbehaving must never surface as an unhandled rejection: fail the run on one.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * The integration suite (`npm run test:integration`): real child processes, worker threads,
 * servers and browsers, each started by the test itself on loopback in a temporary folder and
 * stopped afterwards. The fast suite is vitest.config.ts.
 */
export default defineConfig({
  resolve: {
    alias: {
      'resmon/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      'resmon/otel': fileURLToPath(new URL('./src/otel.ts', import.meta.url)),
      'resmon/prometheus': fileURLToPath(new URL('./src/prometheus.ts', import.meta.url)),
      'resmon/cluster': fileURLToPath(new URL('./src/cluster/index.ts', import.meta.url)),
      resmon: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A plugin misbehaving must never surface as an unhandled rejection: fail the run on one.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

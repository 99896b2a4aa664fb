import { defineConfig } from 'vitest/config';
import { resmonAliases } from './vitest.config.js';

/**
 * The integration suite (`npm run test:integration`): real child processes, worker threads,
 * servers and browsers, each started by the test itself on loopback in a temporary folder and
 * stopped afterwards. The fast suite is vitest.config.ts.
 */
export default defineConfig({
  resolve: {
    alias: resmonAliases,
  },
  test: {
    include: ['test/integration/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A plugin misbehaving must never surface as an unhandled rejection: fail the run on one.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

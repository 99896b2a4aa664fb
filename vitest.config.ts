import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'resmon/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
      resmon: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // A plugin misbehaving must never surface as an unhandled rejection: fail the run on one.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});

import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // p-timeout 7 is ESM-only: bundle it so `require('resmon')` works without it.
    noExternal: ['p-timeout'],
  },
  {
    // The `resmon` command (package.json `bin`): ESM only, with a shebang of its own.
    entry: { cli: 'src/cli/bin.ts' },
    format: ['esm'],
    clean: false,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    noExternal: ['p-timeout'],
    banner: { js: '#!/usr/bin/env node' },
  },
]);

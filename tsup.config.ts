import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // hosts/host-entry: the program isolation hosts run (a worker's or a child process's entry).
    // testing: resmon/testing, the kit for plugin authors.
    // otel, prometheus: resmon/otel and resmon/prometheus (their peers stay external: tsup leaves
    // peerDependencies out of the bundle).
    entry: {
      index: 'src/index.ts',
      testing: 'src/testing/index.ts',
      otel: 'src/otel.ts',
      prometheus: 'src/prometheus.ts',
      cluster: 'src/cluster/index.ts',
      'hosts/host-entry': 'src/hosts/host-entry.ts',
    },
    format: ['esm', 'cjs'],
    // The CJS build finds the host program through import.meta.url: shim it.
    shims: true,
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    // p-timeout ships ESM only; the CommonJS build would reach it through require(esm) interop,
    // which hands esbuild's wrapper the namespace instead of the function. Bundle its ~90 lines
    // (MIT, notice in THIRD_PARTY_NOTICES.md) into both builds instead.
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
    banner: { js: '#!/usr/bin/env node' },
    noExternal: ['p-timeout'],
  },
]);

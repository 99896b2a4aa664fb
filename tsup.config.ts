import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // p-timeout 7 is ESM-only: bundle it so `require('resmon')` works without it.
  noExternal: ['p-timeout'],
});

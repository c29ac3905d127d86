import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Forks, not threads: tests load the native addon, spawn CLIs and kill children.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Files are numbered by layer (core, runtime, vendor side, end to end); report in that order.
    sequence: { concurrent: false },
    // @ldclabs/cose-ts (the independent COSE verifier in test/04) ships extensionless ESM imports
    // that Node cannot resolve; let Vite transform it.
    server: { deps: { inline: ['@ldclabs/cose-ts'] } },
  },
});

import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Source-first: tests run against each package's src/, never a stale dist/.
export default defineConfig({
  resolve: {
    alias: {
      '@tsmpi/vm': pkg('vm'),
      '@tsmpi/fabric': pkg('fabric'),
      '@tsmpi/rcache': pkg('rcache'),
      '@tsmpi/mpi': pkg('mpi'),
      '@tsmpi/cli': pkg('cli'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

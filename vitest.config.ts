import { defineConfig } from 'vitest/config';

// Tests that talk to real kind clusters (each prints one SKIP line when it can't).
const REAL = ['runner/test/**/*.real.test.ts', 'site/test/**/*.real.test.ts', 'runner/test/cluster/cluster-driver.contract.test.ts', 'runner/test/checks/kube-api.contract.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['runner/test/**/*.test.ts', 'site/test/unit/**/*.test.ts'],
          exclude: REAL,
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        // Real clusters: one file at a time (each may create a kind cluster; 2 cores).
        test: {
          name: 'real',
          include: REAL,
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'browser',
          include: ['site/test/**/*.browser.test.ts'],
          exclude: REAL,
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

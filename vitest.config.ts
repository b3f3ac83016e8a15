import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['pkg/**/*.test.ts', 'cmd/**/*.test.ts', 'test/**/*.test.ts', 'web/**/*.test.ts'],
    setupFiles: ['test/setup-fast-check.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});

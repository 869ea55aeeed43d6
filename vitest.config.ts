import { defineConfig } from 'vitest/config';

// Tests import src/ through vitest's transform; every worker they start is loaded from the
// tsc-built dist/ (Node 20 cannot load .ts in a worker), so `npm test` builds first.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 10_000,
    // The JSON report lets .ci/run print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-results.json' },
    hookTimeout: 10_000,
  },
});

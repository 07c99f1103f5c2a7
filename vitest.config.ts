import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for the dependencies; make the code
    // under test use that same copy, or instanceof checks across them fail.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file starts its own servers and database; two cores, so two at a time.
    maxWorkers: 2,
    env: { NODE_ENV: 'test' },
  },
});

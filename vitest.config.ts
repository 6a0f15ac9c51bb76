import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@peerqueue/source'] },
  test: {
    include: ['{runtime,sdk,create-queue}/src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['sdk/src/**/*.test-d.ts'] },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})

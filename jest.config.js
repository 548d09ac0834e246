// Jest runs TypeScript as ESM through ts-jest (transpile only: `npm run typecheck` does the type checking).
// Two projects: `unit` (pure, fast, no cluster) and `integration` (one real local control plane per run,
// started by integration/cluster/global-setup.ts and stopped by global-teardown.ts).
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // The plugin SDK by its package name (example plugins import it so), from its sources.
    '^@secrets-sync/plugin-sdk$': '<rootDir>/plugins/sdk/src/index.ts',
    '^@secrets-sync/plugin-sdk/conformance$': '<rootDir>/plugins/sdk/src/conformance/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testEnvironment: 'node',
};

/** @type {import('jest').Config} */
export default {
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{core,transports,plugins,proto,bench}/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/integration/cluster/global-setup.mjs',
      globalTeardown: '<rootDir>/integration/cluster/global-teardown.mjs',
      setupFiles: ['reflect-metadata'],
      testTimeout: 120_000,
    },
  ],
};

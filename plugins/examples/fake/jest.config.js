// Jest for this package on its own (`npm test`): TypeScript as ESM through ts-jest.
/** @type {import('jest').Config} */
export default {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { types: ['node', 'jest'], isolatedModules: true } }] },
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};

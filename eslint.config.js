import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.scratch/**', 'proto/gen/**', '**/fixtures/**', 'charts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-throw-literal': 'error',
    },
  },
  {
    // The dependency rule: imports point inward. core/ knows no transport, plugin, generated proto or gRPC.
    files: ['core/**/*.ts'],
    ignores: ['core/cli/**', 'core/composition/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/transports/**', '**/transports'], message: 'core/ must not import transports (imports point inward).' },
          { group: ['**/plugins/**', '**/plugins'], message: 'core/ must not import plugins (imports point inward).' },
          { group: ['**/proto/**', '**/proto'], message: 'core/ must not import generated proto code.' },
          { group: ['@grpc/*'], message: 'core/ must not import gRPC.' },
        ],
      }],
    },
  },
);

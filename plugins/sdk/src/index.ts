/**
 * @secrets-sync/plugin-sdk: write a secret-store provider for the TypeScript Secrets Store Sync Controller.
 * The conformance kit is in `@secrets-sync/plugin-sdk/conformance`.
 */
export * from './attributes.js';
export {
  definePlugin,
  defineProvider,
  instantiatePlugin,
  isPlugin,
  pluginSpecProblem,
  PluginDefinitionError,
  PROVIDER_NAME_PATTERN,
  providersProblem,
  silentPluginLogger,
  type InstantiateOptions,
} from './define.js';
export * from './errors.js';
export * from './result.js';
export * from './tokens.js';
export * from './types.js';
export * from './version.js';

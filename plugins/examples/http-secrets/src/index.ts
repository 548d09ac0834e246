/**
 * secrets-sync-provider-http: secrets from an HTTP/JSON API, one provider per configured store.
 * Load it with `secrets-sync run --plugin secrets-sync-provider-http --plugin-config plugins.yaml`.
 */
import { definePlugin } from '@secrets-sync/plugin-sdk';
import { httpProvider } from './http-provider.js';
import { parseOptions, type HttpPluginOptions } from './options.js';

export default definePlugin<HttpPluginOptions>({
  name: 'secrets-sync-provider-http',
  version: '0.1.0',
  description: 'Secrets from an HTTP/JSON API, authenticated with the workload ServiceAccount token or a token file.',
  options: parseOptions,
  providers: ({ options }) => options.stores.map((store) => httpProvider(store)),
});

export { httpProvider, type Fetch } from './http-provider.js';
export { parseObjects, type ObjectSpec } from './objects.js';
export { parseOptions, type AuthOptions, type HttpPluginOptions, type StoreOptions } from './options.js';

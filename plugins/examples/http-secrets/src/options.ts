/**
 * The plugin's options, from the controller's `--plugin-config` file (set by the cluster operator, not by the
 * namespaces that write SecretProviderClasses):
 *
 *   plugins:
 *     secrets-sync-provider-http:
 *       options:
 *         stores:
 *           - name: inhouse                # the provider name SecretProviderClasses use
 *             baseUrl: https://secrets.example.internal/v1/namespaces/{namespace}/
 *             auth:
 *               serviceAccountToken:
 *                 audience: secrets.example.internal
 *             headers:
 *               X-Tenant: acme
 *
 * `{namespace}` and `{serviceAccount}` in `baseUrl` become the SecretSync's namespace and ServiceAccount (URL
 * encoded), so a namespace can only reach its own part of the store. A single store may be given without `stores`.
 */
import { PluginConfigError, PROVIDER_NAME_PATTERN } from '@secrets-sync/plugin-sdk';

export type AuthOptions =
  | { kind: 'none' }
  | { kind: 'serviceAccountToken'; audience: string }
  | { kind: 'bearerTokenFile'; path: string };

export interface StoreOptions {
  name: string;
  baseUrl: string;
  auth: AuthOptions;
  headers: Record<string, string>;
  /** The largest object accepted, in bytes (default 1 MiB, the size limit of a Secret). */
  maxObjectBytes: number;
}

export interface HttpPluginOptions {
  stores: StoreOptions[];
}

export function parseOptions(raw: unknown): HttpPluginOptions {
  if (raw === undefined || raw === null) {
    throw new PluginConfigError('no options: give at least baseUrl (see the README of secrets-sync-provider-http)');
  }
  if (!isRecord(raw)) throw new PluginConfigError('the options must be a mapping');
  const list = raw.stores === undefined ? [raw] : raw.stores;
  if (!Array.isArray(list) || list.length === 0) throw new PluginConfigError('stores must be a non-empty list');
  const stores = list.map((s, i) => parseStore(s, `stores[${i}]`));
  const names = stores.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PluginConfigError(`store name "${dup}" is used twice`);
  return { stores };
}

function parseStore(raw: unknown, where: string): StoreOptions {
  if (!isRecord(raw)) throw new PluginConfigError(`${where} must be a mapping`);
  const known = ['name', 'baseUrl', 'auth', 'headers', 'maxObjectBytes', 'stores'];
  for (const key of Object.keys(raw)) if (!known.includes(key)) throw new PluginConfigError(`${where} has an unknown key "${key}"`);
  const name = raw.name ?? 'http';
  if (typeof name !== 'string' || !PROVIDER_NAME_PATTERN.test(name)) {
    throw new PluginConfigError(`${where}.name must match ${PROVIDER_NAME_PATTERN.source}`);
  }
  if (typeof raw.baseUrl !== 'string') throw new PluginConfigError(`${where}.baseUrl must be an http(s) URL`);
  let url: URL;
  try {
    url = new URL(raw.baseUrl.replace(/\{(namespace|serviceAccount)\}/g, 'x'));
  } catch {
    throw new PluginConfigError(`${where}.baseUrl is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PluginConfigError(`${where}.baseUrl must be http or https`);
  if (url.search || url.hash) throw new PluginConfigError(`${where}.baseUrl must not have a query or fragment`);
  const headers: Record<string, string> = {};
  if (raw.headers !== undefined) {
    if (!isRecord(raw.headers)) throw new PluginConfigError(`${where}.headers must be a mapping of strings`);
    for (const [k, v] of Object.entries(raw.headers)) {
      if (typeof v !== 'string') throw new PluginConfigError(`${where}.headers.${k} must be a string`);
      headers[k] = v;
    }
  }
  const maxObjectBytes = raw.maxObjectBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxObjectBytes) || (maxObjectBytes as number) < 1) {
    throw new PluginConfigError(`${where}.maxObjectBytes must be a positive integer`);
  }
  return {
    name,
    baseUrl: raw.baseUrl.endsWith('/') ? raw.baseUrl : `${raw.baseUrl}/`,
    auth: parseAuth(raw.auth, `${where}.auth`),
    headers,
    maxObjectBytes: maxObjectBytes as number,
  };
}

function parseAuth(raw: unknown, where: string): AuthOptions {
  if (raw === undefined || raw === null || raw === 'none') return { kind: 'none' };
  if (!isRecord(raw) || Object.keys(raw).length !== 1) {
    throw new PluginConfigError(`${where} must have exactly one of serviceAccountToken, bearerTokenFile (or be "none")`);
  }
  const sat = raw.serviceAccountToken;
  if (sat !== undefined) {
    if (!isRecord(sat) || typeof sat.audience !== 'string' || sat.audience === '') {
      throw new PluginConfigError(`${where}.serviceAccountToken.audience must be a non-empty string`);
    }
    return { kind: 'serviceAccountToken', audience: sat.audience };
  }
  const file = raw.bearerTokenFile;
  if (file !== undefined) {
    if (typeof file !== 'string' || file === '') throw new PluginConfigError(`${where}.bearerTokenFile must be a path`);
    return { kind: 'bearerTokenFile', path: file };
  }
  throw new PluginConfigError(`${where} has an unknown kind "${Object.keys(raw)[0]}"`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

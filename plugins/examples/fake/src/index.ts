/**
 * The fake provider as a plugin: deterministic values, no store. One file per object of the `objects` parameter
 * (path = objectName, content `<objectName>-value-v<generation>` or the given value) and versions
 * `{id: "secret/<objectName>", version: "v<generation>"}`, the same answers the repo's FakeProvider gives.
 *
 * Parameters: `objects` (required), `generation` (optional integer >= 1, default 1: bump it in the
 * SecretProviderClass to "rotate" every value). Options: `name` (default `fake`) and `tokenAudiences` (each must
 * have a ServiceAccount token in the request, like upstream's e2e provider's VALIDATE_TOKENS_AUDIENCE).
 */
import {
  definePlugin,
  PluginConfigError,
  PROVIDER_NAME_PATTERN,
  requireToken,
  SecretProviderClassMisconfigured,
  type MountRequest,
  type MountResult,
} from '@secrets-sync/plugin-sdk';
import { objectValue, parseObjects } from './objects.js';

export interface FakeOptions {
  name: string;
  tokenAudiences: string[];
}

export function parseOptions(raw: unknown): FakeOptions {
  if (raw === undefined || raw === null) return { name: 'fake', tokenAudiences: [] };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new PluginConfigError('the options must be a mapping');
  const { name = 'fake', tokenAudiences = [], ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new PluginConfigError(`unknown option "${unknown[0]}" (known: name, tokenAudiences)`);
  if (typeof name !== 'string' || !PROVIDER_NAME_PATTERN.test(name)) throw new PluginConfigError(`name must match ${PROVIDER_NAME_PATTERN.source}`);
  if (!Array.isArray(tokenAudiences) || !tokenAudiences.every((a) => typeof a === 'string' && a !== '')) {
    throw new PluginConfigError('tokenAudiences must be a list of non-empty strings');
  }
  return { name, tokenAudiences: tokenAudiences as string[] };
}

export function fakeMount(options: FakeOptions, request: MountRequest): MountResult {
  request.signal.throwIfAborted();
  const text = request.attributes.get('objects') ?? '';
  if (text.trim() === '') throw new SecretProviderClassMisconfigured('objects is not set');
  for (const audience of options.tokenAudiences) requireToken(request.tokens, audience);
  const generationText = request.attributes.get('generation') ?? '1';
  const generation = Number(generationText);
  if (!Number.isInteger(generation) || generation < 1) {
    throw new SecretProviderClassMisconfigured('parameter "generation" must be an integer >= 1');
  }
  const objects = parseObjects(text);
  return {
    files: objects.map((o) => ({ path: o.objectName, contents: objectValue(o, generation) })),
    objectVersions: objects.map((o) => ({ id: `secret/${o.objectName}`, version: `v${generation}` })),
  };
}

export default definePlugin<FakeOptions>({
  name: 'secrets-sync-provider-fake',
  version: '0.1.0',
  description: 'Deterministic fake secrets, for demos and tests.',
  options: parseOptions,
  providers: ({ options }) => [{ name: options.name, mount: (request) => fakeMount(options, request) }],
});

export { objectValue, parseObjects, type FakeObject } from './objects.js';

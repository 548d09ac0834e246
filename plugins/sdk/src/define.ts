import { describeError, PluginConfigError } from './errors.js';
import {
  PLUGIN_BRAND,
  type Plugin,
  type PluginLogger,
  type PluginSpec,
  type ProviderDefinition,
} from './types.js';
import { SDK_VERSION } from './version.js';

/** A provider name as the CSI driver and the controller accept it, and not empty. */
export const PROVIDER_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,30}$/;

/** The plugin object is malformed (thrown by `definePlugin` and by the host's checks). */
export class PluginDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginDefinitionError';
  }
}

/**
 * Declares a plugin; make it the default export of the package:
 *
 *   export default definePlugin({ name: 'acme-secrets', version: '1.2.0', providers: [acmeProvider] });
 *
 * Checks the shape at once (so a broken plugin fails in its own tests) and stamps the SDK version.
 */
export function definePlugin<Options = unknown>(spec: PluginSpec<Options>): Plugin<Options> {
  const problem = pluginSpecProblem(spec);
  if (problem) throw new PluginDefinitionError(`definePlugin: ${problem}`);
  return Object.freeze({ ...spec, sdkVersion: SDK_VERSION, [PLUGIN_BRAND]: true as const });
}

/** Identity, for typing a provider defined on its own. */
export function defineProvider<P extends ProviderDefinition>(provider: P): P {
  return provider;
}

/** What is wrong with a plugin spec, or undefined. */
export function pluginSpecProblem(spec: unknown): string | undefined {
  if (typeof spec !== 'object' || spec === null) return 'the plugin is not an object';
  const s = spec as Record<string, unknown>;
  if (typeof s.name !== 'string' || s.name.trim() === '') return 'name must be a non-empty string';
  if (typeof s.version !== 'string' || s.version.trim() === '') return `plugin "${s.name}": version must be a non-empty string`;
  if (s.options !== undefined && typeof s.options !== 'function') return `plugin "${s.name}": options must be a function`;
  if (!Array.isArray(s.providers) && typeof s.providers !== 'function') {
    return `plugin "${s.name}": providers must be an array of providers or a function returning one`;
  }
  if (Array.isArray(s.providers)) return providersProblem(s.providers);
  return undefined;
}

/** What is wrong with a list of providers (names, duplicates, mount), or undefined. */
export function providersProblem(providers: readonly unknown[]): string | undefined {
  if (providers.length === 0) return 'the plugin has no providers';
  const seen = new Set<string>();
  for (const [i, p] of providers.entries()) {
    if (typeof p !== 'object' || p === null) return `provider ${i} is not an object`;
    const { name, mount, close } = p as Record<string, unknown>;
    if (typeof name !== 'string' || !PROVIDER_NAME_PATTERN.test(name)) {
      return `provider ${i} has an invalid name ${JSON.stringify(name)}: it must match ${PROVIDER_NAME_PATTERN.source}`;
    }
    if (seen.has(name)) return `provider name "${name}" is used twice`;
    seen.add(name);
    if (typeof mount !== 'function') return `provider "${name}" has no mount() function`;
    if (close !== undefined && typeof close !== 'function') return `provider "${name}": close must be a function`;
  }
  return undefined;
}

/** True for objects made by `definePlugin` in any copy of the SDK (the brand is a registered symbol). */
export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Record<PropertyKey, unknown>)[PLUGIN_BRAND] === true;
}

export interface InstantiateOptions {
  /** The raw options (from `--plugin-config`); undefined when there are none. */
  options?: unknown;
  logger?: PluginLogger;
}

export const silentPluginLogger: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Runs the plugin's options parser and providers factory and checks the providers. Throws PluginConfigError for
 * rejected options and PluginDefinitionError for a malformed plugin or provider list.
 */
export async function instantiatePlugin<Options>(plugin: Plugin<Options>, init: InstantiateOptions = {}): Promise<ProviderDefinition[]> {
  const problem = pluginSpecProblem(plugin);
  if (problem) throw new PluginDefinitionError(problem);
  let options: unknown = init.options;
  if (plugin.options) {
    try {
      options = plugin.options(init.options);
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === 'PluginConfigError') {
        throw new PluginConfigError(`invalid options: ${(err as Error).message}`, { cause: err });
      }
      throw new PluginConfigError(`invalid options: the options parser threw ${describeError(err)}`, { cause: err });
    }
  }
  const providers =
    typeof plugin.providers === 'function'
      ? await plugin.providers({ options: options as Options, logger: init.logger ?? silentPluginLogger, hostSdkVersion: SDK_VERSION })
      : plugin.providers;
  if (!Array.isArray(providers)) throw new PluginDefinitionError('the providers factory did not return an array');
  const listProblem = providersProblem(providers);
  if (listProblem) throw new PluginDefinitionError(listProblem);
  return [...providers];
}

/**
 * Loads the plugins named by `--plugin` (repeatable) with their options from `--plugin-config`, validates them and
 * instantiates their providers. Every problem is collected and reported at once as a PluginStartupError whose
 * message names each failing plugin: the controller does not start with a plugin missing.
 *
 * Checks, per plugin: the spec resolves to a module; the module imports (within `timeoutMs`); its default export
 * (or `plugin` export) was made by `definePlugin` (any copy of the SDK); the plugin's SDK major equals the host's;
 * the shape (name, version, providers); the options parse; the providers factory finishes (within `timeoutMs`);
 * provider names match `^[a-zA-Z0-9_-]{1,30}$` and are unique within the plugin. Across plugins: plugin names and
 * provider names are unique, and every `--plugin-config` entry matches a loaded plugin.
 */
import { pathToFileURL } from 'node:url';
import type { Logger } from '../../core/ports/observability.js';
import { PROVIDER_NAME_PATTERN as CORE_PROVIDER_NAME_PATTERN } from '../../core/ports/provider.js';
import {
  instantiatePlugin,
  isPlugin,
  pluginSpecProblem,
  PluginDefinitionError,
} from '../sdk/src/define.js';
import { describeError, PluginConfigError } from '../sdk/src/errors.js';
import type { Plugin, ProviderDefinition } from '../sdk/src/types.js';
import { checkSdkCompatibility, SDK_VERSION } from '../sdk/src/version.js';
import { loadPluginConfigFile, type PluginConfigFile } from './config-file.js';
import { resolvePluginSpec, type ResolvedPlugin } from './resolve.js';

export const DEFAULT_LOAD_TIMEOUT_MS = 30_000;

export interface LoadedPlugin {
  spec: string;
  entry: string;
  plugin: Plugin;
  providers: ProviderDefinition[];
}

/** One plugin failed to load; the message starts with `plugin "<spec>"`. */
export class PluginLoadError extends Error {
  readonly spec: string;
  constructor(spec: string, problem: string, options?: { cause?: unknown }) {
    super(`plugin "${spec}": ${problem}`, options);
    this.name = 'PluginLoadError';
    this.spec = spec;
  }
}

/** Start-up failed; `failures` has one entry per failing plugin (or config entry). */
export class PluginStartupError extends Error {
  readonly failures: Error[];
  constructor(failures: Error[]) {
    super(
      failures.length === 1
        ? `cannot load plugins: ${failures[0]!.message}`
        : `cannot load plugins (${failures.length} problems):\n${failures.map((f) => `  - ${f.message}`).join('\n')}`,
    );
    this.name = 'PluginStartupError';
    this.failures = failures;
  }
}

export interface LoadPluginsOptions {
  /** `--plugin` values, in order. */
  specs: string[];
  /** `--plugin-config` path (read here), or an already parsed file. */
  configFile?: string;
  config?: PluginConfigFile;
  cwd?: string;
  /** More directories whose node_modules are searched (default: the controller's installation). */
  searchDirs?: string[];
  logger?: Logger;
  /** Limit for importing a plugin and for its providers factory; default 30 s. */
  timeoutMs?: number;
  /** Imports a module by absolute path; default dynamic `import()`. */
  importer?: (entry: string) => Promise<unknown>;
  /** The host's SDK version (tests pretend other versions). */
  hostSdkVersion?: string;
}

export async function loadPlugins(o: LoadPluginsOptions): Promise<LoadedPlugin[]> {
  const config = o.config ?? (o.configFile ? loadPluginConfigFile(o.configFile) : undefined);
  const failures: Error[] = [];
  const loaded: LoadedPlugin[] = [];
  const seenSpecs = new Set<string>();
  const seenNames = new Set<string>();
  for (const spec of o.specs) {
    if (seenSpecs.has(spec)) {
      failures.push(new PluginLoadError(spec, 'is given twice'));
      continue;
    }
    seenSpecs.add(spec);
    try {
      loaded.push(await loadOne(spec, o, config, seenNames));
    } catch (err) {
      failures.push(err instanceof PluginLoadError ? err : new PluginLoadError(spec, (err as Error).message, { cause: err }));
    }
  }
  failures.push(...crossChecks(loaded, config, new Set([...seenSpecs, ...seenNames])));
  if (failures.length) {
    await Promise.all(loaded.flatMap((l) => l.providers.map((p) => Promise.resolve().then(() => p.close?.()).catch(() => undefined))));
    throw new PluginStartupError(failures);
  }
  for (const l of loaded) {
    o.logger?.info(
      { plugin: l.plugin.name, version: l.plugin.version, sdkVersion: l.plugin.sdkVersion, entry: l.entry, providers: l.providers.map((p) => p.name) },
      'plugin loaded',
    );
  }
  return loaded;
}

async function loadOne(spec: string, o: LoadPluginsOptions, config: PluginConfigFile | undefined, seenNames: Set<string>): Promise<LoadedPlugin> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  const fail = (problem: string, cause?: unknown): never => {
    throw new PluginLoadError(spec, problem, cause === undefined ? undefined : { cause });
  };
  let resolved: ResolvedPlugin;
  try {
    resolved = resolvePluginSpec(spec, { cwd: o.cwd, searchDirs: o.searchDirs });
  } catch (err) {
    return fail((err as Error).message, err);
  }
  const importer = o.importer ?? ((entry: string) => import(pathToFileURL(entry).href) as Promise<unknown>);
  const mod = await withTimeout(importer(resolved.entry), timeoutMs).catch((err: unknown) =>
    fail(err instanceof TimeoutError ? `importing ${resolved.entry} did not finish within ${timeoutMs} ms` : `cannot import ${resolved.entry}: ${describeError(err)}`, err),
  );
  const plugin = pluginExport(mod);
  if (!plugin) {
    return fail(
      `${resolved.entry} does not export a plugin: make its default export definePlugin({ name, version, providers }) ` +
        `from @secrets-sync/plugin-sdk (found ${shapeOf(mod)})`,
    );
  }
  if (typeof plugin.name === 'string') seenNames.add(plugin.name);
  const sdkVersion = (plugin as { sdkVersion?: unknown }).sdkVersion;
  const compat = checkSdkCompatibility(typeof sdkVersion === 'string' ? sdkVersion : String(sdkVersion), o.hostSdkVersion ?? SDK_VERSION);
  if (!compat.compatible) return fail(`cannot load: ${compat.note}; rebuild it against @secrets-sync/plugin-sdk ${(o.hostSdkVersion ?? SDK_VERSION).split('.')[0]}.x`);
  const shape = pluginSpecProblem(plugin);
  if (shape) return fail(`malformed plugin: ${shape}`);
  if (compat.note) o.logger?.warn({ plugin: plugin.name }, `plugin ${compat.note}`);
  const entry = config?.plugins.get(plugin.name) ?? config?.plugins.get(spec);
  let providers: ProviderDefinition[];
  try {
    const logger = o.logger?.child({ plugin: plugin.name });
    providers = await withTimeout(instantiatePlugin(plugin, { options: entry?.options, logger }), timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError) return fail(`its providers factory did not finish within ${timeoutMs} ms`);
    if (err instanceof PluginConfigError) return fail(`${err.message}${config ? ` (from ${config.path})` : ' (no --plugin-config given)'}`, err);
    if (err instanceof PluginDefinitionError) return fail(`malformed plugin: ${err.message}`, err);
    return fail(`its providers factory failed: ${describeError(err)}`, err);
  }
  for (const p of providers) {
    if (!CORE_PROVIDER_NAME_PATTERN.test(p.name)) fail(`provider name "${p.name}" does not match ${CORE_PROVIDER_NAME_PATTERN.source}`);
  }
  return { spec, entry: resolved.entry, plugin, providers };
}

/** Duplicates among loaded plugins, and config entries that match no --plugin (by spec or by name, loaded or not). */
function crossChecks(loaded: LoadedPlugin[], config: PluginConfigFile | undefined, known: Set<string>): Error[] {
  const failures: Error[] = [];
  const byPluginName = new Map<string, LoadedPlugin>();
  const byProvider = new Map<string, LoadedPlugin>();
  for (const l of loaded) {
    const other = byPluginName.get(l.plugin.name);
    if (other) failures.push(new PluginLoadError(l.spec, `its name "${l.plugin.name}" is also the name of plugin "${other.spec}"`));
    else byPluginName.set(l.plugin.name, l);
    for (const p of l.providers) {
      const owner = byProvider.get(p.name);
      if (owner) failures.push(new PluginLoadError(l.spec, `provider "${p.name}" is also provided by plugin "${owner.spec}"`));
      else byProvider.set(p.name, l);
    }
  }
  for (const key of config?.plugins.keys() ?? []) {
    if (!known.has(key)) {
      failures.push(new Error(`--plugin-config ${config!.path}: plugins."${key}" matches no plugin given with --plugin`));
    }
  }
  return failures;
}

/** The plugin among a module's exports: `default`, a CommonJS `module.exports.default`, or `plugin`. */
function pluginExport(mod: unknown): Plugin | undefined {
  if (typeof mod !== 'object' || mod === null) return undefined;
  const m = mod as Record<string, unknown>;
  const candidates = [m.default, (m.default as Record<string, unknown> | undefined)?.default, m.plugin];
  return candidates.find((c): c is Plugin => isPlugin(c));
}

function shapeOf(mod: unknown): string {
  if (typeof mod !== 'object' || mod === null) return String(mod);
  const keys = Object.keys(mod);
  const d = (mod as { default?: unknown }).default;
  const def = d === undefined ? 'no default export' : `a default export of type ${d === null ? 'null' : typeof d}`;
  return `${def}; exports: ${keys.length ? keys.slice(0, 10).join(', ') : 'none'}`;
}


class TimeoutError extends Error {}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

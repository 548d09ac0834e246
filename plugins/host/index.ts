/**
 * The plugin host: `--plugin` / `--plugin-config` -> in-process provider transports for the composition root.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/ports/observability.js';
import { PluginProviderTransport } from '../../transports/in-process/index.js';
import { describeError } from '../sdk/src/errors.js';
import { loadPlugins, type LoadedPlugin } from './loader.js';

export { loadPluginConfigFile, parsePluginConfig, PluginConfigFileError, type PluginConfigEntry, type PluginConfigFile } from './config-file.js';
export { DEFAULT_LOAD_TIMEOUT_MS, loadPlugins, PluginLoadError, PluginStartupError, type LoadedPlugin, type LoadPluginsOptions } from './loader.js';
export { isPathSpec, PluginResolveError, resolvePluginSpec, splitPackageSpec, type ResolvedPlugin, type ResolveOptions } from './resolve.js';

/** The controller's installation directory: plugins installed next to it (`npm install <plugin>`) are found there. */
export function controllerInstallDir(): string {
  return dirname(fileURLToPath(import.meta.url));
}

export interface PluginTransportsOptions {
  config: Pick<Config, 'plugins' | 'pluginConfigFile' | 'maxCallRecvMsgSize' | 'providerTimeoutMs'>;
  logger: Logger;
  cwd?: string;
}

/** One in-process transport per provider of every `--plugin`; rejects with PluginStartupError naming the plugins. */
export async function loadPluginTransports(o: PluginTransportsOptions): Promise<PluginProviderTransport[]> {
  if (o.config.plugins.length === 0) {
    if (o.config.pluginConfigFile) o.logger.warn({ pluginConfig: o.config.pluginConfigFile }, '--plugin-config given without any --plugin');
    return [];
  }
  const loaded = await loadPlugins({
    specs: o.config.plugins,
    configFile: o.config.pluginConfigFile,
    cwd: o.cwd,
    searchDirs: [controllerInstallDir()],
    logger: o.logger,
  });
  return transportsFor(loaded, o);
}

export function transportsFor(
  loaded: LoadedPlugin[],
  o: { config: Pick<Config, 'maxCallRecvMsgSize' | 'providerTimeoutMs'>; logger: Logger },
): PluginProviderTransport[] {
  return loaded.flatMap((l) =>
    l.providers.map(
      (provider) =>
        new PluginProviderTransport({
          plugin: { name: l.plugin.name, version: l.plugin.version },
          provider,
          maxCallRecvMsgSize: o.config.maxCallRecvMsgSize,
          providerTimeoutMs: o.config.providerTimeoutMs,
          logger: o.logger,
        }),
    ),
  );
}

/**
 * Logs promise rejections nobody handled instead of letting them end the process: with plugins loaded, a plugin's
 * stray promise must not take the controller down. Returns a function that removes the handler.
 */
export function logUnhandledRejections(logger: Logger): () => void {
  const handler = (reason: unknown): void => {
    logger.error({ err: describeError(reason) }, 'unhandled promise rejection (a plugin bug?); continuing');
  };
  process.on('unhandledRejection', handler);
  return () => process.off('unhandledRejection', handler);
}

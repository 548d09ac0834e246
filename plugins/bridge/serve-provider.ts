/**
 * `secrets-sync serve-provider`: one provider of a plugin served as a CSI provider (CSIDriverProvider v1alpha1 on a
 * unix socket), so the same plugin works as a sidecar of this controller, of the upstream controller, or of the
 * Secrets Store CSI driver. The calls go through the same in-process transport as `run --plugin` (deadline,
 * cancellation, result checks), so both report the same results.
 */
import { ConfigError, parseDuration } from '../../core/config.js';
import type { Logger } from '../../core/ports/observability.js';
import { createLogger } from '../../core/observability/logging.js';
import { PluginProviderTransport } from '../../transports/in-process/index.js';
import { controllerInstallDir, logUnhandledRejections } from '../host/index.js';
import { loadPlugins } from '../host/loader.js';
import { serveCsiProvider, type CsiProviderServer } from './csi-server.js';
import { socketPathOf } from './endpoint.js';

export const SERVE_PROVIDER_USAGE = `secrets-sync serve-provider: serve one provider of a plugin over the CSI provider gRPC protocol.

Usage:
  secrets-sync serve-provider --plugin <package or path> [--name <provider>] [--endpoint unix:///provider/<name>.sock]

Flags:
  --plugin <value>                  The plugin (npm package name or path); exactly one.
  --name <value>                    Which provider of the plugin to serve (default: its only provider).
  --endpoint <value>                unix://<socket path> (default unix:///provider/<name>.sock).
  --plugin-config <value>           YAML or JSON file with the plugin's options.
  --max-call-recv-msg-size <value>  Largest response, in bytes (default 4194304; match the client's limit).
  --provider-timeout <value>        Deadline of calls that arrive without one (default 30s).
  --log-level <value>               debug, info, warn or error (default info).`;

export interface ServeProviderArgs {
  plugin: string;
  name?: string;
  endpoint?: string;
  pluginConfigFile?: string;
  maxCallRecvMsgSize: number;
  providerTimeoutMs: number;
  logLevel: string;
}

const VALUE_FLAGS = ['plugin', 'name', 'endpoint', 'plugin-config', 'max-call-recv-msg-size', 'provider-timeout', 'log-level'];

export function parseServeProviderArgs(argv: string[]): ServeProviderArgs {
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) throw new ConfigError(`unexpected argument "${a}" (see serve-provider --help)`);
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (!VALUE_FLAGS.includes(name)) throw new ConfigError(`unknown flag --${name} for serve-provider (see serve-provider --help)`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= argv.length) throw new ConfigError(`flag --${name} needs a value`);
      value = argv[++i]!;
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  const one = (name: string): string | undefined => {
    const v = values.get(name);
    if (v && v.length > 1) throw new ConfigError(`--${name} is given ${v.length} times; serve-provider serves one provider of one plugin`);
    return v?.[0];
  };
  const plugin = one('plugin');
  if (!plugin) throw new ConfigError('serve-provider needs --plugin <package or path>');
  const size = Number(one('max-call-recv-msg-size') ?? '4194304');
  if (!Number.isInteger(size) || size < 1024) throw new ConfigError('--max-call-recv-msg-size must be an integer >= 1024');
  const logLevel = one('log-level') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new ConfigError(`--log-level must be debug, info, warn or error, got "${logLevel}"`);
  return {
    plugin,
    name: one('name'),
    endpoint: one('endpoint'),
    pluginConfigFile: one('plugin-config'),
    maxCallRecvMsgSize: size,
    providerTimeoutMs: parseDuration(one('provider-timeout') ?? '30s') || 30_000,
    logLevel,
  };
}

export interface ProviderBridge {
  readonly server: CsiProviderServer;
  readonly transport: PluginProviderTransport;
  /** Stops serving (graceful, then forced) and closes the provider. */
  close(): Promise<void>;
}

/** Loads the plugin, picks the provider and starts serving; rejects with a clear error when any step fails. */
export async function startProviderBridge(args: ServeProviderArgs, logger: Logger, cwd = process.cwd()): Promise<ProviderBridge> {
  const [loaded] = await loadPlugins({
    specs: [args.plugin],
    configFile: args.pluginConfigFile,
    cwd,
    searchDirs: [controllerInstallDir()],
    logger,
  });
  const names = loaded!.providers.map((p) => p.name);
  let provider;
  if (args.name !== undefined) {
    provider = loaded!.providers.find((p) => p.name === args.name);
    if (!provider) throw new ConfigError(`plugin "${loaded!.plugin.name}" has no provider "${args.name}" (it has: ${names.join(', ')})`);
  } else if (loaded!.providers.length === 1) {
    provider = loaded!.providers[0]!;
  } else {
    throw new ConfigError(`plugin "${loaded!.plugin.name}" has ${names.length} providers (${names.join(', ')}): choose one with --name`);
  }
  const transport = new PluginProviderTransport({
    plugin: { name: loaded!.plugin.name, version: loaded!.plugin.version },
    provider,
    maxCallRecvMsgSize: args.maxCallRecvMsgSize,
    providerTimeoutMs: args.providerTimeoutMs,
    logger,
  });
  let server: CsiProviderServer;
  try {
    const socketPath = socketPathOf(args.endpoint ?? `unix:///provider/${provider.name}.sock`, cwd);
    server = await serveCsiProvider({ socketPath, transport, logger: logger.child({ provider: provider.name }) });
  } catch (err) {
    await transport.close();
    throw err;
  }
  return {
    server,
    transport,
    async close() {
      await server.stop();
      await transport.close();
    },
  };
}

/** The command: serves until SIGTERM or SIGINT, then stops gracefully; resolves with the exit code. */
export async function serveProvider(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(SERVE_PROVIDER_USAGE);
    return 0;
  }
  const args = parseServeProviderArgs(argv);
  const log = createLogger(args.logLevel);
  const removeSafetyNet = logUnhandledRejections(log);
  const bridge = await startProviderBridge(args, log);
  log.info(
    { plugin: bridge.transport.plugin.name, version: bridge.transport.plugin.version, provider: bridge.transport.providerName, socket: bridge.server.socketPath },
    'serving plugin provider over CSI gRPC',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await bridge.close();
  removeSafetyNet();
  log.info({}, 'stopped');
  return 0;
}

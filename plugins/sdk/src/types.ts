/**
 * The provider contract. A plugin is an npm package whose default export is `definePlugin({...})`; each of its
 * providers serves one provider name (the `spec.provider` of a SecretProviderClass) with one method, `mount`.
 * The shapes mirror the CSI provider protocol (`Mount`), with the attributes and tokens already parsed.
 */
import type { MountAttributes } from './attributes.js';
import type { ServiceAccountTokens } from './tokens.js';

export interface ObjectVersion {
  /** A stable, unique id of the object in the store, for example `secret/db-password`. */
  readonly id: string;
  /** Its version in the store; changes when the content changes (an ETag, a revision, a content hash). */
  readonly version: string;
}

export interface SecretFile {
  /**
   * Where the content appears: the `sourcePath` a SecretSync maps to a key. Relative, `/`-separated, with no `..`
   * element and no NUL byte, for example `db-password` or `tls/tls.crt`.
   */
  readonly path: string;
  /** A string is encoded as UTF-8. */
  readonly contents: string | Uint8Array;
  /** Permission bits 0..511; default: the mode the caller asked for (0644). Ignored by the sync controller. */
  readonly mode?: number;
}

export interface MountResult {
  readonly files: readonly SecretFile[];
  /** One entry per object fetched; never empty (the controller treats an empty list as a failed call). */
  readonly objectVersions: readonly ObjectVersion[];
}

/** Structured logging (a pino logger fits): constant messages, fields first. Never log secret values or tokens. */
export interface PluginLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface MountRequest {
  /** SecretProviderClass parameters and the pod / ServiceAccount attributes, parsed. */
  readonly attributes: MountAttributes;
  /** Node-publish secrets: always empty under the sync controller (the CSI driver may send some). */
  readonly secrets: Readonly<Record<string, string>>;
  /** ServiceAccount tokens of the SecretSync's ServiceAccount, per audience. */
  readonly tokens: ServiceAccountTokens;
  /** What the caller holds already (empty under the sync controller; set by the CSI driver on rotation). */
  readonly currentObjectVersions: readonly ObjectVersion[];
  /**
   * Aborted when the call's deadline passes or the controller shuts down. Pass it to every I/O call (`fetch`,
   * `readFile`, ...) and stop when it fires: the controller gives up on the call either way.
   */
  readonly signal: AbortSignal;
  /** Absolute deadline of the call in milliseconds since the epoch. */
  readonly deadline: number;
  readonly logger: PluginLogger;
}

/**
 * One provider. `mount` fetches what the attributes ask for and returns files and object versions, or throws one
 * of the SDK's typed errors (`ProviderError`, `RemoteSecretStoreFetchFailed`, `SecretProviderClassMisconfigured`).
 * It may be called concurrently, for different SecretSyncs and namespaces: keep no per-call state on the provider.
 */
export interface ProviderDefinition {
  /** The provider name a SecretProviderClass uses in `spec.provider`: `^[a-zA-Z0-9_-]{1,30}$`. */
  readonly name: string;
  mount(request: MountRequest): MountResult | Promise<MountResult>;
  /** Called once on shutdown: close connections, stop timers. */
  close?(): void | Promise<void>;
}

export interface PluginContext<Options> {
  /** The plugin's options from `--plugin-config`, after the plugin's own `options` parser. */
  readonly options: Options;
  readonly logger: PluginLogger;
  /** The SDK version of the host that loads the plugin. */
  readonly hostSdkVersion: string;
}

export type ProvidersFactory<Options> = (
  context: PluginContext<Options>,
) => readonly ProviderDefinition[] | Promise<readonly ProviderDefinition[]>;

export interface PluginSpec<Options = unknown> {
  /** The plugin's name, used in logs, errors and as its key in `--plugin-config`; usually the package name. */
  readonly name: string;
  /** The plugin's own version (semver), reported as the provider's runtime version. */
  readonly version: string;
  readonly description?: string;
  /**
   * Validates and types the plugin's options (the raw YAML/JSON value under its key in `--plugin-config`,
   * `undefined` when there is none). Throw `PluginConfigError` with a message that says what is wrong.
   */
  readonly options?: (raw: unknown) => Options;
  /** The providers, or a function from the options to the providers (called once at start-up). */
  readonly providers: readonly ProviderDefinition[] | ProvidersFactory<Options>;
}

/** Marks objects made by `definePlugin`, in any copy of the SDK. */
export const PLUGIN_BRAND: unique symbol = Symbol.for('secrets-sync.plugin');

/** What `definePlugin` returns: the spec, frozen, stamped with the SDK version it was built against. */
export interface Plugin<Options = unknown> extends PluginSpec<Options> {
  readonly [PLUGIN_BRAND]: true;
  /** The version of the SDK `definePlugin` came from; the host loads the plugin only when the majors match. */
  readonly sdkVersion: string;
}

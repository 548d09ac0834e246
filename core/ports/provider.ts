/**
 * The provider seam. A ProviderTransport reaches one provider (by name) over some transport: CSI gRPC on a
 * unix socket, an in-process TypeScript plugin, or the fake. The shapes mirror CSIDriverProvider v1alpha1
 * (MountRequest / MountResponse) but are transport-neutral: attributes and secrets are parsed objects here,
 * serialised to JSON strings only by the gRPC transport.
 */
export interface ObjectVersion {
  id: string;
  version: string;
}

export interface ProviderFile {
  /** Relative path; the transport rejects absolute paths and `..` elements. */
  path: string;
  /** Permission bits (0..511); informational, ignored by the mapper. */
  mode?: number;
  contents: Uint8Array;
}

export interface MountRequest {
  /** SPC parameters plus the pod / ServiceAccount / token attributes (all strings). */
  attributes: Record<string, string>;
  /** Node-publish secrets; always `{}` for the sync controller. */
  secrets: Record<string, string>;
  /** Constant `/mnt/secrets-store`: providers require it non-empty; nothing is written there. */
  targetPath: string;
  /** JSON-encoded file mode, `"420"` (0644). */
  permission: string;
  currentObjectVersions: ObjectVersion[];
}

export interface MountResponse {
  files: ProviderFile[];
  /** Never empty on success: the transport turns an empty list into `ProviderError("missing object versions")`. */
  objectVersions: ObjectVersion[];
}

export interface VersionInfo {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
}

export interface CallOptions {
  /** Aborted on controller shutdown or when the per-call deadline passes. */
  signal: AbortSignal;
  /** Absolute deadline (ms since epoch) for the call; transports must honour it. */
  deadline?: number;
}

/**
 * One provider reached over one transport.
 * Edge cases: `mount` rejects with a `SyncError` (usually `ProviderError`) on any failure, including a deadline
 * or an abort; it never resolves with a response whose `objectVersions` is empty or whose file paths are unsafe.
 */
export interface ProviderTransport {
  readonly providerName: string;
  readonly kind: 'csi-grpc' | 'in-process' | 'fake';
  mount(request: MountRequest, options: CallOptions): Promise<MountResponse>;
  version(options: CallOptions): Promise<VersionInfo>;
  close(): Promise<void>;
}
export const ProviderTransport = Symbol('ProviderTransport');

/**
 * Provider name -> transport. Order: an in-process provider registered under that name, then a socket
 * `<providerVolume>/<name>.sock`, else `SecretProviderClassMisconfigured`. Names must match
 * `^[a-zA-Z0-9_-]{0,30}$` (else `invalid provider: provider "<p>"`); an unknown name gives
 * `provider not found: provider "<p>"`.
 */
export interface ProviderResolver {
  resolve(providerName: string): Promise<ProviderTransport>;
}
export const ProviderResolver = Symbol('ProviderResolver');

/** Where in-process providers (plugins, the fake) register themselves; consulted first by the resolver. */
export interface ProviderRegistry {
  register(transport: ProviderTransport): void;
  get(providerName: string): ProviderTransport | undefined;
  names(): string[];
}
export const ProviderRegistry = Symbol('ProviderRegistry');

/** Builds the socket transport for a provider name; provided by transports/csi-grpc, wired in the composition root. */
export interface SocketTransportFactory {
  /** Returns a transport when `<dir>/<name>.sock` exists, else undefined. */
  forSocket(providerName: string): ProviderTransport | undefined;
  close(): Promise<void>;
}
export const SocketTransportFactory = Symbol('SocketTransportFactory');

export const PROVIDER_NAME_PATTERN = /^[a-zA-Z0-9_-]{0,30}$/;
export const MOUNT_TARGET_PATH = '/mnt/secrets-store';
export const MOUNT_PERMISSION = '420';
/** Default `--max-call-recv-msg-size`: the largest Mount response a provider may send (4 MiB, gRPC's default). */
export const DEFAULT_MAX_CALL_RECV_MSG_SIZE = 4 * 1024 * 1024;
/** Default `--provider-timeout`: the deadline of a provider call when the caller sets none. */
export const DEFAULT_PROVIDER_TIMEOUT_MS = 30_000;

/**
 * Typed errors a provider throws from `mount`. Each carries the SecretSync condition `reason` the controller writes
 * (upstream's reason strings) and a `code`, the gRPC status `serve-provider` answers with when the plugin is served
 * over the CSI protocol. The message is shown to users in conditions and events: never put secret values or tokens
 * in it.
 *
 * The controller recognises these errors by a registered symbol, not by `instanceof`, so a plugin that bundles its
 * own copy of the SDK is understood too. Anything else a provider throws becomes a `ProviderError` whose message
 * names the provider and says that it threw an untyped error.
 */

/** Condition reasons a provider can choose (upstream's strings). */
export type PluginErrorReason = 'ProviderError' | 'RemoteSecretStoreFetchFailed' | 'SecretProviderClassMisconfigured';

export const PLUGIN_ERROR_REASONS: readonly PluginErrorReason[] = [
  'ProviderError',
  'RemoteSecretStoreFetchFailed',
  'SecretProviderClassMisconfigured',
];

/** gRPC status names (as gRPC-Go prints them); `serve-provider` answers with the matching status. */
export type StatusCode =
  | 'Unknown'
  | 'InvalidArgument'
  | 'NotFound'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'ResourceExhausted'
  | 'FailedPrecondition'
  | 'Unavailable'
  | 'DeadlineExceeded'
  | 'Canceled'
  | 'Internal';

export const STATUS_CODES: readonly StatusCode[] = [
  'Unknown',
  'InvalidArgument',
  'NotFound',
  'PermissionDenied',
  'Unauthenticated',
  'ResourceExhausted',
  'FailedPrecondition',
  'Unavailable',
  'DeadlineExceeded',
  'Canceled',
  'Internal',
];

/** Marks SDK errors across copies of the SDK (a registered symbol is the same in every copy). */
export const PLUGIN_ERROR_BRAND: unique symbol = Symbol.for('secrets-sync.plugin-sdk.error');

export interface PluginErrorOptions {
  /** The gRPC status `serve-provider` answers with; each class has a sensible default. */
  code?: StatusCode;
  cause?: unknown;
}

export abstract class PluginError extends Error {
  abstract readonly reason: PluginErrorReason;
  readonly code: StatusCode;
  readonly [PLUGIN_ERROR_BRAND] = true;

  constructor(message: string, defaultCode: StatusCode, options: PluginErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? defaultCode;
  }
}

/**
 * The store or the provider failed: the store is unreachable, refused the credentials, answered with an error.
 * Condition reason `ProviderError`; the controller retries with backoff. Default code `Unknown`.
 */
export class ProviderError extends PluginError {
  readonly reason = 'ProviderError' as const;
  constructor(message: string, options?: PluginErrorOptions) {
    super(message, 'Unknown', options);
  }
}

/**
 * The store answered, but an object the SecretProviderClass asks for cannot be fetched (it does not exist, a field
 * is missing, its content cannot be decoded). Condition reason `RemoteSecretStoreFetchFailed`. Default code
 * `NotFound`.
 */
export class RemoteSecretStoreFetchFailed extends PluginError {
  readonly reason = 'RemoteSecretStoreFetchFailed' as const;
  constructor(message: string, options?: PluginErrorOptions) {
    super(message, 'NotFound', options);
  }
}

/**
 * The SecretProviderClass parameters are wrong: a required parameter is missing, a value does not parse, an option
 * is unknown. Condition reason `SecretProviderClassMisconfigured`. Default code `InvalidArgument`.
 */
export class SecretProviderClassMisconfigured extends PluginError {
  readonly reason = 'SecretProviderClassMisconfigured' as const;
  constructor(message: string, options?: PluginErrorOptions) {
    super(message, 'InvalidArgument', options);
  }
}

/** A plugin's options (from `--plugin-config`) are invalid; thrown from `options` parsers, reported at start-up. */
export class PluginConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginConfigError';
  }
}

/** The shape of a typed plugin error, whichever copy of the SDK created it. */
export interface PluginErrorLike {
  readonly reason: PluginErrorReason;
  readonly code: StatusCode;
  readonly message: string;
}

/** True for an error thrown through this SDK's error classes (any copy of the SDK). */
export function isPluginError(value: unknown): value is PluginErrorLike & Error {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<PropertyKey, unknown>;
  return (
    v[PLUGIN_ERROR_BRAND] === true &&
    typeof v.message === 'string' &&
    PLUGIN_ERROR_REASONS.includes(v.reason as PluginErrorReason) &&
    STATUS_CODES.includes(v.code as StatusCode)
  );
}

/** True when `err` is how an aborted signal rejects (an `AbortError` DOMException, or the signal's own reason). */
export function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted && err === signal.reason) return true;
  // Duck-typed: a DOMException from another realm is not `instanceof Error`.
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** `Name: message` for anything error-like (any realm), else the value as text. Never includes a stack. */
export function describeError(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown } | null;
  if (typeof e === 'object' && e !== null && typeof e.message === 'string') {
    return typeof e.name === 'string' && e.name !== '' ? `${e.name}: ${e.message}` : e.message;
  }
  return String(err);
}

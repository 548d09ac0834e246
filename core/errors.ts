/**
 * Typed errors whose `reason` is the condition reason written to SecretSync status (upstream's strings).
 * Messages are shown to users in conditions and events, so they must never carry secret values or tokens.
 */
export type SyncReason =
  | 'SecretProviderClassMisconfigured'
  | 'InvalidClusterSecretLabelError'
  | 'InvalidClusterSecretAnnotationError'
  | 'ProviderError'
  | 'RemoteSecretStoreFetchFailed'
  | 'ControllerPatchError'
  | 'ControllerSyncError';

export abstract class SyncError extends Error {
  abstract readonly reason: SyncReason;
  /** A terminal error is not retried with backoff: it waits for a spec change or the next poll. */
  readonly terminal: boolean = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The SPC is missing, names an invalid or unknown provider, or is otherwise unusable. */
export class SecretProviderClassMisconfigured extends SyncError {
  readonly reason = 'SecretProviderClassMisconfigured' as const;
}

/** The provider failed: transport error, deadline, provider error code, bad response. */
export class ProviderError extends SyncError {
  readonly reason = 'ProviderError' as const;
}

/** The provider answered, but its files cannot be mapped to the requested Secret (missing path, bad TLS data, size). */
export class RemoteSecretStoreFetchFailed extends SyncError {
  readonly reason = 'RemoteSecretStoreFetchFailed' as const;
}

/** The API server refused the Secret (admission policy, validation, conflict, immutable type). */
export class ControllerPatchError extends SyncError {
  readonly reason = 'ControllerPatchError' as const;
}

/** Anything else that went wrong inside the controller (token request, encoding). */
export class ControllerSyncError extends SyncError {
  readonly reason = 'ControllerSyncError' as const;
}

export class InvalidClusterSecretLabelError extends SyncError {
  readonly reason = 'InvalidClusterSecretLabelError' as const;
  override readonly terminal = true;
}

export class InvalidClusterSecretAnnotationError extends SyncError {
  readonly reason = 'InvalidClusterSecretAnnotationError' as const;
  override readonly terminal = true;
}

/** Text of any thrown value, for wrapping; never includes stack traces. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const BY_REASON: Record<SyncReason, new (message: string, options?: { cause?: unknown }) => SyncError> = {
  SecretProviderClassMisconfigured,
  InvalidClusterSecretLabelError,
  InvalidClusterSecretAnnotationError,
  ProviderError,
  RemoteSecretStoreFetchFailed,
  ControllerPatchError,
  ControllerSyncError,
};

/** The same kind of error (same reason, same terminal flag) with `prefix` before its message. */
export function withPrefix(err: SyncError, prefix: string): SyncError {
  return new BY_REASON[err.reason](prefix + err.message, { cause: err });
}

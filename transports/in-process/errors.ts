/**
 * Core's typed errors, remembering the gRPC status a plugin chose (or the transport picked), so `serve-provider`
 * can answer with it. The reconciler only looks at `reason` and `message`; the code is lost when it rewraps.
 */
import {
  ProviderError,
  RemoteSecretStoreFetchFailed,
  SecretProviderClassMisconfigured,
  SyncError,
} from '../../core/errors.js';
import { STATUS_CODES, type PluginErrorReason, type StatusCode } from '../../plugins/sdk/src/errors.js';

export interface CodedErrorOptions {
  code?: StatusCode;
  cause?: unknown;
}

export class PluginProviderError extends ProviderError {
  readonly code: StatusCode;
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'Unknown';
  }
}

export class PluginFetchFailed extends RemoteSecretStoreFetchFailed {
  readonly code: StatusCode;
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'NotFound';
  }
}

export class PluginMisconfigured extends SecretProviderClassMisconfigured {
  readonly code: StatusCode;
  constructor(message: string, options: CodedErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'InvalidArgument';
  }
}

/** The core error for a plugin error's reason. */
export function codedError(reason: PluginErrorReason, message: string, options: CodedErrorOptions): SyncError {
  switch (reason) {
    case 'RemoteSecretStoreFetchFailed':
      return new PluginFetchFailed(message, options);
    case 'SecretProviderClassMisconfigured':
      return new PluginMisconfigured(message, options);
    default:
      return new PluginProviderError(message, options);
  }
}

/** The gRPC status for any error: its own code when it carries one, else one derived from its reason. */
export function statusCodeOf(err: unknown): StatusCode {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && STATUS_CODES.includes(code as StatusCode)) return code as StatusCode;
  if (err instanceof SecretProviderClassMisconfigured) return 'InvalidArgument';
  if (err instanceof RemoteSecretStoreFetchFailed) return 'NotFound';
  return 'Unknown';
}

/**
 * gRPC status -> ProviderError, at the boundary. Messages use gRPC-Go's format (`rpc error: code = X desc = Y`)
 * so users see the same condition text as with upstream's controller. They are built only from the status code
 * and the provider's details, never from the request (its attributes carry ServiceAccount tokens).
 */
import { status as Status } from '@grpc/grpc-js';
import { ProviderError } from '../../core/errors.js';

/** gRPC-Go's names for status codes, as printed in `rpc error: code = <name>`. */
const GO_CODE_NAMES: Record<number, string> = {
  [Status.OK]: 'OK',
  [Status.CANCELLED]: 'Canceled',
  [Status.UNKNOWN]: 'Unknown',
  [Status.INVALID_ARGUMENT]: 'InvalidArgument',
  [Status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [Status.NOT_FOUND]: 'NotFound',
  [Status.ALREADY_EXISTS]: 'AlreadyExists',
  [Status.PERMISSION_DENIED]: 'PermissionDenied',
  [Status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [Status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [Status.ABORTED]: 'Aborted',
  [Status.OUT_OF_RANGE]: 'OutOfRange',
  [Status.UNIMPLEMENTED]: 'Unimplemented',
  [Status.INTERNAL]: 'Internal',
  [Status.UNAVAILABLE]: 'Unavailable',
  [Status.DATA_LOSS]: 'DataLoss',
  [Status.UNAUTHENTICATED]: 'Unauthenticated',
};

/** Provider-supplied details are cut to this many characters in messages (conditions and events are small). */
const MAX_DETAILS_CHARS = 1024;

export const DEADLINE_EXCEEDED_DETAILS = 'context deadline exceeded';
export const CANCELLED_DETAILS = 'context canceled';

/** A ProviderError that remembers the gRPC status it came from (for retry decisions and tests). */
export class ProviderRpcError extends ProviderError {
  readonly code: Status;
  readonly details: string;
  constructor(code: Status, details: string, options?: { cause?: unknown }) {
    super(rpcErrorMessage(code, details), options);
    this.code = code;
    this.details = details;
  }
}

export function goCodeName(code: number): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}

export function rpcErrorMessage(code: number, details: string): string {
  const desc = details.length > MAX_DETAILS_CHARS ? `${details.slice(0, MAX_DETAILS_CHARS)}...` : details;
  return `rpc error: code = ${goCodeName(code)} desc = ${desc}`;
}

/** The error every transport reports when its per-call deadline passes. */
export function deadlineExceeded(cause?: unknown): ProviderRpcError {
  return new ProviderRpcError(Status.DEADLINE_EXCEEDED, DEADLINE_EXCEEDED_DETAILS, { cause });
}

/** The error every transport reports when the caller's AbortSignal fires. */
export function cancelled(cause?: unknown): ProviderRpcError {
  return new ProviderRpcError(Status.CANCELLED, CANCELLED_DETAILS, { cause });
}

/** `Received message larger than max (N vs M)`, as grpc-js reports an over-size response. */
export function isReceiveSizeExceeded(code: number, details: string): boolean {
  return code === Status.RESOURCE_EXHAUSTED && /larger than max/i.test(details);
}

export function receiveSizeExceeded(maxBytes: number, cause?: unknown): ProviderError {
  return new ProviderError(
    `provider response exceeds the max receive size of ${maxBytes} bytes; raise --max-call-recv-msg-size`,
    { cause },
  );
}

export { Status };

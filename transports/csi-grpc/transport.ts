/**
 * CsiGrpcTransport: one provider reached over CSIDriverProvider v1alpha1 on one unix socket.
 *
 * Behaviour (upstream provider_client.go, plus what upstream leaves out):
 * - target `unix://<socket>` (grpc-js sends `:authority` = `localhost`), insecure local channel, one client reused;
 * - the client is rebuilt when the socket file is replaced (its identity changes) and after UNAVAILABLE, so a
 *   restarted provider is reached at once instead of after grpc-js's reconnect backoff;
 * - UNAVAILABLE is retried (3 attempts, backoff 1 s x1.1, capped) only while the backoff fits in the deadline;
 * - every call has a deadline (the caller's, else `providerTimeoutMs`) and is cancelled when the signal aborts;
 * - responses are checked in `wire.ts`; gRPC failures become ProviderErrors in `status.ts`.
 */
import { stat } from 'node:fs/promises';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { errorText, ProviderError } from '../../core/errors.js';
import { type Clock, systemClock } from '../../core/ports/clock.js';
import type {
  CallOptions,
  MountRequest,
  MountResponse,
  ProviderTransport,
  VersionInfo,
} from '../../core/ports/provider.js';
import { DEFAULT_MAX_CALL_RECV_MSG_SIZE, DEFAULT_PROVIDER_TIMEOUT_MS } from '../../core/ports/provider.js';
import { CSIDriverProviderClient, CSIDriverProviderService } from '../../proto/gen/service.js';
import {
  cancelled,
  deadlineExceeded,
  isReceiveSizeExceeded,
  ProviderRpcError,
  receiveSizeExceeded,
  Status,
} from './status.js';
import { API_VERSION, fromWireMountResponse, fromWireVersionResponse, toWireMountRequest } from './wire.js';

export { DEFAULT_MAX_CALL_RECV_MSG_SIZE, DEFAULT_PROVIDER_TIMEOUT_MS };
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Responses above this size are logged: a Secret holds at most 1 MiB. */
export const LARGE_RESPONSE_BYTES = 1024 * 1024;
/** Longest timer Node supports; later deadlines are clamped to it. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Structured log callbacks (a pino logger fits). Fields never carry request attributes or file contents. */
export interface TransportLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  debug?(fields: Record<string, unknown>, message: string): void;
}

export interface RetryOptions {
  /** Total attempts for UNAVAILABLE, including the first. Default 3. */
  maxAttempts?: number;
  /** Default 1000 ms. */
  initialBackoffMs?: number;
  /** Default 10 000 ms. */
  maxBackoffMs?: number;
  /** Default 1.1. */
  multiplier?: number;
}

export interface CsiGrpcTransportOptions {
  providerName: string;
  /** Absolute path of the provider's socket. */
  socketPath: string;
  maxCallRecvMsgSize?: number;
  providerTimeoutMs?: number;
  retry?: RetryOptions;
  logger?: TransportLogger;
  clock?: Clock;
}

/** One grpc-js client; retired clients close when their last call ends. */
interface Connection {
  client: CSIDriverProviderClient;
  /** Identity of the socket file the client was opened for. */
  socketIdentity: string | undefined;
  inflight: number;
  retired: boolean;
}

interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

export class CsiGrpcTransport implements ProviderTransport {
  readonly kind = 'csi-grpc' as const;
  readonly providerName: string;
  readonly socketPath: string;
  private readonly maxRecv: number;
  private readonly timeoutMs: number;
  private readonly retry: Required<RetryOptions>;
  private readonly logger: TransportLogger | undefined;
  private readonly clock: Clock;
  private current: Connection | undefined;
  private closed = false;

  constructor(options: CsiGrpcTransportOptions) {
    this.providerName = options.providerName;
    this.socketPath = options.socketPath;
    this.maxRecv = options.maxCallRecvMsgSize ?? DEFAULT_MAX_CALL_RECV_MSG_SIZE;
    this.timeoutMs = options.providerTimeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.retry = {
      maxAttempts: options.retry?.maxAttempts ?? 3,
      initialBackoffMs: options.retry?.initialBackoffMs ?? 1000,
      maxBackoffMs: options.retry?.maxBackoffMs ?? 10_000,
      multiplier: options.retry?.multiplier ?? 1.1,
    };
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
  }

  async mount(request: MountRequest, options: CallOptions): Promise<MountResponse> {
    const { response, bytes } = await this.call(CSIDriverProviderService.mount, toWireMountRequest(request), options);
    if (bytes > LARGE_RESPONSE_BYTES) {
      this.logger?.warn({ provider: this.providerName, bytes }, 'provider response is larger than 1 MiB');
    }
    return fromWireMountResponse(response);
  }

  async version(options: CallOptions): Promise<VersionInfo> {
    const { response } = await this.call(CSIDriverProviderService.version, { version: API_VERSION }, options);
    return fromWireVersionResponse(response);
  }

  /** Version with a 5 s deadline; rejects with a ProviderError when the provider does not answer. */
  checkHealth(signal: AbortSignal = new AbortController().signal): Promise<VersionInfo> {
    return this.version({ signal, deadline: this.clock.now() + HEALTH_CHECK_TIMEOUT_MS });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.current) this.retire(this.current);
  }

  private async call<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    options: CallOptions,
  ): Promise<{ response: Res; bytes: number }> {
    const deadline = options.deadline ?? this.clock.now() + this.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(method, request, options.signal, deadline);
      } catch (err) {
        const retryable = err instanceof ProviderRpcError && err.code === Status.UNAVAILABLE;
        const backoff = this.backoffMs(attempt);
        if (!retryable || attempt >= this.retry.maxAttempts || this.clock.now() + backoff >= deadline) throw err;
        this.logger?.debug?.(
          { provider: this.providerName, attempt, backoffMs: backoff, error: err.message },
          'provider unavailable, retrying',
        );
        if (this.current) this.retire(this.current);
        await this.sleep(backoff, options.signal);
      }
    }
  }

  private async attempt<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    signal: AbortSignal,
    deadline: number,
  ): Promise<{ response: Res; bytes: number }> {
    if (signal.aborted) throw cancelled(signal.reason);
    if (this.closed) throw new ProviderError(`provider "${this.providerName}" transport is closed`);
    const conn = await this.acquire();
    try {
      const remainingMs = Math.min(deadline - this.clock.now(), MAX_TIMEOUT_MS);
      if (remainingMs <= 0) throw deadlineExceeded();
      if (signal.aborted) throw cancelled(signal.reason);
      return await new Promise((resolve, reject) => {
        let bytes = 0;
        const deserialize = (buffer: Buffer): Res => {
          bytes = buffer.length;
          return method.responseDeserialize(buffer);
        };
        const onAbort = (): void => call.cancel();
        const call = conn.client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          deserialize,
          request,
          new Metadata(),
          { deadline: new Date(Date.now() + remainingMs) },
          (err: ServiceError | null, response?: Res) => {
            signal.removeEventListener('abort', onAbort);
            if (err) reject(this.translate(err, signal));
            else if (response === undefined) reject(new ProviderError('provider returned an empty response'));
            else resolve({ response, bytes });
          },
        );
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      // grpc-js throws synchronously only for a channel that is already shut down.
      throw new ProviderRpcError(Status.UNAVAILABLE, errorText(err), { cause: err });
    } finally {
      this.release(conn);
    }
  }

  private translate(err: ServiceError, signal: AbortSignal): ProviderError {
    if (signal.aborted) return cancelled(signal.reason);
    const details = err.details ?? '';
    if (err.code === Status.DEADLINE_EXCEEDED && /^deadline exceeded/i.test(details)) return deadlineExceeded(err);
    if (isReceiveSizeExceeded(err.code, details)) {
      this.logger?.warn(
        { provider: this.providerName, maxCallRecvMsgSize: this.maxRecv, details },
        'provider response exceeds the max receive size; raise --max-call-recv-msg-size',
      );
      return receiveSizeExceeded(this.maxRecv, err);
    }
    return new ProviderRpcError(err.code, details, { cause: err });
  }

  /**
   * The current client, rebuilt when the socket file was replaced since it was opened, counted as in use until
   * `release` (counting happens in the same tick as the hand-out, so no retire can close it in between).
   */
  private async acquire(): Promise<Connection> {
    const identity = await socketIdentity(this.socketPath);
    if (this.closed) throw new ProviderError(`provider "${this.providerName}" transport is closed`);
    if (identity === undefined) {
      throw new ProviderRpcError(Status.UNAVAILABLE, `provider socket ${this.socketPath} does not exist`);
    }
    if (this.current && this.current.socketIdentity !== identity) {
      this.logger?.warn(
        { provider: this.providerName, socket: this.socketPath },
        'provider socket was replaced, reconnecting',
      );
      this.retire(this.current);
    }
    this.current ??= this.open(identity);
    this.current.inflight++;
    return this.current;
  }

  private release(conn: Connection): void {
    conn.inflight--;
    if (conn.retired && conn.inflight === 0) conn.client.close();
  }

  private open(identity: string): Connection {
    const client = new CSIDriverProviderClient(`unix://${this.socketPath}`, credentials.createInsecure(), {
      'grpc.max_receive_message_length': this.maxRecv,
      // A fresh subchannel per client: the global pool would hand a rebuilt client the old, backing-off one.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    return { client, socketIdentity: identity, inflight: 0, retired: false };
  }

  private retire(conn: Connection): void {
    if (this.current === conn) this.current = undefined;
    if (conn.retired) return;
    conn.retired = true;
    if (conn.inflight === 0) conn.client.close();
  }

  private backoffMs(attempt: number): number {
    const { initialBackoffMs, multiplier, maxBackoffMs } = this.retry;
    return Math.min(initialBackoffMs * multiplier ** (attempt - 1), maxBackoffMs);
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        cancel();
        reject(cancelled(signal.reason));
      };
      const cancel = this.clock.setTimer(ms, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Device, inode and times of the socket file, or undefined when it does not exist. */
async function socketIdentity(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${s.birthtimeMs}:${s.ctimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ProviderError(`cannot stat provider socket ${path}: ${(err as Error).message}`, { cause: err });
  }
}

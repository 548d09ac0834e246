/**
 * The fake provider served as a real CSIDriverProvider v1alpha1 gRPC server on a unix socket, like upstream's
 * e2e provider: a stale socket file is removed before listening, and calls whose `:authority` is not exactly
 * `localhost` are rejected (gRPC-Go and grpc-js both send `localhost` for unix targets).
 */
import { lstat, unlink } from 'node:fs/promises';
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceError,
  status as Status,
} from '@grpc/grpc-js';
import { CSIDriverProviderService, type CSIDriverProviderServer } from '../../proto/gen/service.js';
import { FakeProvider, FakeRpcError } from './fake-provider.js';

export const REQUIRED_AUTHORITY = 'localhost';

export interface FakeProviderServerOptions {
  /** Absolute path of the unix socket, e.g. `/provider/fake.sock`. */
  socketPath: string;
  provider?: FakeProvider;
}

export interface FakeProviderServer {
  readonly socketPath: string;
  readonly provider: FakeProvider;
  /** Graceful stop: waits up to `graceMs` (default 1 s) for running calls, then cancels them. */
  stop(graceMs?: number): Promise<void>;
  /** Abrupt stop, like a killed process: cancels running calls and drops connections at once. */
  kill(): void;
}

export async function startFakeProviderServer(options: FakeProviderServerOptions): Promise<FakeProviderServer> {
  const provider = options.provider ?? new FakeProvider();
  const { socketPath } = options;
  await removeStaleSocket(socketPath);

  const server = new Server();
  const implementation: CSIDriverProviderServer = {
    version: (call, callback) => {
      if (!authorityAllowed(call, callback)) return;
      callback(null, provider.version(call.request));
    },
    mount: (call, callback) => {
      if (!authorityAllowed(call, callback)) return;
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      provider.mount(call.request, abort.signal).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
  };
  server.addService(CSIDriverProviderService, implementation);
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });

  let stopped = false;
  return {
    socketPath,
    provider,
    async stop(graceMs = 1000) {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    kill() {
      if (stopped) return;
      stopped = true;
      server.forceShutdown();
    },
  };
}

function authorityAllowed<Req, Res>(call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): boolean {
  const authority = call.getHost();
  if (authority === REQUIRED_AUTHORITY) return true;
  callback({
    code: Status.UNAUTHENTICATED,
    details: `invalid :authority ${JSON.stringify(authority)}, want "${REQUIRED_AUTHORITY}"`,
  });
  return false;
}

function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof FakeRpcError) return { code: err.code, details: err.details };
  return { code: Status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

/** Removes a leftover socket from an earlier run; refuses to delete anything that is not a socket. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const existing = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!existing) return;
  if (!existing.isSocket()) throw new Error(`refusing to replace ${socketPath}: it exists and is not a socket`);
  await unlink(socketPath);
}

/**
 * The fake provider served as a real CSIDriverProvider v1alpha1 gRPC server on a unix socket, like upstream's
 * e2e provider: a stale socket file is removed before listening, and calls whose `:authority` is not exactly
 * `localhost` are rejected (gRPC-Go and grpc-js both send `localhost` for unix targets); see `serveCsiSocket`.
 */
import { type ServiceError, status as Status } from '@grpc/grpc-js';
import type { CSIDriverProviderServer } from '../../proto/gen/service.js';
import { serveCsiSocket } from '../csi-grpc/socket-server.js';
import { FakeProvider, FakeRpcError } from './fake-provider.js';

export { REQUIRED_AUTHORITY } from '../csi-grpc/socket-server.js';

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
  const implementation: CSIDriverProviderServer = {
    version: (call, callback) => {
      callback(null, provider.version(call.request));
    },
    mount: (call, callback) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      provider.mount(call.request, abort.signal).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err)),
      );
    },
  };
  const server = await serveCsiSocket({ socketPath: options.socketPath, implementation });

  let stopped = false;
  return {
    socketPath: server.socketPath,
    provider,
    async stop(graceMs = 1000) {
      if (stopped) return;
      stopped = true;
      await server.stop(graceMs);
    },
    kill() {
      if (stopped) return;
      stopped = true;
      server.kill();
    },
  };
}

function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof FakeRpcError) return { code: err.code, details: err.details };
  return { code: Status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

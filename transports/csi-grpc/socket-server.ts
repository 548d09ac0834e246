/**
 * The plumbing shared by every CSIDriverProvider v1alpha1 server on a unix socket (the fake, the plugin bridge),
 * the way upstream's e2e provider runs: a stale socket file is removed before listening (anything that is not a
 * socket is refused), calls whose `:authority` is not exactly `localhost` are rejected with UNAUTHENTICATED
 * (gRPC-Go and grpc-js both send `localhost` for unix targets), and the server stops gracefully or is killed.
 * The Mount and Version handlers are the caller's.
 */
import { lstat, unlink } from 'node:fs/promises';
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  status as Status,
} from '@grpc/grpc-js';
import { CSIDriverProviderService, type CSIDriverProviderServer } from '../../proto/gen/service.js';

export const REQUIRED_AUTHORITY = 'localhost';

export interface CsiSocketServerOptions {
  /** Absolute path of the unix socket, e.g. `/provider/fake.sock`. */
  socketPath: string;
  /** The Mount and Version handlers; they only see calls whose `:authority` is allowed. */
  implementation: CSIDriverProviderServer;
}

export interface CsiSocketServer {
  readonly socketPath: string;
  /**
   * Graceful stop: waits up to `graceMs` for running calls, then cancels them. Later calls return the first
   * call's promise.
   */
  stop(graceMs: number): Promise<void>;
  /** Abrupt stop, like a killed process: cancels running calls and drops connections at once. */
  kill(): void;
}

/** Listens on `unix://<socketPath>` with the implementation behind the `:authority` check. */
export async function serveCsiSocket(options: CsiSocketServerOptions): Promise<CsiSocketServer> {
  const { socketPath, implementation } = options;
  await removeStaleSocket(socketPath);

  const server = new Server();
  server.addService(CSIDriverProviderService, requireAuthority(implementation));
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`unix://${socketPath}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });

  let stopped: Promise<void> | undefined;
  return {
    socketPath,
    stop(graceMs) {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopped;
    },
    kill() {
      stopped ??= Promise.resolve();
      server.forceShutdown();
    },
  };
}

function requireAuthority(implementation: CSIDriverProviderServer): CSIDriverProviderServer {
  return {
    version: (call, callback) => {
      if (authorityAllowed(call, callback)) implementation.version(call, callback);
    },
    mount: (call, callback) => {
      if (authorityAllowed(call, callback)) implementation.mount(call, callback);
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

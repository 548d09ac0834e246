/**
 * Any ProviderTransport served as a CSIDriverProvider v1alpha1 gRPC server on a unix socket, the way CSI providers
 * run as sidecars: a stale socket file is removed first, and calls whose `:authority` is not exactly `localhost`
 * are rejected (as upstream's e2e provider and the fake do). Mount decodes the JSON attributes and secrets, calls
 * the transport with the caller's deadline and cancellation, and answers with the files and object versions, or
 * with the gRPC status that matches the error (`statusCodeOf`): a plugin's `code`, else one from its reason.
 */
import { type ServiceError, status as Status } from '@grpc/grpc-js';
import type { Logger } from '../../core/ports/observability.js';
import type { ProviderTransport } from '../../core/ports/provider.js';
import type { CSIDriverProviderServer } from '../../proto/gen/service.js';
import type * as pb from '../../proto/gen/service.js';
import type { StatusCode } from '../sdk/src/errors.js';
import { serveCsiSocket } from '../../transports/csi-grpc/socket-server.js';
import { statusCodeOf } from '../../transports/in-process/errors.js';

export { REQUIRED_AUTHORITY } from '../../transports/csi-grpc/socket-server.js';

const GRPC_STATUS: Record<StatusCode, Status> = {
  Unknown: Status.UNKNOWN,
  InvalidArgument: Status.INVALID_ARGUMENT,
  NotFound: Status.NOT_FOUND,
  PermissionDenied: Status.PERMISSION_DENIED,
  Unauthenticated: Status.UNAUTHENTICATED,
  ResourceExhausted: Status.RESOURCE_EXHAUSTED,
  FailedPrecondition: Status.FAILED_PRECONDITION,
  Unavailable: Status.UNAVAILABLE,
  DeadlineExceeded: Status.DEADLINE_EXCEEDED,
  Canceled: Status.CANCELLED,
  Internal: Status.INTERNAL,
};

export interface CsiProviderServerOptions {
  socketPath: string;
  transport: ProviderTransport;
  logger?: Logger;
}

export interface CsiProviderServer {
  readonly socketPath: string;
  /** Graceful stop: waits up to `graceMs` (default 5 s) for running calls, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

export async function serveCsiProvider(o: CsiProviderServerOptions): Promise<CsiProviderServer> {
  const { socketPath, transport, logger } = o;
  const implementation: CSIDriverProviderServer = {
    version: (_call, callback) => {
      transport.version({ signal: new AbortController().signal }).then(
        (v) => callback(null, { version: v.version, runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion }),
        (err: unknown) => callback(serviceError(err)),
      );
    },
    mount: (call, callback) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort(new DOMException('the caller cancelled the call', 'AbortError')));
      let attributes: Record<string, string>;
      let secrets: Record<string, string>;
      try {
        attributes = decodeJsonMap(call.request.attributes, 'attributes');
        secrets = decodeJsonMap(call.request.secrets, 'secrets');
      } catch (err) {
        callback({ code: Status.INVALID_ARGUMENT, details: (err as Error).message });
        return;
      }
      const deadline = deadlineOf(call.getDeadline());
      const started = Date.now();
      transport
        .mount(
          {
            attributes,
            secrets,
            targetPath: call.request.targetPath,
            permission: call.request.permission,
            currentObjectVersions: call.request.currentObjectVersion.map((v) => ({ id: v.id, version: v.version })),
          },
          { signal: abort.signal, deadline },
        )
        .then(
          (response): void => {
            logger?.debug({ files: response.files.length, objects: response.objectVersions.length, ms: Date.now() - started }, 'mount served');
            const message: pb.MountResponse = {
              objectVersion: response.objectVersions.map((v) => ({ id: v.id, version: v.version })),
              files: response.files.map((f) => ({ path: f.path, mode: f.mode ?? 0, contents: f.contents })),
              error: undefined,
            };
            callback(null, message);
          },
          (err: unknown): void => {
            const e = serviceError(err);
            logger?.info({ code: e.code, err: e.details, ms: Date.now() - started }, 'mount failed');
            callback(e);
          },
        );
    },
  };
  const server = await serveCsiSocket({ socketPath, implementation });
  return {
    socketPath: server.socketPath,
    stop: (graceMs = 5000) => server.stop(graceMs),
  };
}

function serviceError(err: unknown): Partial<ServiceError> & { code: Status; details: string } {
  return { code: GRPC_STATUS[statusCodeOf(err)], details: err instanceof Error ? err.message : String(err) };
}

function deadlineOf(deadline: Date | number): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

/** A JSON object of strings; the message never echoes the text (attributes carry tokens). */
function decodeJsonMap(text: string, field: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text === '' ? '{}' : text);
  } catch {
    throw new Error(`failed to unmarshal ${field}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`failed to unmarshal ${field}: not a JSON object`);
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw new Error(`failed to unmarshal ${field}: non-string value`);
  }
  return value as Record<string, string>;
}

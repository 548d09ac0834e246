/**
 * A deterministic fake provider with the real CSIDriverProvider contract.
 *
 * `FakeProvider` speaks the wire messages (proto/gen) and fails with `FakeRpcError` (a gRPC status), so the same
 * object backs both the in-process `FakeProviderTransport` below and the real gRPC server in `grpc-server.ts`.
 *
 * Mount, in order: count the call; wait for the configured delay or hang (ends early on abort); fail with an
 * injected error; JSON-decode attributes, secrets and permission; require a target path, the `objects` attribute
 * and (when configured) a token for each audience; then return one file per object (path = objectName, mode =
 * the request's permission) and versions `{id: "secret/<objectName>", version: "v<n>"}`, where n is 1 plus the
 * number of `rotate()` calls. Explicit files, versions and a provider error code replace the derived ones.
 */
import type { Clock } from '../../core/ports/clock.js';
import { systemClock } from '../../core/ports/clock.js';
import type {
  CallOptions,
  MountRequest,
  MountResponse,
  ObjectVersion,
  ProviderTransport,
  VersionInfo,
} from '../../core/ports/provider.js';
import * as pb from '../../proto/gen/service.js';
import { cancelled, deadlineExceeded, ProviderRpcError, receiveSizeExceeded, Status } from '../csi-grpc/status.js';
import { API_VERSION, fromWireMountResponse, fromWireVersionResponse, toWireMountRequest } from '../csi-grpc/wire.js';
import { FakeObjectsError, objectValue, parseObjects } from './objects.js';

export const TOKENS_ATTRIBUTE = 'csi.storage.k8s.io/serviceAccount.tokens';

/** A gRPC-like failure: the status the fake answers with. */
export class FakeRpcError extends Error {
  readonly code: Status;
  readonly details: string;
  constructor(code: Status, details: string) {
    super(details);
    this.code = code;
    this.details = details;
  }
}

export interface FakeFile {
  path: string;
  contents: string | Uint8Array;
  mode?: number;
}

/** What the fake saw in its last Mount (attributes include tokens: for assertions only, never logged). */
export interface RecordedMount {
  attributes: Record<string, string>;
  secrets: Record<string, string>;
  targetPath: string;
  permission: string;
  currentObjectVersions: ObjectVersion[];
}

export interface FakeProviderOptions {
  /** Name it registers and listens under; default `fake`. */
  providerName?: string;
  /** VersionResponse.runtime_name / runtime_version; default `fakeprovider` / `0.0.10` like upstream's fake. */
  runtimeName?: string;
  runtimeVersion?: string;
  /** Audiences that must each have a token in the serviceAccount.tokens attribute (upstream e2e's check). */
  tokenAudiences?: string[];
}

export class FakeProvider {
  readonly providerName: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  private tokenAudiences: string[];
  private rotations = 0;
  private mounts = 0;
  private last: RecordedMount | undefined;
  private files: FakeFile[] | undefined;
  private versions: ObjectVersion[] | undefined;
  private errorCode = '';
  private error: { failure: FakeRpcError; times: number } | undefined;
  private delayMs = 0;
  private hanging = false;
  private readonly hangWaiters = new Set<() => void>();

  constructor(options: FakeProviderOptions = {}) {
    this.providerName = options.providerName ?? 'fake';
    this.runtimeName = options.runtimeName ?? 'fakeprovider';
    this.runtimeVersion = options.runtimeVersion ?? '0.0.10';
    this.tokenAudiences = options.tokenAudiences ?? [];
  }

  /** Mount calls received, failed ones included. */
  get mountCount(): number {
    return this.mounts;
  }

  get lastMount(): RecordedMount | undefined {
    return this.last;
  }

  /** Every derived value changes and every derived version goes up by one. */
  rotate(): void {
    this.rotations++;
  }

  /** Replace the files derived from `objects` (undefined: derive again). */
  setFiles(files: FakeFile[] | undefined): void {
    this.files = files;
  }

  /** Replace the derived object versions; `[]` makes every client fail with "missing object versions". */
  setObjectVersions(versions: ObjectVersion[] | undefined): void {
    this.versions = versions;
  }

  /** Answer with MountResponse.error.code (empty string: none). */
  setProviderErrorCode(code: string | undefined): void {
    this.errorCode = code ?? '';
  }

  /** Fail the next `times` Mount calls (default: all) with a gRPC status; undefined clears it. */
  setError(error: { code: Status; details: string } | undefined, options: { times?: number } = {}): void {
    this.error = error && {
      failure: new FakeRpcError(error.code, error.details),
      times: options.times ?? Number.POSITIVE_INFINITY,
    };
  }

  /** Delay every Mount by `ms`. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** Hang every Mount until it is aborted; `setHang(false)` lets the waiting calls go on. */
  setHang(hang: boolean): void {
    this.hanging = hang;
    if (!hang) {
      for (const release of this.hangWaiters) release();
      this.hangWaiters.clear();
    }
  }

  setTokenAudiences(audiences: string[]): void {
    this.tokenAudiences = audiences;
  }

  /** Back to a fresh fake (rotation and counters included). */
  reset(): void {
    this.setHang(false);
    this.rotations = 0;
    this.mounts = 0;
    this.last = undefined;
    this.files = undefined;
    this.versions = undefined;
    this.errorCode = '';
    this.error = undefined;
    this.delayMs = 0;
    this.tokenAudiences = [];
  }

  version(_request: pb.VersionRequest): pb.VersionResponse {
    return { version: API_VERSION, runtimeName: this.runtimeName, runtimeVersion: this.runtimeVersion };
  }

  async mount(request: pb.MountRequest, signal: AbortSignal): Promise<pb.MountResponse> {
    this.mounts++;
    await this.wait(signal);
    if (this.error && this.error.times > 0) {
      this.error.times--;
      throw this.error.failure;
    }
    const attributes = decodeJsonMap(request.attributes, 'attributes');
    const secrets = decodeJsonMap(request.secrets, 'secrets');
    const mode = decodePermission(request.permission);
    this.last = {
      attributes,
      secrets,
      targetPath: request.targetPath,
      permission: request.permission,
      currentObjectVersions: request.currentObjectVersion.map((v) => ({ id: v.id, version: v.version })),
    };
    if (request.targetPath === '') throw new FakeRpcError(Status.UNKNOWN, 'missing target path');
    const objectsText = attributes.objects ?? '';
    if (objectsText === '') throw new FakeRpcError(Status.UNKNOWN, 'objects is not set');
    this.checkTokens(attributes[TOKENS_ATTRIBUTE]);
    let objects;
    try {
      objects = parseObjects(objectsText);
    } catch (err) {
      if (err instanceof FakeObjectsError) throw new FakeRpcError(Status.UNKNOWN, err.message);
      throw err;
    }
    const n = this.rotations + 1;
    const files: pb.File[] = this.files
      ? this.files.map((f) => ({ path: f.path, mode: f.mode ?? mode, contents: bytes(f.contents) }))
      : objects.map((o) => ({ path: o.objectName, mode, contents: bytes(objectValue(o, n)) }));
    const objectVersion = this.versions ?? objects.map((o) => ({ id: `secret/${o.objectName}`, version: `v${n}` }));
    return { objectVersion, error: { code: this.errorCode }, files };
  }

  private checkTokens(tokensJson: string | undefined): void {
    if (this.tokenAudiences.length === 0) return;
    if (!tokensJson) throw new FakeRpcError(Status.UNKNOWN, `${TOKENS_ATTRIBUTE} is not set`);
    let tokens: unknown;
    try {
      tokens = JSON.parse(tokensJson);
    } catch {
      throw new FakeRpcError(Status.UNKNOWN, `failed to unmarshal ${TOKENS_ATTRIBUTE}`);
    }
    for (const audience of this.tokenAudiences) {
      const entry = (tokens as Record<string, { token?: unknown } | undefined> | null)?.[audience];
      if (typeof entry?.token !== 'string' || entry.token === '') {
        throw new FakeRpcError(Status.UNKNOWN, `${TOKENS_ATTRIBUTE} has no token for audience "${audience}"`);
      }
    }
  }

  private async wait(signal: AbortSignal): Promise<void> {
    if (this.delayMs > 0) await abortable(signal, (done) => {
      const t = setTimeout(done, this.delayMs);
      return () => clearTimeout(t);
    });
    if (this.hanging) await abortable(signal, (done) => {
      this.hangWaiters.add(done);
      return () => this.hangWaiters.delete(done);
    });
  }
}

/** Resolves when `start`'s callback runs, rejects with Canceled when the signal aborts first. */
function abortable(signal: AbortSignal, start: (done: () => void) => () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      stop();
      reject(new FakeRpcError(Status.CANCELLED, 'context canceled'));
    };
    const stop = start(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function decodeJsonMap(text: string, field: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FakeRpcError(Status.UNKNOWN, `failed to unmarshal ${field}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FakeRpcError(Status.UNKNOWN, `failed to unmarshal ${field}: not a JSON object`);
  }
  for (const v of Object.values(value)) {
    if (typeof v !== 'string') throw new FakeRpcError(Status.UNKNOWN, `failed to unmarshal ${field}: non-string value`);
  }
  return value as Record<string, string>;
}

function decodePermission(text: string): number {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FakeRpcError(Status.UNKNOWN, 'failed to unmarshal file permission');
  }
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0o777) {
    throw new FakeRpcError(Status.UNKNOWN, 'failed to unmarshal file permission: not a mode 0..511');
  }
  return value as number;
}

function bytes(contents: string | Uint8Array): Uint8Array {
  return typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
}

export interface FakeProviderTransportOptions {
  /** Same limit and message as the gRPC transport; default 4 MiB. */
  maxCallRecvMsgSize?: number;
  /** Deadline for calls whose CallOptions carry none; default 30 s. */
  providerTimeoutMs?: number;
  clock?: Clock;
}

/**
 * The fake reached in-process. Requests and responses go through the real proto codec and the same response
 * checks as the gRPC transport, so both report identical results (no retries: those belong to the socket).
 */
export class FakeProviderTransport implements ProviderTransport {
  readonly kind = 'fake' as const;
  readonly provider: FakeProvider;
  private readonly maxRecv: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  constructor(provider: FakeProvider = new FakeProvider(), options: FakeProviderTransportOptions = {}) {
    this.provider = provider;
    this.maxRecv = options.maxCallRecvMsgSize ?? 4 * 1024 * 1024;
    this.timeoutMs = options.providerTimeoutMs ?? 30_000;
    this.clock = options.clock ?? systemClock;
  }

  get providerName(): string {
    return this.provider.providerName;
  }

  async mount(request: MountRequest, options: CallOptions): Promise<MountResponse> {
    const wire = pb.MountRequest.decode(pb.MountRequest.encode(toWireMountRequest(request)).finish());
    const response = await this.run((signal) => this.provider.mount(wire, signal), options);
    const encoded = pb.MountResponse.encode(response).finish();
    if (encoded.length > this.maxRecv) throw receiveSizeExceeded(this.maxRecv);
    return fromWireMountResponse(pb.MountResponse.decode(encoded));
  }

  async version(options: CallOptions): Promise<VersionInfo> {
    const response = await this.run(async () => this.provider.version({ version: API_VERSION }), options);
    return fromWireVersionResponse(response);
  }

  async close(): Promise<void> {}

  /** Runs one call under the deadline and the caller's signal, translating failures like the gRPC transport. */
  private async run<T>(fn: (signal: AbortSignal) => Promise<T>, options: CallOptions): Promise<T> {
    if (options.signal.aborted) throw cancelled(options.signal.reason);
    const deadline = options.deadline ?? this.clock.now() + this.timeoutMs;
    const remaining = Math.min(deadline - this.clock.now(), 2_147_483_647);
    if (remaining <= 0) throw deadlineExceeded();
    const inner = new AbortController();
    let timedOut = false;
    const cancelTimer = this.clock.setTimer(remaining, () => {
      timedOut = true;
      inner.abort();
    });
    const onAbort = (): void => inner.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    const interrupted = new Promise<never>((_, reject) => {
      inner.signal.addEventListener('abort', () => reject(new FakeRpcError(Status.CANCELLED, 'context canceled')), {
        once: true,
      });
    });
    try {
      return await Promise.race([fn(inner.signal), interrupted]);
    } catch (err) {
      if (timedOut) throw deadlineExceeded(err);
      if (options.signal.aborted) throw cancelled(options.signal.reason);
      if (err instanceof FakeRpcError) throw new ProviderRpcError(err.code, err.details, { cause: err });
      throw new ProviderRpcError(Status.UNKNOWN, err instanceof Error ? err.message : String(err), { cause: err });
    } finally {
      cancelTimer();
      options.signal.removeEventListener('abort', onAbort);
      inner.abort();
    }
  }
}

/**
 * PluginProviderTransport: one provider of an in-process TypeScript plugin behind the ProviderTransport port.
 *
 * The plugin is untrusted code running in the controller's process, so every call is fenced:
 * - the request arrives parsed (attributes, tokens per audience) with an AbortSignal that fires at the deadline
 *   (the caller's, else `providerTimeoutMs`) or when the caller aborts;
 * - the transport stops waiting at that moment whatever the plugin does: a call that never settles is abandoned
 *   (counted; after `maxAbandonedCalls` of them the provider fails fast until they finish), never awaited;
 * - a synchronous throw, a rejection with anything, or a malformed result becomes a typed SyncError with a message
 *   naming the provider and the plugin; nothing a plugin returns or throws reaches the process as an exception;
 * - results are checked: types, safe relative paths (the gRPC transport's rule and message), a non-empty object
 *   version list ("missing object versions"), and the size of the equivalent CSI MountResponse against
 *   `--max-call-recv-msg-size`.
 * What it cannot fence: a plugin that blocks the event loop (a busy loop) stalls the process. Run plugins you do
 * not trust with `secrets-sync serve-provider` as a sidecar instead.
 */
import { ProviderError } from '../../core/errors.js';
import { type Clock, systemClock } from '../../core/ports/clock.js';
import type { Logger } from '../../core/ports/observability.js';
import type {
  CallOptions,
  MountRequest,
  MountResponse,
  ProviderTransport,
  VersionInfo,
} from '../../core/ports/provider.js';
import { DEFAULT_MAX_CALL_RECV_MSG_SIZE, DEFAULT_PROVIDER_TIMEOUT_MS } from '../../core/ports/provider.js';
import * as pb from '../../proto/gen/service.js';
import { MountAttributes, SERVICE_ACCOUNT_TOKENS_ATTRIBUTE } from '../../plugins/sdk/src/attributes.js';
import { silentPluginLogger } from '../../plugins/sdk/src/define.js';
import { isPluginError } from '../../plugins/sdk/src/errors.js';
import { InvalidMountResultError, normalizeMountResult } from '../../plugins/sdk/src/result.js';
import { parseTokens } from '../../plugins/sdk/src/tokens.js';
import type * as sdk from '../../plugins/sdk/src/types.js';
import { API_VERSION, checkFilePath } from '../csi-grpc/wire.js';
import { codedError, PluginProviderError } from './errors.js';

export { DEFAULT_MAX_CALL_RECV_MSG_SIZE, DEFAULT_PROVIDER_TIMEOUT_MS };
export const DEFAULT_MAX_ABANDONED_CALLS = 32;
export const CLOSE_TIMEOUT_MS = 5_000;
/** Plugin-supplied messages are cut to this many characters (conditions and events are small). */
export const MAX_MESSAGE_CHARS = 1024;

export interface PluginIdentity {
  name: string;
  version: string;
}

export interface PluginProviderTransportOptions {
  plugin: PluginIdentity;
  provider: sdk.ProviderDefinition;
  /** `--max-call-recv-msg-size`: the largest result, measured as the CSI MountResponse it would be. */
  maxCallRecvMsgSize?: number;
  /** Deadline of calls whose CallOptions carry none (`--provider-timeout`). */
  providerTimeoutMs?: number;
  /** Calls still running after their deadline before the provider fails fast; default 32. */
  maxAbandonedCalls?: number;
  /** Handed to the plugin (with plugin and provider fields) and used for the transport's own warnings. */
  logger?: Logger;
  clock?: Clock;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class PluginProviderTransport implements ProviderTransport {
  readonly kind = 'in-process' as const;
  readonly providerName: string;
  readonly plugin: PluginIdentity;
  private readonly provider: sdk.ProviderDefinition;
  private readonly maxRecv: number;
  private readonly timeoutMs: number;
  private readonly maxAbandoned: number;
  private readonly log: Logger | undefined;
  private readonly pluginLogger: sdk.PluginLogger;
  private readonly clock: Clock;
  private abandonedCalls = 0;
  private closed: Promise<void> | undefined;

  constructor(options: PluginProviderTransportOptions) {
    this.provider = options.provider;
    this.providerName = options.provider.name;
    this.plugin = { name: options.plugin.name, version: options.plugin.version };
    this.maxRecv = options.maxCallRecvMsgSize ?? DEFAULT_MAX_CALL_RECV_MSG_SIZE;
    this.timeoutMs = options.providerTimeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS;
    this.maxAbandoned = options.maxAbandonedCalls ?? DEFAULT_MAX_ABANDONED_CALLS;
    this.log = options.logger?.child({ plugin: this.plugin.name, provider: this.providerName });
    this.pluginLogger = this.log ?? silentPluginLogger;
    this.clock = options.clock ?? systemClock;
  }

  /** `provider "x" (plugin "p" 1.2.3)`: how messages name this provider. */
  get label(): string {
    return `provider "${this.providerName}" (plugin "${this.plugin.name}" ${this.plugin.version})`;
  }

  /** Calls that passed their deadline and have not settled yet. */
  get abandoned(): number {
    return this.abandonedCalls;
  }

  async mount(request: MountRequest, options: CallOptions): Promise<MountResponse> {
    const pluginRequest = this.pluginRequest(request);
    const value = await this.invoke(options, (signal, deadline) =>
      this.provider.mount({ ...pluginRequest, signal, deadline, logger: this.pluginLogger }),
    );
    return this.response(value, request.permission);
  }

  async version(_options: CallOptions): Promise<VersionInfo> {
    return { version: API_VERSION, runtimeName: this.plugin.name, runtimeVersion: this.plugin.version };
  }

  /** Calls the provider's `close()` once, waiting at most 5 s; its failures are logged, never thrown. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.provider.close) return;
      const outcome = await this.settle(() => this.provider.close!(), CLOSE_TIMEOUT_MS);
      if (outcome === 'timeout') this.log?.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, 'plugin provider close() did not finish');
      else if (!outcome.ok) this.log?.warn({ err: describeThrown(outcome.error) }, 'plugin provider close() failed');
    })();
    return this.closed;
  }

  private pluginRequest(request: MountRequest): Omit<sdk.MountRequest, 'signal' | 'deadline' | 'logger'> {
    try {
      return {
        attributes: new MountAttributes(request.attributes),
        secrets: Object.freeze({ ...request.secrets }),
        tokens: parseTokens(request.attributes[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]),
        currentObjectVersions: Object.freeze(request.currentObjectVersions.map((v) => Object.freeze({ ...v }))),
      };
    } catch (err) {
      throw new PluginProviderError(`invalid mount request for ${this.label}: ${(err as Error).message}`, {
        code: 'InvalidArgument',
        cause: err,
      });
    }
  }

  /** Runs one plugin call under the deadline and the caller's signal; never waits past either. */
  private async invoke(options: CallOptions, fn: (signal: AbortSignal, deadline: number) => unknown): Promise<unknown> {
    if (this.closed) throw new PluginProviderError(`${this.label} is closed`, { code: 'Unavailable' });
    const started = this.clock.now();
    const deadline = options.deadline ?? started + this.timeoutMs;
    const budgetMs = deadline - started;
    if (options.signal.aborted) throw this.cancelled();
    if (budgetMs <= 0) throw this.deadlineExceeded(0);
    if (this.abandonedCalls >= this.maxAbandoned) {
      throw new PluginProviderError(
        `${this.label} has ${this.abandonedCalls} calls still running after their deadline; not calling it again until they finish`,
        { code: 'Unavailable' },
      );
    }
    const inner = new AbortController();
    let interruption: 'deadline' | 'cancelled' | undefined;
    const stopTimer = this.clock.setTimer(budgetMs, () => {
      interruption ??= 'deadline';
      inner.abort(new DOMException('the call passed its deadline', 'TimeoutError'));
    });
    const onAbort = (): void => {
      interruption ??= 'cancelled';
      inner.abort(options.signal.reason);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    const interrupted = new Promise<'interrupted'>((resolve) => {
      inner.signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
    });
    const settled = this.outcome(() => fn(inner.signal, deadline));
    try {
      const outcome = await Promise.race([settled, interrupted]);
      if (interruption) {
        if (outcome === 'interrupted') this.abandon(settled);
        throw interruption === 'deadline' ? this.deadlineExceeded(budgetMs) : this.cancelled();
      }
      if (outcome === 'interrupted') throw this.cancelled();
      if (!outcome.ok) throw this.translate(outcome.error);
      return outcome.value;
    } finally {
      stopTimer();
      options.signal.removeEventListener('abort', onAbort);
    }
  }

  /** The call's outcome as a promise that never rejects, whatever `fn` does (throw, reject, return a thenable). */
  private outcome(fn: () => unknown): Promise<Outcome> {
    return new Promise<unknown>((resolve) => resolve(fn())).then(
      (value): Outcome => ({ ok: true, value }),
      (error: unknown): Outcome => ({ ok: false, error }),
    );
  }

  private async settle(fn: () => unknown, timeoutMs: number): Promise<Outcome | 'timeout'> {
    let stop = (): void => {};
    const timeout = new Promise<'timeout'>((resolve) => {
      stop = this.clock.setTimer(timeoutMs, () => resolve('timeout'));
    });
    try {
      return await Promise.race([this.outcome(fn), timeout]);
    } finally {
      stop();
    }
  }

  private abandon(settled: Promise<Outcome>): void {
    this.abandonedCalls++;
    this.log?.warn({ abandoned: this.abandonedCalls }, 'plugin call still running after its deadline; abandoned');
    void settled.then(() => {
      this.abandonedCalls--;
      this.log?.debug({ abandoned: this.abandonedCalls }, 'abandoned plugin call finished');
    });
  }

  private translate(err: unknown): Error {
    try {
      if (isPluginError(err)) {
        const message = cut(err.message) || `${this.label} failed with ${err.reason} and no message`;
        return codedError(err.reason, message, { code: err.code, cause: err });
      }
      return new PluginProviderError(`${this.label} failed: ${cut(describeThrown(err))}`, { code: 'Unknown', cause: err });
    } catch {
      // The thrown value itself misbehaves (a getter or proxy that throws).
      return new PluginProviderError(`${this.label} failed with a value that cannot be inspected`, { code: 'Unknown' });
    }
  }

  private response(value: unknown, permission: string): MountResponse {
    let result;
    try {
      result = normalizeMountResult(value);
    } catch (err) {
      if (err instanceof InvalidMountResultError && err.message === 'missing object versions') {
        throw new ProviderError('missing object versions');
      }
      // The gRPC transport's check and message, so both transports report an unsafe path the same way.
      if (err instanceof InvalidMountResultError && err.unsafePath !== undefined) checkFilePath(err.unsafePath);
      const why = err instanceof InvalidMountResultError ? err.message : 'reading it threw';
      throw new PluginProviderError(`${this.label} returned an invalid result: ${why}`, { code: 'Internal' });
    }
    for (const f of result.files) checkFilePath(f.path);
    const defaultMode = permissionMode(permission);
    const files = result.files.map((f) => ({ path: f.path, mode: f.mode ?? defaultMode, contents: f.contents }));
    const size = pb.MountResponse.encode({ objectVersion: result.objectVersions, files, error: undefined }).finish().length;
    if (size > this.maxRecv) {
      throw new PluginProviderError(
        `${this.label} returned ${size} bytes, over the max receive size of ${this.maxRecv} bytes; raise --max-call-recv-msg-size`,
        { code: 'ResourceExhausted' },
      );
    }
    return { files, objectVersions: result.objectVersions };
  }

  private deadlineExceeded(budgetMs: number): PluginProviderError {
    return new PluginProviderError(`${this.label} did not answer within its deadline of ${budgetMs} ms`, {
      code: 'DeadlineExceeded',
    });
  }

  private cancelled(): PluginProviderError {
    return new PluginProviderError(`call to ${this.label} was cancelled`, { code: 'Canceled' });
  }
}

/** `"420"` -> 420; anything else -> 0644. */
function permissionMode(permission: string): number {
  const n = Number(permission);
  return Number.isInteger(n) && n >= 0 && n <= 0o777 ? n : 0o644;
}

/** What was thrown, as text: `TypeError: x` for errors, the value for anything else. */
function describeThrown(err: unknown): string {
  // Duck-typed: errors from another realm (a DOMException, a vm context) are not `instanceof Error`.
  const e = err as { name?: unknown; message?: unknown } | null;
  if (typeof e === 'object' && e !== null && typeof e.name === 'string' && typeof e.message === 'string') return `${e.name}: ${e.message}`;
  if (typeof err === 'string') return `threw the string ${JSON.stringify(err)}`;
  // An arbitrary object may hold credentials (a request config, a response): name its keys, never its values.
  if (typeof err === 'object' && err !== null) return `threw a non-Error object (keys: ${Object.keys(err).slice(0, 10).join(', ') || 'none'})`;
  return `threw a non-Error value ${String(err)}`;
}

function cut(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}...` : message;
}

import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { ControllerSyncError, errorText } from '../errors.js';
import { Clock } from '../ports/clock.js';
import { normalizeAudiences } from './audiences.js';
import { TokenRequester, type RequestedToken } from './token-requester.js';
import type { ServiceAccountToken, ServiceAccountTokens } from './tokens-attribute.js';

export { TokenRequester, type RequestedToken } from './token-requester.js';

/** Upstream requests 600 s tokens. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 600;
/** Refresh once this fraction of a token's lifetime has passed (kubelet: within 20 % of expiry). */
export const DEFAULT_REFRESH_FRACTION = 0.8;
/** Refresh a token at the latest this long after it was obtained (kubelet's 24 h), whatever its lifetime. */
export const DEFAULT_MAX_REFRESH_AGE_MS = 24 * 60 * 60 * 1000;

/** A refresh failed while the cached token was still valid; the cached token was used. No token inside. */
export interface TokenRefreshFailure {
  namespace: string;
  serviceAccount: string;
  audience: string;
  /** Expiry of the cached token that was used instead. */
  expirationTimestamp: string;
  /** The failure's message, with anything token-like redacted. */
  error: string;
}

export interface TokenSourceOptions {
  /** `spec.expirationSeconds` of every TokenRequest; default 600. */
  expirationSeconds?: number;
  /** Fraction of the lifetime after which a token is refreshed; default 0.8. */
  refreshFraction?: number;
  /** Called once per failed refresh that fell back to a still-valid token. Must not throw. */
  onRefreshError?(failure: TokenRefreshFailure): void;
}

interface Entry extends ServiceAccountToken {
  readonly expiresAt: number;
  readonly refreshAt: number;
}

interface InFlight {
  readonly promise: Promise<Entry>;
  readonly controller: AbortController;
  waiters: number;
}

interface Target {
  readonly key: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audience: string;
}

/**
 * ServiceAccount tokens for provider calls: one TokenRequest per audience, cached and refreshed.
 *
 * - Cache key: (namespace, ServiceAccount, audience, expirationSeconds). A cached token is reused until
 *   `refreshFraction` of its lifetime (expiry minus the time it was requested, by the Clock) has passed,
 *   or 24 h, whichever comes first.
 * - Concurrent calls for the same key share one in-flight request. A caller whose signal aborts stops
 *   waiting (ControllerSyncError); the request itself is aborted only when every caller has left.
 * - A failed refresh while the cached token has not expired returns the cached token and reports
 *   `onRefreshError`; with no valid token it throws `ControllerSyncError`. No message carries a token.
 * - Expired entries stay until `sweep()` (or the sweeper started by `start`) removes them.
 */
@injectable()
export class TokenSource {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly expirationSeconds: number;
  private readonly refreshFraction: number;
  private readonly onRefreshError: TokenSourceOptions['onRefreshError'];

  constructor(
    @inject(TokenRequester) private readonly requester: TokenRequester,
    @inject(Clock) private readonly clock: Clock,
    options: TokenSourceOptions = {},
  ) {
    this.expirationSeconds = options.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
    this.refreshFraction = options.refreshFraction ?? DEFAULT_REFRESH_FRACTION;
    this.onRefreshError = options.onRefreshError;
    if (!Number.isInteger(this.expirationSeconds) || this.expirationSeconds < 600) {
      throw new RangeError(`expirationSeconds must be an integer >= 600 (the API minimum), got ${this.expirationSeconds}`);
    }
    if (!(this.refreshFraction > 0 && this.refreshFraction <= 1)) {
      throw new RangeError(`refreshFraction must be in (0, 1], got ${this.refreshFraction}`);
    }
  }

  /**
   * Tokens for `serviceAccount` in `namespace`, one per audience (trimmed, empty dropped, deduplicated),
   * keyed by audience. No audience: `{}` and no request.
   */
  async tokensFor(
    namespace: string,
    serviceAccount: string,
    audiences: readonly string[],
    signal: AbortSignal,
  ): Promise<ServiceAccountTokens> {
    const wanted = normalizeAudiences(audiences);
    if (wanted.length === 0) return {};
    if (namespace === '' || serviceAccount === '') {
      throw new ControllerSyncError('cannot request a service account token: namespace and service account name are required');
    }
    const tokens = await Promise.all(
      wanted.map((audience) =>
        this.tokenFor(
          { key: cacheKey(namespace, serviceAccount, audience, this.expirationSeconds), namespace, serviceAccount, audience },
          signal,
        ),
      ),
    );
    return Object.fromEntries(wanted.map((audience, i) => [audience, tokens[i]!]));
  }

  /** Drops expired tokens; returns how many were dropped. */
  sweep(): number {
    const now = this.clock.now();
    let dropped = 0;
    for (const [key, entry] of this.cache) {
      if (entry.expiresAt <= now) {
        this.cache.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Number of cached tokens (expired ones included until swept). */
  size(): number {
    return this.cache.size;
  }

  /** Runs `sweep()` every `intervalMs` (upstream: 1 min) until `signal` aborts. */
  start(signal: AbortSignal, intervalMs = 60_000): void {
    if (signal.aborted) return;
    let cancel = () => {};
    const schedule = () => {
      cancel = this.clock.setTimer(intervalMs, () => {
        this.sweep();
        schedule();
      });
    };
    signal.addEventListener('abort', () => cancel(), { once: true });
    schedule();
  }

  private async tokenFor(target: Target, signal: AbortSignal): Promise<ServiceAccountToken> {
    const cached = this.cache.get(target.key);
    if (cached !== undefined && this.clock.now() < cached.refreshAt) return publicView(cached);
    if (signal.aborted) throw aborted(target);
    return publicView(await this.join(target, signal));
  }

  /** Waits for the shared request for `target`, starting one if none is running. */
  private join(target: Target, signal: AbortSignal): Promise<Entry> {
    let flight = this.inFlight.get(target.key);
    if (flight === undefined) {
      const controller = new AbortController();
      const promise = this.refresh(target, controller.signal);
      const started: InFlight = { promise, controller, waiters: 0 };
      flight = started;
      this.inFlight.set(target.key, started);
      const clear = () => {
        if (this.inFlight.get(target.key) === started) this.inFlight.delete(target.key);
      };
      promise.then(clear, clear);
    }
    const joined = flight;
    joined.waiters++;
    return new Promise<Entry>((resolve, reject) => {
      const onAbort = () => {
        joined.waiters--;
        if (joined.waiters === 0) {
          if (this.inFlight.get(target.key) === joined) this.inFlight.delete(target.key);
          joined.controller.abort();
        }
        reject(aborted(target));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      joined.promise.then(
        (entry) => {
          signal.removeEventListener('abort', onAbort);
          resolve(entry);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** One TokenRequest; on failure falls back to the cached token while it is valid. Runs once per flight. */
  private async refresh(target: Target, signal: AbortSignal): Promise<Entry> {
    const { namespace, serviceAccount, audience } = target;
    const requestedAt = this.clock.now();
    let entry: Entry;
    try {
      const response = await this.requester.request(namespace, serviceAccount, audience, this.expirationSeconds, signal);
      entry = this.toEntry(response, requestedAt);
    } catch (err) {
      const old = this.cache.get(target.key);
      const reason = redact(errorText(err), old?.token);
      if (signal.aborted) throw aborted(target);
      if (old !== undefined && this.clock.now() < old.expiresAt) {
        this.report({ namespace, serviceAccount, audience, expirationTimestamp: old.expirationTimestamp, error: reason });
        return old;
      }
      const who = `service account "${namespace}/${serviceAccount}" with audience "${audience}"`;
      throw new ControllerSyncError(
        old === undefined
          ? `failed to request a token for ${who}: ${reason}`
          : `failed to refresh the token for ${who}, and the cached token expired at ${old.expirationTimestamp}: ${reason}`,
      );
    }
    this.cache.set(target.key, entry);
    return entry;
  }

  private toEntry(response: RequestedToken, requestedAt: number): Entry {
    if (typeof response.token !== 'string' || response.token === '') {
      throw new ControllerSyncError('the TokenRequest response has no token');
    }
    const expiresAt = parseRfc3339(response.expirationTimestamp);
    if (expiresAt === undefined) {
      throw new ControllerSyncError('the TokenRequest response has an invalid expirationTimestamp');
    }
    const lifetime = Math.max(0, expiresAt - requestedAt);
    const refreshAt = requestedAt + Math.min(lifetime * this.refreshFraction, DEFAULT_MAX_REFRESH_AGE_MS);
    return { token: response.token, expirationTimestamp: formatRfc3339(expiresAt), expiresAt, refreshAt };
  }

  private report(failure: TokenRefreshFailure): void {
    try {
      this.onRefreshError?.(failure);
    } catch {
      // A broken reporter must not turn a usable token into a failure.
    }
  }
}

function cacheKey(namespace: string, serviceAccount: string, audience: string, expirationSeconds: number): string {
  return JSON.stringify([namespace, serviceAccount, audience, expirationSeconds]);
}

function publicView(entry: Entry): ServiceAccountToken {
  return { token: entry.token, expirationTimestamp: entry.expirationTimestamp };
}

function aborted(target: Target): ControllerSyncError {
  return new ControllerSyncError(
    `token request for service account "${target.namespace}/${target.serviceAccount}" with audience "${target.audience}" was aborted`,
  );
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined when `value` is not an RFC 3339 date-time. */
export function parseRfc3339(value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3339 in UTC with whole seconds, like Go's `metav1.Time`: `2025-01-01T00:10:00Z`. */
export function formatRfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/** Removes `known` and anything shaped like a JWT from an error text. */
function redact(text: string, known: string | undefined): string {
  const withoutKnown = known ? text.split(known).join('[redacted]') : text;
  return withoutKnown.replace(JWT_LIKE, '[redacted]');
}

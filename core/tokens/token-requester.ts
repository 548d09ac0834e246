/** A ServiceAccount token as returned by the TokenRequest API. */
export interface RequestedToken {
  /** The JWT. Secret: never log it or put it in an error, event, status or metric. */
  token: string;
  /** RFC 3339 expiry from `status.expirationTimestamp` (any precision and offset; TokenSource normalises it). */
  expirationTimestamp: string;
}

/**
 * Port: creates a TokenRequest (`POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token`) with
 * `spec.audiences = [audience]`, `spec.expirationSeconds` and no boundObjectRef.
 * Edge cases: rejects on any API error (NotFound, Forbidden, a server without TokenRequest) with an Error
 * whose message carries no token and no credential; rejects when `signal` aborts. It never caches: caching
 * and refresh belong to TokenSource.
 */
export interface TokenRequester {
  request(
    namespace: string,
    serviceAccount: string,
    audience: string,
    expirationSeconds: number,
    signal: AbortSignal,
  ): Promise<RequestedToken>;
}
export const TokenRequester = Symbol('TokenRequester');

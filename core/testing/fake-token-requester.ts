import type { Clock } from '../ports/clock.js';
import type { RequestedToken, TokenRequester } from '../tokens/token-requester.js';

export interface RecordedTokenRequest {
  namespace: string;
  serviceAccount: string;
  audience: string;
  expirationSeconds: number;
  signal: AbortSignal;
}

/**
 * A TokenRequester for tests. Issues `fake-token/<ns>/<sa>/<aud>/<n>` (n counts all requests, from 1)
 * expiring `expirationSeconds` after the clock's now. Set `failWith` to make requests reject, or `hold()`
 * to keep them pending until `release()`. Every call is recorded in `requests`.
 */
export class FakeTokenRequester implements TokenRequester {
  readonly requests: RecordedTokenRequest[] = [];
  /** When set, requests reject with this error (after a hold, if any). */
  failWith: Error | undefined;
  private held: Array<() => void> | undefined;

  constructor(private readonly clock: Clock) {}

  async request(
    namespace: string,
    serviceAccount: string,
    audience: string,
    expirationSeconds: number,
    signal: AbortSignal,
  ): Promise<RequestedToken> {
    this.requests.push({ namespace, serviceAccount, audience, expirationSeconds, signal });
    const n = this.requests.length;
    if (this.held !== undefined) {
      const held = this.held;
      await new Promise<void>((resolve, reject) => {
        held.push(resolve);
        signal.addEventListener('abort', () => reject(new Error('request aborted')), { once: true });
      });
    }
    if (this.failWith !== undefined) throw this.failWith;
    return {
      token: `fake-token/${namespace}/${serviceAccount}/${audience}/${n}`,
      expirationTimestamp: new Date(this.clock.now() + expirationSeconds * 1000).toISOString(),
    };
  }

  /** Keeps new requests pending until `release()`. */
  hold(): void {
    this.held ??= [];
  }

  /** Lets every held request continue and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const resolve of held) resolve();
  }
}

/**
 * Per-key rate limiters for the work queue, after client-go's `workqueue.RateLimiter`.
 */
export interface RateLimiter {
  /** Delay (ms) before `key` may be processed again; records one more failure for `key`. */
  when(key: string): number;
  /** Forgets `key`'s failure history (call after a success). */
  forget(key: string): void;
  /** How many times `when(key)` was called since the last `forget(key)`. */
  numRequeues(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** First delay in ms; default 5 (controller-runtime's default). */
  baseDelayMs?: number;
  /** Cap in ms; default 1000 s (controller-runtime's default). */
  maxDelayMs?: number;
}

export const DEFAULT_BASE_DELAY_MS = 5;
export const DEFAULT_MAX_DELAY_MS = 1_000_000;

/**
 * client-go's `ItemExponentialFailureRateLimiter`: the n-th failure of a key (0-based) waits
 * `base * 2^n` ms, capped at `max`. Keys are independent.
 * Edge cases: the delay never overflows (it saturates at `max`); `forget` of an unknown key is a no-op.
 */
export class ExponentialBackoffRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    if (!(this.baseDelayMs >= 0) || !Number.isFinite(this.baseDelayMs)) {
      throw new RangeError(`baseDelayMs must be a finite number >= 0, got ${this.baseDelayMs}`);
    }
    if (!(this.maxDelayMs >= this.baseDelayMs) || !Number.isFinite(this.maxDelayMs)) {
      throw new RangeError(`maxDelayMs must be finite and >= baseDelayMs, got ${this.maxDelayMs}`);
    }
  }

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    // 2^1024 is Infinity in float64; stop computing long before that.
    if (exp > 1000) return this.maxDelayMs;
    return Math.min(this.baseDelayMs * 2 ** exp, this.maxDelayMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

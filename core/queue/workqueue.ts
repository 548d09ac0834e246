import type { Clock } from '../ports/clock.js';
import { ExponentialBackoffRateLimiter, type RateLimiter } from './rate-limiter.js';

/**
 * Optional metrics hook, called synchronously by the queue. Implementations must be cheap and must not
 * throw. Keys are deliberately not passed to the counters: they would make unbounded metric labels.
 */
export interface WorkQueueMetrics {
  /** Number of keys waiting to be handed out (`len()`), after every change. */
  setDepth(depth: number): void;
  /** A key entered the queue (a deduplicated add is not counted). */
  incAdds(): void;
  /** `addRateLimited` was called. */
  incRetries(): void;
  /** Time (ms) a key waited in the queue before `get()` returned it. */
  observeQueueLatency?(ms: number): void;
  /** Time (ms) between `get()` returning a key and `done(key)`. */
  observeWorkDuration?(ms: number): void;
}

export interface WorkQueueOptions {
  /** Default: exponential backoff, 5 ms doubling, capped at 1000 s. */
  rateLimiter?: RateLimiter;
  metrics?: WorkQueueMetrics;
}

/**
 * A keyed work queue with client-go semantics (`workqueue.TypedRateLimitingInterface`), single-threaded JS.
 *
 * - Dedupe: a key added several times before it is handed out is handed out once.
 * - A key is never handed to two workers at once: while a key is processing (between `get()` and
 *   `done(key)`), an add marks it dirty and it is queued again only at `done(key)`.
 * - Order: first in, first out.
 * - `addAfter(key, ms)`: the key is added after `ms` (immediately when `ms <= 0`). While a delayed add is
 *   pending for a key, a new `addAfter` with an earlier deadline replaces it; a later one is ignored.
 * - `addRateLimited(key)` = `addAfter(key, rateLimiter.when(key))`; `forget(key)` resets the backoff but
 *   does not cancel a pending delayed add.
 * - Shutdown: adds (immediate and delayed) are ignored and pending delayed adds are dropped; `get()` still
 *   returns keys already queued, then resolves `undefined`. `shutDownWithDrain()` also waits until every
 *   key handed out has been `done()`.
 */
export class WorkQueue {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics | undefined;

  /** Keys waiting to be handed out, in order; a Set keeps insertion order and gives O(1) delete. */
  private readonly queue = new Set<string>();
  /** Keys that need processing (queued, or re-added while processing). */
  private readonly dirty = new Set<string>();
  /** Keys handed out and not yet done, with the time they were handed out. */
  private readonly processing = new Map<string, number>();
  /** When each queued key entered the queue (for the latency metric). */
  private readonly queuedAt = new Map<string, number>();
  /** Pending delayed adds. */
  private readonly waiting = new Map<string, { readyAt: number; cancel: () => void }>();
  /** `get()` calls waiting for a key, oldest first. */
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly drainWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(clock: Clock, options: WorkQueueOptions = {}) {
    this.clock = clock;
    this.rateLimiter = options.rateLimiter ?? new ExponentialBackoffRateLimiter();
    this.metrics = options.metrics;
  }

  /** Marks `key` as needing processing. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics?.incAdds();
    if (this.processing.has(key)) return;
    this.push(key);
    this.dispatch();
  }

  /** Adds `key` after `ms` milliseconds; an earlier pending deadline for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const pending = this.waiting.get(key);
    if (pending !== undefined) {
      if (pending.readyAt <= readyAt) return;
      pending.cancel();
    }
    const cancel = this.clock.setTimer(ms, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { readyAt, cancel });
  }

  /** Adds `key` after its rate limiter's backoff (one more failure for the key). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.incRetries();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets `key`'s backoff; call after a successful processing. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Number of keys waiting to be handed out (not counting keys being processed or delayed adds). */
  len(): number {
    return this.queue.size;
  }

  /**
   * Waits for a key and marks it processing; the caller must call `done(key)` when finished.
   * Resolves `undefined` once the queue is shut down and has no key left to hand out.
   */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Ends processing of `key`; if it was re-added meanwhile, it is queued again. Unknown keys are ignored. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics?.observeWorkDuration?.(this.clock.now() - startedAt);
    if (this.dirty.has(key)) {
      this.push(key);
      this.dispatch();
    }
    this.checkDrained();
  }

  /** Stops accepting adds and drops pending delayed adds; `get()` drains what is queued, then yields undefined. */
  shutDown(): void {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { cancel } of this.waiting.values()) cancel();
      this.waiting.clear();
    }
    // Getters only wait when the queue is empty, so each of them is owed `undefined` now.
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    this.checkDrained();
  }

  /** `shutDown()`, then resolves once every key handed out has been `done()`. */
  shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    this.shutDown();
    return drained;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  private push(key: string): void {
    this.queue.add(key);
    this.queuedAt.set(key, this.clock.now());
    this.metrics?.setDepth(this.queue.size);
  }

  /** Hands the oldest queued key out, or returns undefined. */
  private take(): string | undefined {
    const next = this.queue.values().next();
    if (next.done) return undefined;
    const key = next.value;
    const now = this.clock.now();
    this.queue.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, now);
    const queuedAt = this.queuedAt.get(key);
    this.queuedAt.delete(key);
    this.metrics?.setDepth(this.queue.size);
    if (queuedAt !== undefined) this.metrics?.observeQueueLatency?.(now - queuedAt);
    return key;
  }

  /** Hands queued keys to waiting getters, synchronously, so no other caller can take them in between. */
  private dispatch(): void {
    while (this.getters.length > 0 && this.queue.size > 0) {
      const resolve = this.getters.shift()!;
      resolve(this.take());
    }
  }

  private checkDrained(): void {
    if (!this.shuttingDown || this.processing.size > 0 || this.drainWaiters.length === 0) return;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}

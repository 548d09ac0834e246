import { SyncError } from '../errors.js';
import type { WorkQueue } from './workqueue.js';

/** What a handler asks for after a success, like controller-runtime's `reconcile.Result`. */
export interface WorkResult {
  /** Process the key again after this many ms (ignored unless > 0). Resets the key's backoff. */
  requeueAfter?: number;
}

/**
 * Processes one key. Resolve on success (optionally asking for a delayed requeue); throw or reject on
 * failure. `signal` is the `runWorkers` signal: it aborts on shutdown.
 */
export type WorkHandler = (key: string, signal: AbortSignal) => Promise<WorkResult | void> | WorkResult | void;

export interface RunWorkersOptions {
  /** Called for every failure (after the key was requeued, or forgotten if terminal). Must not throw. */
  onError?(key: string, err: unknown): void;
}

/**
 * Runs `n` concurrent workers that take keys from `queue` and call `handler(key, signal)`:
 * - success: `forget(key)`, then `addAfter(key, requeueAfter)` when `requeueAfter > 0`;
 * - failure (throw, rejection): `addRateLimited(key)`, except a terminal `SyncError`, which is forgotten
 *   and not requeued (it waits for a spec change or the next poll);
 * - the key is always `done()`, so a worker survives any handler failure.
 * When `signal` aborts, the queue is shut down; keys still queued are then released without calling the
 * handler, and handlers already running finish. Resolves when every worker has stopped, i.e. when the
 * queue is shut down (by the signal or by the caller) and empty.
 */
export async function runWorkers(
  queue: WorkQueue,
  n: number,
  handler: WorkHandler,
  signal: AbortSignal,
  options: RunWorkersOptions = {},
): Promise<void> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`worker count must be an integer >= 1, got ${n}`);
  const onAbort = () => queue.shutDown();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(Array.from({ length: n }, () => worker(queue, handler, signal, options)));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function worker(queue: WorkQueue, handler: WorkHandler, signal: AbortSignal, options: RunWorkersOptions): Promise<void> {
  for (;;) {
    const key = await queue.get();
    if (key === undefined) return;
    if (signal.aborted) {
      queue.done(key);
      continue;
    }
    try {
      const result = await handler(key, signal);
      queue.forget(key);
      const requeueAfter = result?.requeueAfter;
      if (requeueAfter !== undefined && requeueAfter > 0) queue.addAfter(key, requeueAfter);
    } catch (err) {
      if (err instanceof SyncError && err.terminal) queue.forget(key);
      else queue.addRateLimited(key);
      report(options, key, err);
    } finally {
      queue.done(key);
    }
  }
}

function report(options: RunWorkersOptions, key: string, err: unknown): void {
  try {
    options.onError?.(key, err);
  } catch {
    // A broken error reporter must not kill the worker.
  }
}

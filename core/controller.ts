import type { SecretProviderClass, SecretSync } from './api/types.js';
import type { KubeHttp } from './kube/http.js';
import { InformerCache } from './kube/informer-cache.js';
import type { Clock } from './ports/clock.js';
import type { Logger, Metrics } from './ports/observability.js';
import { WorkQueue } from './queue/workqueue.js';
import { runWorkers } from './queue/workers.js';
import type { Reconciler } from './reconciler.js';

const keyOf = (o: { metadata: { namespace?: string; name: string } }) => `${o.metadata.namespace}/${o.metadata.name}`;

/**
 * Watches SecretSyncs and SecretProviderClasses and feeds a keyed work queue served by N workers.
 * Enqueues a SecretSync on create, on a spec change (generation), when the SPC it uses changes, and on its own
 * poll schedule (the reconciler's requeueAfter). Never branches on event types inside the reconcile.
 */
export class SyncController {
  readonly queue: WorkQueue;
  private cache?: InformerCache;

  constructor(
    private readonly http: KubeHttp,
    private readonly reconciler: Reconciler,
    private readonly opts: { concurrent: number; clock: Clock; log: Logger; metrics: Metrics },
  ) {
    this.queue = new WorkQueue(opts.clock, {
      metrics: { setDepth: (n) => opts.metrics.queueDepth(n), incAdds() {}, incRetries() {} },
    });
  }

  /** The watch cache; created by `createCache` (the reconciler reads from it). */
  createCache(): InformerCache {
    this.cache = new InformerCache(this.http, {
      secretSync: (event, obj, old) => this.onSecretSync(event, obj, old),
      secretProviderClass: (event, obj) => this.onSpc(event, obj),
    }, this.opts.log);
    return this.cache;
  }

  /** Runs one reconcile of `key` now, outside the queue (diagnostics and tests). */
  reconcileNow(key: string, signal: AbortSignal = new AbortController().signal) {
    return this.reconciler.reconcile(key, signal);
  }

  synced(): boolean {
    return this.cache?.synced() ?? false;
  }

  private onSecretSync(event: 'add' | 'update' | 'delete', obj: SecretSync, old?: SecretSync): void {
    const key = keyOf(obj);
    if (event === 'delete') {
      this.reconciler.forget(key);
      this.opts.metrics.forget(obj.metadata.namespace!, obj.metadata.name);
      return;
    }
    if (!this.reconciler.handles(obj) && !(old && this.reconciler.handles(old))) return;
    if (event === 'add' || !old || old.metadata.generation !== obj.metadata.generation) this.queue.add(key);
  }

  private onSpc(_event: 'add' | 'update' | 'delete', spc: SecretProviderClass): void {
    if (!this.cache) return;
    for (const ss of this.cache.listSecretSyncs()) {
      if (ss.metadata.namespace === spc.metadata.namespace && ss.spec?.secretProviderClassName === spc.metadata.name && this.reconciler.handles(ss)) {
        this.queue.add(keyOf(ss));
      }
    }
  }

  /**
   * Starts the watches, then (once `leadership` resolves, when given) the workers; resolves when `signal` aborts
   * and the workers have drained. Watches run on standbys too, so they are ready to take over at once.
   */
  async run(signal: AbortSignal, leadership?: Promise<void>): Promise<void> {
    const cache = this.cache ?? this.createCache();
    // start() waits for the first successful lists; a stop before that ends the wait.
    const stopCache = () => { void cache.stop(); };
    signal.addEventListener('abort', stopCache, { once: true });
    try {
      if (signal.aborted) return;
      await cache.start();
      if (leadership) await leadership;
      if (signal.aborted) return;
      this.opts.log.info({ workers: this.opts.concurrent }, 'caches synced; workers starting');
      await runWorkers(this.queue, this.opts.concurrent, (key, s) => this.reconciler.reconcile(key, s), signal, {
        onError: () => undefined, // the reconciler logs and reports every failure itself
      });
    } finally {
      signal.removeEventListener('abort', stopCache);
      await cache.stop();
    }
  }
}

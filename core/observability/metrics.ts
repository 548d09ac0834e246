import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Metrics } from '../ports/observability.js';

/** Prometheus metrics of the controller (prom-client). Labels carry names and reasons, never secret material. */
export class PromMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly syncs = new Counter({ name: 'secretsync_syncs_total', help: 'Reconciles by result and failure reason.', labelNames: ['result', 'reason'], registers: [this.registry] });
  private readonly duration = new Histogram({ name: 'secretsync_sync_duration_seconds', help: 'Duration of one reconcile.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry] });
  private readonly providerCalls = new Histogram({ name: 'secretsync_provider_call_duration_seconds', help: 'Provider Mount latency by provider and result.', labelNames: ['provider', 'result'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers: [this.registry] });
  private readonly providerErrors = new Counter({ name: 'secretsync_provider_errors_total', help: 'Failed provider calls by provider.', labelNames: ['provider'], registers: [this.registry] });
  private readonly depth = new Gauge({ name: 'secretsync_queue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  private readonly lastSync = new Gauge({ name: 'secretsync_last_successful_sync_timestamp_seconds', help: 'Time of the last successful sync per SecretSync.', labelNames: ['namespace', 'name'], registers: [this.registry] });

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  syncFinished(result: 'success' | 'error', reason: string, seconds: number): void {
    this.syncs.inc({ result, reason });
    this.duration.observe(seconds);
  }

  providerCall(provider: string, ok: boolean, seconds: number): void {
    this.providerCalls.observe({ provider, result: ok ? 'success' : 'error' }, seconds);
    if (!ok) this.providerErrors.inc({ provider });
  }

  queueDepth(n: number): void {
    this.depth.set(n);
  }

  lastSuccessfulSync(namespace: string, name: string, epochSeconds: number): void {
    this.lastSync.set({ namespace, name }, epochSeconds);
  }

  forget(namespace: string, name: string): void {
    this.lastSync.remove({ namespace, name });
  }
}

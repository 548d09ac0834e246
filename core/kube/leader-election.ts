import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../ports/observability.js';
import { KubeApiError, type KubeHttp } from './http.js';
import { abortableSleep } from '../abortable-sleep.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Release the lease when the run is aborted (default true). */
  releaseOnCancel?: boolean;
}

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics: acquire when the lease is free
 * or expired, renew every retry period, give up leadership when a renewal has not succeeded within the renew
 * deadline, release the lease on a graceful stop so a standby takes over at once.
 */
export class LeaderElector {
  readonly identity: string;
  private leading = false;
  private observed?: { holder: string; renewMs: number; rv?: string; localMs: number };
  private readonly path: string;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly http: KubeHttp, private readonly o: LeaderElectionOptions, private readonly log: Logger) {
    this.identity = o.identity || `${hostname()}_${randomBytes(4).toString('hex')}`;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/leases`;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves once this instance leads (or rejects when `signal` aborts first). Then keeps renewing in the
   * background and calls `onLost` if leadership is lost; on abort it releases the lease.
   */
  async acquire(signal: AbortSignal, onLost: () => void): Promise<void> {
    this.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.identity }, 'waiting for leadership');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      await abortableSleep(this.o.retryPeriodMs, signal);
    }
    if (signal.aborted) throw new Error('stopped before becoming leader');
    this.leading = true;
    this.log.info({ identity: this.identity }, 'became leader');
    this.loop = this.renewLoop(signal, onLost);
  }

  /** Resolves once the renew loop has ended (and the lease was released, on a graceful stop). */
  done(): Promise<void> {
    return this.loop;
  }

  private async renewLoop(signal: AbortSignal, onLost: () => void): Promise<void> {
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await abortableSleep(this.o.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew > this.o.renewDeadlineMs) {
        this.leading = false;
        this.log.error({ identity: this.identity }, 'leadership lost');
        onLost();
        return;
      }
    }
    if (this.leading && this.o.releaseOnCancel !== false) await this.release();
    this.leading = false;
  }

  /** Gives the lease up (graceful shutdown), so another replica need not wait for it to expire. */
  async release(): Promise<void> {
    this.leading = false;
    try {
      const lease = await this.http.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
      if (lease.spec?.holderIdentity !== this.identity) return;
      await this.http.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(Date.now()) } },
      });
      this.log.info({ identity: this.identity }, 'leadership released');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'releasing the lease failed');
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const durationS = Math.max(1, Math.round(this.o.leaseDurationMs / 1000));
    try {
      let lease: Lease;
      try {
        lease = await this.http.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`);
      } catch (err) {
        if (!(err instanceof KubeApiError && err.code === 404)) throw err;
        await this.http.request('POST', this.path, { body: {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: durationS, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        } });
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      // Expiry is judged by when *we* last saw the lease change (client-go does the same: no clock-skew trust).
      if (!this.observed || this.observed.rv !== lease.metadata.resourceVersion) {
        this.observed = { holder, renewMs: spec.renewTime ? Date.parse(spec.renewTime) : 0, rv: lease.metadata.resourceVersion, localMs: now };
      }
      const held = holder !== '' && holder !== this.identity;
      const expired = now > this.observed.localMs + (spec.leaseDurationSeconds ?? durationS) * 1000;
      if (held && !expired) return false;
      const transitions = (spec.leaseTransitions ?? 0) + (holder === this.identity ? 0 : 1);
      await this.http.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, { body: {
        ...lease,
        spec: {
          holderIdentity: this.identity, leaseDurationSeconds: durationS,
          acquireTime: holder === this.identity ? spec.acquireTime : microTime(now), renewTime: microTime(now), leaseTransitions: transitions,
        },
      } });
      return true;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 409)) this.log.warn({ err: (err as Error).message }, 'lease update failed');
      return false;
    }
  }
}

import * as k8s from '@kubernetes/client-node';
import {
  SECRET_SYNC_API_VERSION, SECRET_SYNC_PLURAL, SPC_GROUP, SPC_PLURAL, SPC_VERSION,
  type SecretProviderClass, type SecretSync,
} from '../api/types.js';
import type { ObjectCache } from '../ports/kube.js';
import type { Logger } from '../ports/observability.js';

export interface CacheHandlers {
  secretSync(event: 'add' | 'update' | 'delete', obj: SecretSync, old?: SecretSync): void;
  secretProviderClass(event: 'add' | 'update' | 'delete', obj: SecretProviderClass): void;
}

type Inf<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

/**
 * Watch caches of SecretSync and SecretProviderClass across all namespaces (list + watch). client-node's
 * informer stops on errors other than 410, so each restarts itself with capped backoff.
 */
export class InformerCache implements ObjectCache {
  private readonly ss: Inf<SecretSync & k8s.KubernetesObject>;
  private readonly spc: Inf<SecretProviderClass & k8s.KubernetesObject>;
  private ssSynced = false;
  private spcSynced = false;
  private stopped = false;
  private readonly oldByKey = new Map<string, SecretSync>();

  constructor(kc: k8s.KubeConfig, private readonly handlers: CacheHandlers, private readonly log: Logger) {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const [g, v] = SECRET_SYNC_API_VERSION.split('/');
    this.ss = k8s.makeInformer(kc, `/apis/${g}/${v}/${SECRET_SYNC_PLURAL}`,
      () => custom.listClusterCustomObject({ group: g, version: v, plural: SECRET_SYNC_PLURAL }) as never) as never;
    this.spc = k8s.makeInformer(kc, `/apis/${SPC_GROUP}/${SPC_VERSION}/${SPC_PLURAL}`,
      () => custom.listClusterCustomObject({ group: SPC_GROUP, version: SPC_VERSION, plural: SPC_PLURAL }) as never) as never;

    const key = (o: SecretSync) => `${o.metadata.namespace}/${o.metadata.name}`;
    this.ss.on('add', (o) => { this.oldByKey.set(key(o), o); handlers.secretSync('add', o); });
    this.ss.on('update', (o) => { const old = this.oldByKey.get(key(o)); this.oldByKey.set(key(o), o); handlers.secretSync('update', o, old); });
    this.ss.on('delete', (o) => { this.oldByKey.delete(key(o)); handlers.secretSync('delete', o); });
    this.spc.on('add', (o) => handlers.secretProviderClass('add', o));
    this.spc.on('update', (o) => handlers.secretProviderClass('update', o));
    this.spc.on('delete', (o) => handlers.secretProviderClass('delete', o));
    this.restartOnError(this.ss, 'SecretSync');
    this.restartOnError(this.spc, 'SecretProviderClass');
  }

  private restartOnError<T extends k8s.KubernetesObject>(inf: Inf<T>, what: string): void {
    let backoff = 500;
    inf.on('connect', () => { backoff = 500; });
    inf.on('error', (err?: unknown) => {
      if (this.stopped) return;
      this.log.warn({ resource: what, err: (err as Error)?.message ?? String(err), retryInMs: backoff }, 'watch failed; restarting');
      const t = setTimeout(() => { if (!this.stopped) inf.start().catch(() => undefined); }, backoff);
      t.unref();
      backoff = Math.min(backoff * 2, 30_000);
    });
  }

  async start(): Promise<void> {
    // start() resolves once the initial list has been processed.
    await Promise.all([
      this.ss.start().then(() => { this.ssSynced = true; }),
      this.spc.start().then(() => { this.spcSynced = true; }),
    ]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.ss.stop(), this.spc.stop()]);
  }

  synced(): boolean {
    return this.ssSynced && this.spcSynced;
  }

  getSecretSync(namespace: string, name: string): SecretSync | undefined {
    return this.ss.get(name, namespace);
  }

  getSecretProviderClass(namespace: string, name: string): SecretProviderClass | undefined {
    return this.spc.get(name, namespace);
  }

  listSecretSyncs(): SecretSync[] {
    return [...this.ss.list()];
  }
}

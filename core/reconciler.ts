import {
  CONDITION_CREATED, CONDITION_UPDATED, RESERVED_PREFIX,
  type Condition, type SecretProviderClass, type SecretSync, type SecretSyncStatus,
} from './api/types.js';
import type { Config } from './config.js';
import {
  ControllerSyncError, InvalidClusterSecretAnnotationError, InvalidClusterSecretLabelError, ProviderError,
  RemoteSecretStoreFetchFailed, SecretProviderClassMisconfigured, SyncError, errorText, withPrefix,
} from './errors.js';
import type { Clock } from './ports/clock.js';
import type { EventRecorder, ObjectCache, SecretWriter, StatusWriter } from './ports/kube.js';
import type { Logger, Metrics } from './ports/observability.js';
import { MOUNT_PERMISSION, MOUNT_TARGET_PATH, type ProviderFile, type ProviderResolver } from './ports/provider.js';

export const ATTR_POD_NAME = 'csi.storage.k8s.io/pod.name';
export const ATTR_POD_UID = 'csi.storage.k8s.io/pod.uid';
export const ATTR_POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
export const ATTR_SA_NAME = 'csi.storage.k8s.io/serviceAccount.name';
export const ATTR_SA_TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';

/** The pieces of the sync path the reconciler needs, each behind an interface (wired by the composition root). */
export interface ReconcilerDeps {
  config: Config;
  cache: ObjectCache;
  resolver: ProviderResolver;
  /** Returns the serviceAccount.tokens attribute value for this provider, or undefined when no audience applies. */
  tokens(namespace: string, serviceAccount: string, provider: string, signal: AbortSignal): Promise<string | undefined>;
  mapData(files: ProviderFile[], secretObject: SecretSync['spec']['secretObject']): Record<string, Buffer>;
  hash(input: HashInput): string;
  conditions: ConditionLogic;
  writer: SecretWriter;
  status: StatusWriter;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  random?: () => number;
}

export interface HashInput {
  data: Record<string, Buffer>;
  spcUid: string;
  spcGeneration: number;
  secretSyncUid: string;
  secretSyncGeneration: number;
  forceSynchronization: string;
}

export interface ConditionLogic {
  /** Conditions after a successful sync (create path when `created`). */
  success(existing: Condition[] | undefined, created: boolean, now: Date, generation?: number): Condition[];
  /** Conditions after a failure of this run's condition type. */
  failure(existing: Condition[] | undefined, type: string, reason: string, message: string, now: Date, generation?: number): Condition[];
}

export interface ReconcileResult {
  requeueAfter?: number;
}

/** Wraps everything that goes wrong while fetching from the provider as upstream does. */
const FETCH_PREFIX = 'fetching secrets from the provider failed: ';

/**
 * Reconciles one SecretSync key: provider -> Secret (server-side apply) -> status. Never reads a Secret.
 * Edge cases: a missing SecretSync is not an error (it was deleted; GC removes the Secret); a SecretSync for
 * another controller name is ignored; every success and every terminal failure requeues after the poll
 * interval (±10 % jitter) so a Secret deleted or edited by hand is restored; other failures throw (backoff).
 */
export class Reconciler {
  private readonly lastResourceVersion = new Map<string, string>();

  constructor(private readonly d: ReconcilerDeps) {}

  handles(ss: SecretSync): boolean {
    return (ss.spec?.secretSyncControllerName ?? '') === this.d.config.controllerName;
  }

  forget(key: string): void {
    this.lastResourceVersion.delete(key);
  }

  pollDelay(): number | undefined {
    const p = this.d.config.rotationPollIntervalMs;
    if (!p) return undefined;
    return Math.round(p * (0.9 + 0.2 * (this.d.random ?? Math.random)()));
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const ss = this.d.cache.getSecretSync(namespace, name);
    if (!ss || ss.metadata.deletionTimestamp || !this.handles(ss)) {
      this.forget(key);
      return {};
    }
    const started = this.d.clock.now();
    const log = this.d.log.child({ namespace, name });
    const created = !ss.status?.syncHash;
    const type = created ? CONDITION_CREATED : CONDITION_UPDATED;
    const generation = ss.metadata.generation;
    let provider = '';
    try {
      checkReserved(ss);
      const spc = this.getSpc(ss);
      provider = spc.spec.provider!;
      const data = await this.fetch(ss, spc, signal, log);
      const syncHash = this.d.hash({
        data,
        spcUid: spc.metadata.uid ?? '',
        spcGeneration: spc.metadata.generation ?? 0,
        secretSyncUid: ss.metadata.uid ?? '',
        secretSyncGeneration: generation ?? 0,
        forceSynchronization: ss.spec.forceSynchronization ?? '',
      });
      const so = ss.spec.secretObject;
      const { resourceVersion } = await this.d.writer.apply({
        namespace, name, type: so.type || 'Opaque', labels: so.labels ?? {}, annotations: so.annotations ?? {}, data,
        owner: { name, uid: ss.metadata.uid ?? '' },
      }, signal);
      const previousRv = this.lastResourceVersion.get(key);
      this.lastResourceVersion.set(key, resourceVersion);
      const changed = syncHash !== ss.status?.syncHash;
      const restored = !changed && previousRv !== undefined && previousRv !== resourceVersion;
      const now = new Date(this.d.clock.now());
      const status: SecretSyncStatus = {
        syncHash,
        lastSuccessfulSyncTime: changed || restored || !ss.status?.lastSuccessfulSyncTime ? now.toISOString() : ss.status.lastSuccessfulSyncTime,
        conditions: this.d.conditions.success(ss.status?.conditions, created, now, generation),
      };
      if (!sameStatus(ss.status, status)) await this.d.status.write(ss, status);
      if (created) this.d.events.event(ss, 'Normal', 'SecretCreated', `Secret "${name}" created from provider "${provider}"`);
      else if (changed) this.d.events.event(ss, 'Normal', 'SecretUpdated', `Secret "${name}" updated from provider "${provider}"`);
      else if (restored) this.d.events.event(ss, 'Normal', 'SecretRestored', `Secret "${name}" was changed or deleted outside the controller and has been restored`);
      if (changed || restored || created) log.info({ provider, created, restored }, 'secret applied');
      this.d.metrics.syncFinished('success', '', (this.d.clock.now() - started) / 1000);
      this.d.metrics.lastSuccessfulSync(namespace, name, Math.floor(now.getTime() / 1000));
      return { requeueAfter: this.pollDelay() };
    } catch (err) {
      const e = err instanceof SyncError ? err : new ControllerSyncError(errorText(err), { cause: err });
      const now = new Date(this.d.clock.now());
      this.d.metrics.syncFinished('error', e.reason, (this.d.clock.now() - started) / 1000);
      log.warn({ provider, reason: e.reason, err: e.message }, 'sync failed');
      if (!signal.aborted) {
        const status: SecretSyncStatus = {
          ...(ss.status?.syncHash ? { syncHash: ss.status.syncHash } : {}),
          ...(ss.status?.lastSuccessfulSyncTime ? { lastSuccessfulSyncTime: ss.status.lastSuccessfulSyncTime } : {}),
          conditions: this.d.conditions.failure(ss.status?.conditions, type, e.reason, e.message, now, generation),
        };
        if (!sameStatus(ss.status, status)) {
          await this.d.status.write(ss, status).catch((werr: Error) => log.error({ err: werr.message }, 'status write failed'));
        }
        this.d.events.event(ss, 'Warning', e.reason, e.message);
      }
      if (e.terminal) return { requeueAfter: this.pollDelay() };
      throw e;
    }
  }

  private getSpc(ss: SecretSync): SecretProviderClass & { spec: { provider: string } } {
    const n = ss.spec.secretProviderClassName;
    const spc = this.d.cache.getSecretProviderClass(ss.metadata.namespace!, n);
    if (!spc) {
      throw new SecretProviderClassMisconfigured(`failed to get SecretProviderClass "${n}": SecretProviderClass.secrets-store.csi.x-k8s.io "${n}" not found`);
    }
    if (!spc.spec?.provider) {
      throw new SecretProviderClassMisconfigured(`SecretProviderClass "${n}" has no spec.provider: set it to the provider's name (for example vault, azure, aws, gcp)`);
    }
    if (spc.spec.parameters == null) {
      throw new SecretProviderClassMisconfigured(`SecretProviderClass "${n}" has no spec.parameters: providers need their parameters (for example objects)`);
    }
    return spc as SecretProviderClass & { spec: { provider: string } };
  }

  private async fetch(ss: SecretSync, spc: SecretProviderClass & { spec: { provider: string } }, signal: AbortSignal, log: Logger): Promise<Record<string, Buffer>> {
    const c = this.d.config;
    const ns = ss.metadata.namespace!;
    try {
      const transport = await this.d.resolver.resolve(spc.spec.provider);
      const attributes: Record<string, string> = {
        ...(spc.spec.parameters ?? {}),
        [ATTR_POD_NAME]: c.podName,
        [ATTR_POD_UID]: c.podUid,
        [ATTR_POD_NAMESPACE]: ns,
        [ATTR_SA_NAME]: ss.spec.serviceAccountName,
      };
      delete attributes[ATTR_SA_TOKENS];
      const tokens = await this.d.tokens(ns, ss.spec.serviceAccountName, spc.spec.provider, signal).catch((err: unknown) => {
        throw err instanceof SyncError ? err : new ControllerSyncError(errorText(err));
      });
      if (tokens !== undefined) attributes[ATTR_SA_TOKENS] = tokens;
      const t0 = this.d.clock.now();
      const deadline = t0 + c.providerTimeoutMs;
      let response;
      try {
        response = await transport.mount({
          attributes, secrets: {}, targetPath: MOUNT_TARGET_PATH, permission: MOUNT_PERMISSION, currentObjectVersions: [],
        }, { signal, deadline });
        this.d.metrics.providerCall(spc.spec.provider, true, (this.d.clock.now() - t0) / 1000);
      } catch (err) {
        this.d.metrics.providerCall(spc.spec.provider, false, (this.d.clock.now() - t0) / 1000);
        throw err instanceof SyncError ? err : new ProviderError(errorText(err));
      }
      log.debug({ provider: spc.spec.provider, files: response.files.length, objects: response.objectVersions.length }, 'provider answered');
      try {
        return this.d.mapData(response.files, ss.spec.secretObject);
      } catch (err) {
        throw err instanceof SyncError ? err : new RemoteSecretStoreFetchFailed(errorText(err));
      }
    } catch (err) {
      if (err instanceof SyncError) throw withPrefix(err, FETCH_PREFIX);
      throw err;
    }
  }
}

function checkReserved(ss: SecretSync): void {
  const so = ss.spec.secretObject;
  // Defence in depth: the CRD's CEL rules normally reject these already.
  for (const k of Object.keys(so.labels ?? {})) {
    if (k.startsWith(RESERVED_PREFIX)) {
      throw new InvalidClusterSecretLabelError(`label ${RESERVED_PREFIX} is reserved for use by the Secrets Store Sync Controller`);
    }
  }
  for (const k of Object.keys(so.annotations ?? {})) {
    if (k.startsWith(RESERVED_PREFIX)) {
      throw new InvalidClusterSecretAnnotationError(`annotation ${RESERVED_PREFIX} is reserved for use by the Secrets Store Sync Controller`);
    }
  }
}

function sameStatus(a: SecretSyncStatus | undefined, b: SecretSyncStatus): boolean {
  const norm = (s: SecretSyncStatus | undefined) => JSON.stringify({
    syncHash: s?.syncHash ?? '',
    lastSuccessfulSyncTime: s?.lastSuccessfulSyncTime ? new Date(s.lastSuccessfulSyncTime).toISOString() : '',
    conditions: [...(s?.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)).map((c) => ({
      type: c.type, status: c.status, reason: c.reason, message: c.message,
      lastTransitionTime: new Date(c.lastTransitionTime).toISOString(), observedGeneration: c.observedGeneration,
    })),
  });
  return norm(a) === norm(b);
}

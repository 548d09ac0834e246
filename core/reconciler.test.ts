/**
 * Reconciler scenarios that the API server cannot produce (its CRD rejects the objects), with in-memory
 * fakes for the cache, writer and status: upstream §12 scenarios 2, 3, 4 and 7, plus the NotFound fix.
 */
import type { SecretProviderClass, SecretSync, SecretSyncStatus } from './api/types.js';
import { buildConfig } from './config.js';
import { InMemoryProviderRegistry, DefaultProviderResolver } from './provider-resolver.js';
import type { DesiredSecret, ObjectCache } from './ports/kube.js';
import { noopMetrics, silentLogger } from './ports/observability.js';
import { Reconciler, type ConditionLogic } from './reconciler.js';
import { conditionLogic } from './sync/condition-logic.js';
import { mapSecretData } from './sync/secret-mapper.js';
import { SyncHasher } from './sync/sync-hash.js';
import { FakeClock } from './testing/fake-clock.js';
import type { MountResponse, ProviderTransport } from './ports/provider.js';

const conditions: ConditionLogic = conditionLogic;

function secretSync(overrides: Partial<SecretSync['spec']['secretObject']> = {}): SecretSync {
  return {
    apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync',
    metadata: { name: 'sse2esecret', namespace: 'default', uid: 'uid-ss', generation: 1 },
    spec: {
      secretProviderClassName: 'test-spc', serviceAccountName: 'default',
      secretObject: { type: 'Opaque', data: [{ sourcePath: 'foo', targetKey: 'bar' }], ...overrides },
    },
  };
}

const spc: SecretProviderClass = {
  apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass',
  metadata: { name: 'test-spc', namespace: 'default', uid: 'uid-spc', generation: 1 },
  spec: { provider: 'fake-provider', parameters: { foo: 'v1' } },
};

function fakeProvider(files: MountResponse['files']): ProviderTransport {
  return {
    providerName: 'fake-provider', kind: 'fake',
    mount: async () => ({ files, objectVersions: [{ id: 'secret/object1', version: 'v1' }] }),
    version: async () => ({ version: 'v1alpha1', runtimeName: 'fake', runtimeVersion: '0' }),
    close: async () => undefined,
  };
}

function setup(ss: SecretSync | undefined) {
  const statuses: SecretSyncStatus[] = [];
  const applied: DesiredSecret[] = [];
  const registry = new InMemoryProviderRegistry();
  registry.register(fakeProvider([{ path: 'foo', contents: Buffer.from('foo') }]));
  const cache: ObjectCache = {
    getSecretSync: () => ss,
    getSecretProviderClass: (_ns, n) => (n === spc.metadata.name ? spc : undefined),
    listSecretSyncs: () => (ss ? [ss] : []),
    synced: () => true,
  };
  const hasher = SyncHasher.withRandomKey();
  const r = new Reconciler({
    config: buildConfig(['--rotation-poll-interval=0']), cache, resolver: new DefaultProviderResolver(registry),
    tokens: async () => undefined, mapData: mapSecretData, hash: (i) => hasher.hash(i), conditions,
    writer: { apply: async (s) => { applied.push(s); return { resourceVersion: String(applied.length) }; } },
    status: { write: async (_ss, st) => { statuses.push(st); } },
    events: { event() {} }, clock: new FakeClock(), log: silentLogger, metrics: noopMetrics,
  });
  return { r, statuses, applied };
}

const signal = new AbortController().signal;
const cond = (st: SecretSyncStatus | undefined, type: string) => st?.conditions?.find((c) => c.type === type);

describe('reconciler (upstream scenarios unreachable through the API server)', () => {
  test('2: a SecretSync that no longer exists is not an error and is not requeued (upstream retried forever)', async () => {
    const { r, statuses, applied } = setup(undefined);
    await expect(r.reconcile('default/sse2esecret', signal)).resolves.toEqual({});
    expect(statuses).toHaveLength(0);
    expect(applied).toHaveLength(0);
  });

  test('3: a reserved label gives SecretCreated=False/InvalidClusterSecretLabelError; SecretUpdated stays Unknown', async () => {
    const { r, statuses, applied } = setup(secretSync({ labels: { 'secrets-store.sync.x-k8s.io': 'x' } }));
    await expect(r.reconcile('default/sse2esecret', signal)).resolves.toEqual({}); // terminal: no backoff loop
    expect(applied).toHaveLength(0);
    expect(cond(statuses.at(-1), 'SecretCreated')).toMatchObject({
      status: 'False', reason: 'InvalidClusterSecretLabelError',
      message: 'label secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller',
    });
    expect(cond(statuses.at(-1), 'SecretUpdated')).toMatchObject({ status: 'Unknown', reason: 'NoUpdatesAttemptedYet' });
  });

  test('4: a reserved annotation gives SecretCreated=False/InvalidClusterSecretAnnotationError', async () => {
    const { r, statuses } = setup(secretSync({ annotations: { 'secrets-store.sync.x-k8s.io': '' } }));
    await r.reconcile('default/sse2esecret', signal);
    expect(cond(statuses.at(-1), 'SecretCreated')).toMatchObject({
      status: 'False', reason: 'InvalidClusterSecretAnnotationError',
      message: 'annotation secrets-store.sync.x-k8s.io is reserved for use by the Secrets Store Sync Controller',
    });
  });

  test('7: an empty targetKey gives SecretCreated=False/RemoteSecretStoreFetchFailed with the upstream message', async () => {
    const { r, statuses, applied } = setup(secretSync({ data: [{ sourcePath: 'foo', targetKey: '' }] }));
    await expect(r.reconcile('default/sse2esecret', signal)).rejects.toMatchObject({ reason: 'RemoteSecretStoreFetchFailed' });
    expect(applied).toHaveLength(0);
    expect(cond(statuses.at(-1), 'SecretCreated')).toMatchObject({
      status: 'False', reason: 'RemoteSecretStoreFetchFailed',
      message: 'fetching secrets from the provider failed: target key in secretObject.data is empty',
    });
  });

  test('1: a successful create writes the Secret (label, one owner) and both True conditions with observedGeneration', async () => {
    const { r, statuses, applied } = setup(secretSync());
    await r.reconcile('default/sse2esecret', signal);
    expect(applied[0]).toMatchObject({ name: 'sse2esecret', namespace: 'default', type: 'Opaque', owner: { name: 'sse2esecret', uid: 'uid-ss' } });
    expect(applied[0].data.bar.toString()).toBe('foo');
    expect(cond(statuses[0], 'SecretCreated')).toMatchObject({ status: 'True', reason: 'CreateSuccessful', message: 'Secret created successfully.', observedGeneration: 1 });
    expect(cond(statuses[0], 'SecretUpdated')).toMatchObject({ status: 'True', reason: 'SecretUpToDate', message: 'Secret contains last observed values.' });
  });
});

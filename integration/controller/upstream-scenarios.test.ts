/**
 * Upstream's reconcile unit scenarios (§12: 1, 5, 6, 8, 9) and e2e scenarios (§12: 18–27), on the real API
 * server, with upstream manifests unchanged (no secretSyncControllerName: the default controller).
 * Scenarios 2, 3, 4 and 7 cannot be produced through the API server (the CRD rejects them); they are covered
 * at the reconciler level in core/reconciler.test.ts.
 */
import * as k8s from '@kubernetes/client-node';
import { CONTROLLER_NAMESPACE, CONTROLLER_RULES, CONTROLLER_SA } from '../cluster/install.js';
import { adminConfig, apiErrorMessage, eventually, useNamespace } from '../cluster/testenv.js';
import {
  condition, createSecretSync, createSpc, custom, decoded, deleteSecretSync, readSecret, secretSyncBody, spcBody, startController,
  waitForCondition, waitForSecret, type ControllerHandle,
} from './harness.js';
import { applyPolicies } from './upstream-policies.js';

const ns = useNamespace(import.meta.url);
const other = useNamespace('other-ns.test.ts');
let ctl: ControllerHandle;
let removePolicies: () => Promise<void>;

beforeAll(async () => {
  ctl = await startController({ controllerName: '', flags: ['--rotation-poll-interval=2s'] });
  removePolicies = await applyPolicies(adminConfig());
}, 60_000);
afterAll(async () => {
  await ctl?.stop();
  await removePolicies?.();
});

const E2E_OBJECTS = { objects: 'array:\n  - |\n    objectName: foo\n    objectVersion: ""\n    value: secret\n' };

describe('upstream reconcile scenarios', () => {
  test('1: creates the secret; SecretCreated=True/CreateSuccessful and SecretUpdated=True/SecretUpToDate', async () => {
    await createSpc(ns.name, spcBody('e2e-providerspc', E2E_OBJECTS));
    await createSecretSync(ns.name, secretSyncBody('sse2esecret', { spc: 'e2e-providerspc' }));
    const ss = await waitForCondition(ns.name, 'sse2esecret', 'SecretUpdated', 'True', 'SecretUpToDate');
    expect(condition(ss, 'SecretCreated')).toMatchObject({ status: 'True', reason: 'CreateSuccessful', message: 'Secret created successfully.' });
    expect(condition(ss, 'SecretUpdated')).toMatchObject({ status: 'True', reason: 'SecretUpToDate', message: 'Secret contains last observed values.' });
    expect(ss.status?.syncHash).toMatch(/^v2:[0-9a-f]{64}$/);
    const secret = await waitForSecret(ns.name, 'sse2esecret');
    expect(decoded(secret)).toEqual({ bar: 'secret' });
  });

  test('5: a missing SecretProviderClass gives SecretProviderClassMisconfigured with the upstream message', async () => {
    await createSecretSync(ns.name, secretSyncBody('missing-spc', { spc: 'test-spc' }));
    const ss = await waitForCondition(ns.name, 'missing-spc', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
    expect(condition(ss, 'SecretCreated')!.message).toBe('failed to get SecretProviderClass "test-spc": SecretProviderClass.secrets-store.csi.x-k8s.io "test-spc" not found');
    expect(condition(ss, 'SecretUpdated')).toMatchObject({ status: 'Unknown', reason: 'NoUpdatesAttemptedYet' });
  });

  test('6: an unknown provider (no socket) gives SecretProviderClassMisconfigured "provider not found"', async () => {
    await createSpc(ns.name, spcBody('invalid-provider-spc', { foo: 'v1' }, 'invalid-fake-provider'));
    await createSecretSync(ns.name, secretSyncBody('invalid-provider', { spc: 'invalid-provider-spc' }));
    const ss = await waitForCondition(ns.name, 'invalid-provider', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
    expect(condition(ss, 'SecretCreated')!.message).toBe('fetching secrets from the provider failed: provider not found: provider "invalid-fake-provider"');
  });

  test('8 and 9: a repeated sync keeps the True conditions; changed provider data changes syncHash and lastSuccessfulSyncTime', async () => {
    await createSpc(ns.name, spcBody('rotating', { objects: '- foo\n' }));
    await createSecretSync(ns.name, secretSyncBody('rotating', { spc: 'rotating' }));
    const first = await waitForCondition(ns.name, 'rotating', 'SecretUpdated', 'True');
    const mounts = ctl.fake.mountCount;
    await eventually(async () => ctl.fake.mountCount >= mounts + 2, 15_000); // two polls, same data
    const same = await waitForCondition(ns.name, 'rotating', 'SecretUpdated', 'True', 'SecretUpToDate');
    expect(same.status?.syncHash).toBe(first.status?.syncHash);
    expect(same.status?.lastSuccessfulSyncTime).toBe(first.status?.lastSuccessfulSyncTime);
    expect(condition(same, 'SecretCreated')).toMatchObject({ status: 'True', reason: 'CreateSuccessful' });
    ctl.fake.rotate();
    const rotated = await eventually(async () => {
      const s = await waitForCondition(ns.name, 'rotating', 'SecretUpdated', 'True');
      if (s.status?.syncHash === first.status?.syncHash) throw new Error('hash unchanged');
      return s;
    }, 15_000);
    expect(new Date(rotated.status!.lastSuccessfulSyncTime!).getTime()).toBeGreaterThan(new Date(first.status!.lastSuccessfulSyncTime!).getTime());
    expect(decoded(await readSecret(ns.name, 'rotating'))).toEqual({ bar: 'foo-value-v2' });
  });
});

describe('upstream e2e scenarios', () => {
  test('18, 19: both CRDs are Established', async () => {
    const ext = adminConfig().makeApiClient(k8s.ApiextensionsV1Api);
    for (const name of ['secretproviderclasses.secrets-store.csi.x-k8s.io', 'secretsyncs.secret-sync.x-k8s.io']) {
      const crd = await ext.readCustomResourceDefinition({ name });
      expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    }
  });

  test('a SecretProviderClass written as v1alpha1 (served, deprecated) works unchanged', async () => {
    await custom().createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io', version: 'v1alpha1', namespace: ns.name, plural: 'secretproviderclasses',
      body: { apiVersion: 'secrets-store.csi.x-k8s.io/v1alpha1', kind: 'SecretProviderClass', metadata: { name: 'old-api' }, spec: { provider: 'fake', parameters: E2E_OBJECTS } },
    });
    await createSecretSync(ns.name, secretSyncBody('old-api', { spc: 'old-api' }));
    // The shared fake was rotated by an earlier test: its values carry a version suffix then.
    expect(decoded(await waitForSecret(ns.name, 'old-api')).bar).toMatch(/^secret(-v\d+)?$/);
  });

  test('20: the ClusterRole (secrets: create and patch only) and its binding exist', async () => {
    const rbac = adminConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: 'secrets-store-sync-controller-manager-role' });
    expect(role.rules).toEqual(CONTROLLER_RULES.map((r) => expect.objectContaining(r)));
    expect(role.rules?.find((r) => r.resources?.includes('secrets'))?.verbs).toEqual(['create', 'patch']);
    const binding = await rbac.readClusterRoleBinding({ name: 'secrets-store-sync-controller-manager-rolebinding' });
    expect(binding.subjects).toEqual([expect.objectContaining({ kind: 'ServiceAccount', name: CONTROLLER_SA, namespace: CONTROLLER_NAMESPACE })]);
  });

  test('21: the Secret has data.bar=secret and exactly one owner reference; deleting the SecretSync garbage-collects it', async () => {
    const secret = await waitForSecret(ns.name, 'sse2esecret');
    expect(secret.metadata?.ownerReferences).toHaveLength(1);
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', name: 'sse2esecret' });
    expect(secret.metadata?.labels).toEqual({ 'secrets-store.sync.x-k8s.io': '' });
    expect(secret.metadata?.managedFields?.map((f) => f.manager)).toContain('secrets-store-sync-controller');
    await deleteSecretSync(ns.name, 'sse2esecret');
    await eventually(async () => (await readSecret(ns.name, 'sse2esecret')) === undefined, 60_000);
  });

  test('22: a SecretProviderClass in another namespace is not found; no Secret', async () => {
    await createSpc(other.name, spcBody('e2e-providerspc', E2E_OBJECTS));
    await createSecretSync(ns.name, secretSyncBody('cross-ns', { spc: 'e2e-providerspc-elsewhere' }));
    const ss = await waitForCondition(ns.name, 'cross-ns', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
    expect(condition(ss, 'SecretCreated')!.message).toBe('failed to get SecretProviderClass "e2e-providerspc-elsewhere": SecretProviderClass.secrets-store.csi.x-k8s.io "e2e-providerspc-elsewhere" not found');
    // And the one that exists in the other namespace is not used for a SecretSync here.
    await createSecretSync(ns.name, secretSyncBody('cross-ns-2', { spc: 'e2e-providerspc-x' }));
    await createSecretSync(other.name, secretSyncBody('only-there', { spc: 'e2e-providerspc' }));
    await waitForCondition(other.name, 'only-there', 'SecretCreated', 'True');
    await waitForCondition(ns.name, 'cross-ns-2', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
    expect(await readSecret(ns.name, 'cross-ns')).toBeUndefined();
  });

  test('23: a type outside the allowed list is denied by the admission policy: ControllerPatchError, no Secret', async () => {
    await createSpc(ns.name, spcBody('custom-type', E2E_OBJECTS));
    await createSecretSync(ns.name, secretSyncBody('my-custom-api-secret', { spc: 'custom-type', type: 'example.com/api-credentials' }));
    const ss = await waitForCondition(ns.name, 'my-custom-api-secret', 'SecretCreated', 'False', 'ControllerPatchError');
    const msg = condition(ss, 'SecretCreated')!.message;
    expect(msg).toContain('failed to patch secret "my-custom-api-secret": secrets "my-custom-api-secret" is forbidden: ValidatingAdmissionPolicy \'secrets-store-sync-controller-create-update-policy\' with binding \'secrets-store-sync-controller-create-update-policy-binding\' denied request:');
    expect(msg).toContain('The controller can only create or update secrets in the allowed types list with a single secretsync owner.');
    expect(await readSecret(ns.name, 'my-custom-api-secret')).toBeUndefined();
  });

  test('24: kubernetes.io/service-account-token is denied: ControllerPatchError, no Secret', async () => {
    await createSecretSync(ns.name, secretSyncBody('sa-token-type', {
      spc: 'custom-type', type: 'kubernetes.io/service-account-token',
      // Without it Secret validation rejects the object before admission policies run.
      annotations: { 'kubernetes.io/service-account.name': 'default' },
    }));
    const ss = await waitForCondition(ns.name, 'sa-token-type', 'SecretCreated', 'False', 'ControllerPatchError');
    expect(condition(ss, 'SecretCreated')!.message).toContain('The controller is not allowed to create or update secrets with this type.');
    expect(await readSecret(ns.name, 'sa-token-type')).toBeUndefined();
  });

  test('25: an invalid annotation key is rejected by Secret validation: ControllerPatchError, no Secret', async () => {
    await createSecretSync(ns.name, secretSyncBody('bad-annotation', { spc: 'custom-type', annotations: { 'bad!key': 'x' } }));
    const ss = await waitForCondition(ns.name, 'bad-annotation', 'SecretCreated', 'False', 'ControllerPatchError');
    expect(condition(ss, 'SecretCreated')!.message).toMatch(/^failed to patch secret "bad-annotation": Secret "bad-annotation" is invalid: metadata.annotations: Invalid value: "bad!key": name part must consist of alphanumeric characters/);
    expect(await readSecret(ns.name, 'bad-annotation')).toBeUndefined();
  });

  test('26: an invalid label key is rejected by Secret validation: ControllerPatchError, no Secret', async () => {
    await createSecretSync(ns.name, secretSyncBody('bad-label', { spc: 'custom-type', labels: { 'bad!key': 'x' } }));
    const ss = await waitForCondition(ns.name, 'bad-label', 'SecretCreated', 'False', 'ControllerPatchError');
    expect(condition(ss, 'SecretCreated')!.message).toMatch(/^failed to patch secret "bad-label": Secret "bad-label" is invalid: metadata.labels: Invalid value: "bad!key": name part must consist of alphanumeric characters/);
    expect(await readSecret(ns.name, 'bad-label')).toBeUndefined();
  });

  test('27: a label value over 63 characters is rejected at admission with the CRD CEL message', async () => {
    const err = await createSecretSync(ns.name, secretSyncBody('long-label', { spc: 'custom-type', labels: { ok: 'x'.repeat(64) } })).then(() => undefined, (e: unknown) => e);
    expect((err as { code?: number }).code).toBe(422);
    expect(apiErrorMessage(err)).toContain('Label keys must not exceed 317 characters (254 for prefix+separator, 63 for name), label values must not exceed 63 characters.');
  });
});

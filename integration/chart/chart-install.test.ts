/**
 * `helm install` into the local control plane, then proof of confinement: acting as the ServiceAccount the
 * chart created (a real TokenRequest token), the controller can create and patch its own Secrets, and the API
 * server denies everything else the policies forbid, naming the policy. Finally the real controller runs
 * outside the cluster as that ServiceAccount and syncs a Secret through every policy.
 *
 * The release uses a fullnameOverride unique to this run, so its cluster-scoped objects (ClusterRoles,
 * policies) never collide with other test files that install upstream's names.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { buildContainer, createController, runController } from '../../core/cli/container.js';
import { buildConfig } from '../../core/config.js';
import { createLogger } from '../../core/observability/logging.js';
import { PromMetrics } from '../../core/observability/metrics.js';
import { FakeProvider, FakeProviderTransport } from '../../transports/fake/fake-provider.js';
import { CONTROLLER_RULES } from '../cluster/install.js';
import { kubeAccessFromKubeConfig } from '../cluster/kube-access.js';
import { adminConfig, apiErrorCode, apiErrorMessage, clusterInfo, eventually, serviceAccountConfig, useNamespace } from '../cluster/testenv.js';
import { CHART_DIR, helm, helmBinary, valuesFile } from './helm.js';

const ns = useNamespace(import.meta.url);
const admin = adminConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const custom = admin.makeApiClient(k8s.CustomObjectsApi);
const reg = admin.makeApiClient(k8s.AdmissionregistrationV1Api);

const OPT_IN = 'secrets-store.sync.x-k8s.io/allow-token-requests';
const MANAGED = 'secrets-store.sync.x-k8s.io';
const FIELD_MANAGER = 'secrets-store-sync-controller';
const SS = { group: 'secret-sync.x-k8s.io', version: 'v1alpha1', plural: 'secretsyncs' };

let release = '';
let prefix = '';
let saName = '';
let asController: k8s.KubeConfig;
let ctl: k8s.CoreV1Api;
const policy = (suffix: string) => `${prefix}-${suffix}`;
const kubeconfigArgs = () => ['--namespace', ns.name, '--kubeconfig', clusterInfo().kubeconfig];

interface ApiStatus { code?: number; message: string; causes: string[] }
function statusOf(err: unknown): ApiStatus {
  const body = (err as { body?: unknown }).body;
  let causes: string[] = [];
  try {
    const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as { details?: { causes?: { message: string }[] } };
    causes = (parsed?.details?.causes ?? []).map((c) => c.message);
  } catch { /* not JSON */ }
  return { code: apiErrorCode(err), message: apiErrorMessage(err), causes };
}

/**
 * Retries `attempt(n)` until the API server denies it naming `policyName` (or one of them): new policies take
 * effect within seconds. When several policies deny one request the API server reports one of them, and which
 * one varies (its policy list is built from a map), so tests are built so that only the policy under test can
 * deny, or pass every policy that may.
 */
async function deniedBy(policyName: string | string[], attempt: (n: number) => Promise<unknown>): Promise<ApiStatus> {
  const names = Array.isArray(policyName) ? policyName : [policyName];
  let n = 0;
  return eventually(async () => {
    const err = await attempt(n++).then(() => undefined, (e: unknown) => e);
    if (!err) throw new Error(`request was allowed; expected ${names.join(' or ')} to deny it`);
    const s = statusOf(err);
    if (!names.some((p) => s.message.includes(`ValidatingAdmissionPolicy '${p}'`))) throw new Error(`denied, but not by ${names.join(' or ')}: ${s.message}`);
    return s;
  }, 20_000, 250);
}

function ownedSecret(name: string, owner: { name: string; uid: string }, extra: { type?: string; labels?: Record<string, string>; annotations?: Record<string, string>; data?: Record<string, string> } = {}): object {
  return {
    apiVersion: 'v1', kind: 'Secret',
    metadata: {
      name, namespace: ns.name,
      labels: extra.labels ?? { [MANAGED]: '' },
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
      ownerReferences: [{ apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', name: owner.name, uid: owner.uid }],
    },
    type: extra.type ?? 'Opaque',
    stringData: extra.data ?? { bar: 'v1' },
  };
}

/** Server-side apply as the controller, with the controller's field manager. */
function applyAsController(body: object): Promise<k8s.V1Secret> {
  const name = (body as { metadata: { name: string } }).metadata.name;
  return ctl.patchNamespacedSecret({ name, namespace: ns.name, body, fieldManager: FIELD_MANAGER },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply));
}

async function createSecretSync(name: string, spec: { sa?: string; controllerName?: string } = {}): Promise<{ name: string; uid: string }> {
  const created = await custom.createNamespacedCustomObject({
    ...SS, namespace: ns.name,
    body: {
      apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', metadata: { name },
      spec: {
        secretSyncControllerName: spec.controllerName ?? 'no-controller-runs-with-this-name',
        secretProviderClassName: 'spc', serviceAccountName: spec.sa ?? 'default',
        secretObject: { data: [{ sourcePath: 'foo', targetKey: 'bar' }] },
      },
    },
  }) as { metadata: { uid: string } };
  return { name, uid: created.metadata.uid };
}

function tokenRequest(sa: string, audiences: string[], expirationSeconds: number) {
  return ctl.createNamespacedServiceAccountToken({ namespace: ns.name, name: sa, body: { spec: { audiences, expirationSeconds } } });
}

/** A Role in the test namespace that lets the controller delete Secrets: what a compromised or over-granted controller would have. */
async function grantDelete(): Promise<void> {
  await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: 'overgrant' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['delete'] }] } })
    .catch((e: unknown) => { if (apiErrorCode(e) !== 409) throw e; });
  await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: {
    metadata: { name: 'overgrant' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'overgrant' },
    subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns.name }],
  } }).catch((e: unknown) => { if (apiErrorCode(e) !== 409) throw e; });
}

beforeAll(async () => {
  await helmBinary();
}, 15 * 60_000);

beforeAll(async () => {
  const suffix = ns.name.slice(-6);
  release = `ssc-${suffix}`;
  prefix = `ssc-${suffix}`;
  saName = `${prefix}-manager`;
  const values = {
    fullnameOverride: prefix,
    tokenRequestAudience: [{ audience: ' aud-a ' }, { audience: 'aud-b' }],
    providerTokenAudiences: { vault: ['vault'] },
    validatingAdmissionPolicies: { requireServiceAccountOptIn: { enabled: true } },
    hashKey: { value: 'integration-test-hash-key' },
    pluginConfig: { example: { enabled: true } },
  };
  // No --wait: the control plane has no nodes, so the Deployment never becomes ready.
  const out = await helm(['install', release, CHART_DIR, ...kubeconfigArgs(), '--values', valuesFile(values)], 180_000);
  expect(out).toContain('STATUS: deployed');
  asController = await serviceAccountConfig(ns.name, saName);
  ctl = asController.makeApiClient(k8s.CoreV1Api);
  for (const [name, labels] of [['workload-opted', { [OPT_IN]: 'true' }], ['workload-plain', {}]] as const) {
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name, labels } } });
  }
  // Wait until the API server enforces the new policies (its informer picks them up within seconds).
  await deniedBy(policy('validate-token-policy'), () => tokenRequest('workload-opted', ['not-configured'], 600));
}, 240_000);

afterAll(async () => {
  if (!release) return;
  await helm(['uninstall', release, ...kubeconfigArgs()]).catch(() => undefined);
  // Cluster-scoped leftovers if the namespace (and the release record in it) went first.
  const sel = `app.kubernetes.io/instance=${release}`;
  for (const b of (await reg.listValidatingAdmissionPolicyBinding({ labelSelector: sel })).items) await reg.deleteValidatingAdmissionPolicyBinding({ name: b.metadata!.name! }).catch(() => undefined);
  for (const p of (await reg.listValidatingAdmissionPolicy({ labelSelector: sel })).items) await reg.deleteValidatingAdmissionPolicy({ name: p.metadata!.name! }).catch(() => undefined);
  for (const b of (await rbac.listClusterRoleBinding({ labelSelector: sel })).items) await rbac.deleteClusterRoleBinding({ name: b.metadata!.name! }).catch(() => undefined);
  for (const r of (await rbac.listClusterRole({ labelSelector: sel })).items) await rbac.deleteClusterRole({ name: r.metadata!.name! }).catch(() => undefined);
}, 120_000);

describe('helm install into the local control plane', () => {
  test('every object was accepted: CRDs, RBAC, Deployment, and six policies whose CEL compiled', async () => {
    const status = await helm(['status', release, ...kubeconfigArgs()]);
    expect(status).toContain('STATUS: deployed');
    const ext = admin.makeApiClient(k8s.ApiextensionsV1Api);
    for (const crd of ['secretsyncs.secret-sync.x-k8s.io', 'secretproviderclasses.secrets-store.csi.x-k8s.io']) {
      const got = await ext.readCustomResourceDefinition({ name: crd });
      expect(got.status?.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]));
    }
    const sel = `app.kubernetes.io/instance=${release}`;
    const policies = (await reg.listValidatingAdmissionPolicy({ labelSelector: sel })).items.map((p) => p.metadata!.name).sort();
    expect(policies).toEqual(['create-update-policy', 'delete-policy', 'token-opt-in-policy', 'update-check-oldobject-policy', 'update-label-policy', 'validate-token-policy'].map(policy));
    const bindings = (await reg.listValidatingAdmissionPolicyBinding({ labelSelector: sel })).items.map((b) => b.metadata!.name).sort();
    expect(bindings).toEqual(policies.map((p) => `${p}-binding`));
    const role = await rbac.readClusterRole({ name: `${prefix}-manager-role` });
    expect(role.rules).toEqual(CONTROLLER_RULES);
    const apps = admin.makeApiClient(k8s.AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ namespace: ns.name, name: `${prefix}-manager` });
    expect(deployment.spec?.template.spec?.serviceAccountName).toBe(saName);
    await core.readNamespacedSecret({ namespace: ns.name, name: `${prefix}-hash-key` });
    await core.readNamespacedConfigMap({ namespace: ns.name, name: `${prefix}-plugin-config` });
    await core.readNamespacedService({ namespace: ns.name, name: `${prefix}-metrics` });
  });
});

describe('confinement: acting as the chart\'s ServiceAccount', () => {
  test('creates and then patches its own Secret (server-side apply, one SecretSync owner, managed label)', async () => {
    const owner = await createSecretSync('own-secret');
    const created = await applyAsController(ownedSecret('own-secret', owner, { data: { bar: 'v1' } }));
    expect(created.metadata?.managedFields?.map((f) => f.manager)).toContain(FIELD_MANAGER);
    await applyAsController(ownedSecret('own-secret', owner, { data: { bar: 'v2', baz: 'new' } }));
    const got = await core.readNamespacedSecret({ namespace: ns.name, name: 'own-secret' });
    expect(Buffer.from(got.data!.bar, 'base64').toString()).toBe('v2');
    expect(Buffer.from(got.data!.baz, 'base64').toString()).toBe('new');
    expect(got.metadata?.labels).toEqual({ [MANAGED]: '' });
  });

  test('deleting a Secret is refused by RBAC, and by the delete policy even when RBAC allows it', async () => {
    const owner = await createSecretSync('to-delete');
    await applyAsController(ownedSecret('to-delete', owner));
    const rbacErr = statusOf(await ctl.deleteNamespacedSecret({ namespace: ns.name, name: 'to-delete' }).then(() => undefined, (e: unknown) => e));
    expect(rbacErr.code).toBe(403);
    expect(rbacErr.message).toContain('cannot delete resource "secrets"');
    await grantDelete();
    const s = await deniedBy(policy('delete-policy'), () => ctl.deleteNamespacedSecret({ namespace: ns.name, name: 'to-delete' }));
    expect(s.code).toBe(403);
    expect(s.message).toContain(`secrets-store-sync-controller has failed to DELETE secrets in the ${ns.name} namespace. The controller is not allowed to delete secrets.`);
    await core.readNamespacedSecret({ namespace: ns.name, name: 'to-delete' });
  });

  test('patching a Secret that no SecretSync owns is denied', async () => {
    await core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name: 'foreign', labels: { [MANAGED]: '' } }, stringData: { x: 'original' } } });
    // Taking the Secret over by adding an owner: the OwnerReferencesPermissionEnforcement plugin stops it first...
    const gc = statusOf(await applyAsController(ownedSecret('foreign', { name: 'foreign', uid: '00000000-0000-4000-8000-000000000001' })).then(() => undefined, (e: unknown) => e));
    expect(gc.message).toMatch(/cannot set an ownerRef on a resource you can't delete|update-check-oldobject-policy/);
    // ...and with delete rights (a compromised controller) the old-object policy does.
    await grantDelete();
    const take = await deniedBy(policy('update-check-oldobject-policy'),
      () => applyAsController(ownedSecret('foreign', { name: 'foreign', uid: '00000000-0000-4000-8000-000000000001' })));
    expect(take.message).toContain('The controller can only update secrets with a single secrets-store-sync-controller owner.');
    // Changing only the data: the new object has no SecretSync owner (create/update policy), the old one neither.
    const data = await deniedBy([policy('create-update-policy'), policy('update-check-oldobject-policy')], () => applyAsController({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'foreign', namespace: ns.name }, stringData: { x: 'stolen' } }));
    expect(data.code).toBe(403);
    const got = await core.readNamespacedSecret({ namespace: ns.name, name: 'foreign' });
    expect(Buffer.from(got.data!.x, 'base64').toString()).toBe('original');
    expect(got.metadata?.ownerReferences).toBeUndefined();
  });

  test('updating an owned Secret that lacks the managed label is denied by the label policy', async () => {
    const owner = await createSecretSync('unlabelled');
    await core.createNamespacedSecret({ namespace: ns.name, body: {
      metadata: { name: 'unlabelled', ownerReferences: [{ apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', name: owner.name, uid: owner.uid }] },
      stringData: { bar: 'made-by-someone-else' },
    } });
    const s = await deniedBy(policy('update-label-policy'), () => applyAsController(ownedSecret('unlabelled', owner)));
    expect(s.message).toContain('because it does not have the correct label. Delete the secret and force the controller to recreate it with the correct label.');
  });

  test('creating a kubernetes.io/service-account-token Secret is denied', async () => {
    const s = await deniedBy(policy('create-update-policy'), async (n) => {
      const owner = await createSecretSync(`sa-token-${n}`);
      return applyAsController(ownedSecret(owner.name, owner, {
        type: 'kubernetes.io/service-account-token', annotations: { 'kubernetes.io/service-account.name': 'workload-opted' }, data: { extra: 'x' },
      }));
    });
    expect(s.message).toContain('secret with kubernetes.io/service-account-token type');
    expect(s.message).toContain('The controller is not allowed to create or update secrets with this type.');
  });

  test('creating a Secret of a type outside the allowed list, or without an owner, is denied', async () => {
    const owner = await createSecretSync('odd-type');
    const s = await deniedBy(policy('create-update-policy'), () => applyAsController(ownedSecret('odd-type', owner, { type: 'example.com/not-allowed' })));
    expect(s.message).toContain('can only create or update secrets in the allowed types list with a single secretsync owner');
    await deniedBy(policy('create-update-policy'), (n) => applyAsController({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `ownerless-${n}`, namespace: ns.name, labels: { [MANAGED]: '' } }, stringData: { a: 'b' } }));
  });

  test('TokenRequests: only one configured audience, 600 s, for a ServiceAccount that opted in', async () => {
    for (const audience of ['aud-a', 'aud-b', 'vault']) {
      const tr = await tokenRequest('workload-opted', [audience], 600);
      expect(tr.status?.token).toBeTruthy();
    }
    const other = await deniedBy(policy('validate-token-policy'), () => tokenRequest('workload-opted', ['https://kubernetes.default.svc'], 600));
    expect(other.message).toContain('Check the configuration: the audience is not one of the configured token audiences.');
    const lifetime = await deniedBy(policy('validate-token-policy'), () => tokenRequest('workload-opted', ['aud-a'], 3600));
    expect(lifetime.message).toContain('the token lifetime (expirationSeconds) must be 600.');
    const two = await deniedBy(policy('validate-token-policy'), () => tokenRequest('workload-opted', ['aud-a', 'aud-b'], 600));
    expect(two.message).toContain('a token request must name exactly one audience.');
    // No audience means the API server's own audience: a token for the Kubernetes API. Denied.
    await deniedBy(policy('validate-token-policy'), () => tokenRequest('workload-opted', [], 600));
    const optIn = await deniedBy(policy('token-opt-in-policy'), () => tokenRequest('workload-plain', ['aud-a'], 600));
    expect(optIn.message).toContain(`The ServiceAccount has not opted in: it needs the label ${OPT_IN}=true.`);
    // The controller's own ServiceAccount has not opted in either: no tokens for the Kubernetes API as itself.
    await deniedBy(policy('token-opt-in-policy'), () => tokenRequest(saName, ['aud-a'], 600));
  });

  test('opting in is a label on the ServiceAccount, and takes effect without touching the policies', async () => {
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'workload-later' } } });
    // Retried: until the API server's ServiceAccount cache has the new ServiceAccount, no param names it and the
    // request passes (a window of milliseconds; see docs/chart.md, "What is weak").
    await deniedBy(policy('token-opt-in-policy'), () => tokenRequest('workload-later', ['aud-a'], 600));
    await core.patchNamespacedServiceAccount({ namespace: ns.name, name: 'workload-later', body: { metadata: { labels: { [OPT_IN]: 'true' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    const tr = await eventually(() => tokenRequest('workload-later', ['aud-a'], 600), 20_000, 250);
    expect(tr.status?.token).toBeTruthy();
  });

  test('other users are not confined by the controller\'s policies', async () => {
    await core.createNamespacedSecret({ namespace: ns.name, body: { metadata: { name: 'admin-owned' }, stringData: { a: 'b' } } });
    await core.deleteNamespacedSecret({ namespace: ns.name, name: 'admin-owned' });
    const tr = await core.createNamespacedServiceAccountToken({ namespace: ns.name, name: 'workload-plain', body: { spec: { audiences: ['anything'], expirationSeconds: 3600 } } });
    expect(tr.status?.token).toBeTruthy();
  });
});

describe('the real controller, run as the chart\'s ServiceAccount', () => {
  test('syncs a Secret through every policy, and cannot get tokens for a ServiceAccount that did not opt in', async () => {
    const controllerName = `chart-${ns.name.slice(-6)}`;
    await custom.createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io', version: 'v1', plural: 'secretproviderclasses', namespace: ns.name,
      body: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'spc' }, spec: { provider: 'fake', parameters: { objects: '- foo\n' } } },
    });
    await createSecretSync('synced', { sa: 'workload-opted', controllerName });
    await createSecretSync('not-opted', { sa: 'workload-plain', controllerName });
    const providerVolume = mkdtempSync(join(tmpdir(), 'ssc-chart-pv-'));
    const config = buildConfig([
      `--controller-name=${controllerName}`, `--provider-volume=${providerVolume}`, '--token-request-audience= aud-a ,aud-b',
      '--rotation-poll-interval=0', '--metrics-bind-address=0', '--health-probe-bind-address=0',
    ], { SYNC_CONTROLLER_POD_NAME: 'chart-test-pod', SYNC_CONTROLLER_POD_UID: 'chart-test-uid', SYNC_CONTROLLER_POD_NAMESPACE: ns.name });
    const fake = new FakeProvider({ providerName: 'fake', tokenAudiences: ['aud-a', 'aud-b'] });
    const c = buildContainer({
      config, kubeAccess: kubeAccessFromKubeConfig(asController), logger: createLogger('error'), metrics: new PromMetrics(false),
      providers: [new FakeProviderTransport(fake)],
    });
    const controller = createController(c);
    const abort = new AbortController();
    const done = runController(c, abort.signal, controller);
    try {
      const secret = await eventually(() => core.readNamespacedSecret({ namespace: ns.name, name: 'synced' }), 60_000, 250);
      expect(secret.metadata?.labels).toMatchObject({ [MANAGED]: '' });
      expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'SecretSync', name: 'synced' })]);
      expect(Buffer.from(secret.data!.bar, 'base64').toString().length).toBeGreaterThan(0);
      const status = await eventually(async () => {
        const ss = await custom.getNamespacedCustomObject({ ...SS, namespace: ns.name, name: 'not-opted' }) as { status?: { conditions?: { status: string; message: string }[] } };
        const failed = ss.status?.conditions?.find((cond) => cond.status === 'False');
        if (!failed) throw new Error('no failed condition yet');
        return failed;
      }, 60_000, 250);
      expect(status.message).toContain(policy('token-opt-in-policy'));
      const missing = await core.readNamespacedSecret({ namespace: ns.name, name: 'not-opted' }).then(() => undefined, (e: unknown) => e);
      expect(apiErrorCode(missing)).toBe(404);
    } finally {
      abort.abort();
      await done;
      rmSync(providerVolume, { recursive: true, force: true });
    }
  }, 120_000);
});

/** Installs what the controller needs into a cluster: the CRDs and its ServiceAccount with upstream's RBAC. */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubeHttp } from '../../core/kube/http.js';
import { kubeAccessFromKubeConfig } from './kube-access.js';

const here = dirname(fileURLToPath(import.meta.url));

export function chartDir(): string {
  for (const c of [resolve(here, '../../charts/secrets-store-sync-controller'), resolve(here, '../../../charts/secrets-store-sync-controller')]) {
    if (existsSync(join(c, 'crds'))) return c;
  }
  throw new Error('charts/secrets-store-sync-controller not found');
}

export function loadCrds(): k8s.V1CustomResourceDefinition[] {
  const dir = join(chartDir(), 'crds');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()
    .map((f) => parse(readFileSync(join(dir, f), 'utf8')) as k8s.V1CustomResourceDefinition);
}

/** Creates (or server-side applies) the CRDs and waits until each is Established. */
export async function installCrds(kc: k8s.KubeConfig): Promise<void> {
  // Raw JSON, not client-node's typed serializer: it drops keys such as x-kubernetes-validations.
  const http = new KubeHttp(kubeAccessFromKubeConfig(kc));
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const crd of loadCrds()) {
    await http.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata!.name}`, {
      body: crd, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'secrets-sync-installer', force: 'true' },
    });
    const end = Date.now() + 30_000;
    for (;;) {
      const got = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > end) throw new Error(`CRD ${crd.metadata!.name} not Established after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const CONTROLLER_NAMESPACE = 'secrets-store-sync-controller-system';
export const CONTROLLER_SA = 'secrets-store-sync-controller-manager';
export const CONTROLLER_ROLE = 'secrets-store-sync-controller-manager-role';

/** Upstream's ClusterRole rules (§6.2), exactly: on secrets only create and patch. */
export const CONTROLLER_RULES: k8s.V1PolicyRule[] = [
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'patch'] },
  { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
  { apiGroups: ['secrets-store.csi.x-k8s.io'], resources: ['secretproviderclasses'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['secret-sync.x-k8s.io'], resources: ['secretsyncs'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['secret-sync.x-k8s.io'], resources: ['secretsyncs/status'], verbs: ['get', 'patch', 'update'] },
];

async function ignoreConflict(p: Promise<unknown>): Promise<void> {
  await p.catch((e: unknown) => { if ((e as { code?: number }).code !== 409) throw e; });
}

/** The controller's namespace, ServiceAccount, ClusterRole and ClusterRoleBinding (names as upstream's chart). */
export async function installControllerIdentity(kc: k8s.KubeConfig, namespace = CONTROLLER_NAMESPACE, sa = CONTROLLER_SA): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await ignoreConflict(core.createNamespace({ body: { metadata: { name: namespace } } }));
  await ignoreConflict(core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: sa } } }));
  await ignoreConflict(rbac.createClusterRole({ body: { metadata: { name: CONTROLLER_ROLE }, rules: CONTROLLER_RULES } }));
  // Upstream's leader-election Role, in the controller's namespace.
  await ignoreConflict(rbac.createNamespacedRole({ namespace, body: {
    metadata: { name: 'secrets-store-sync-controller-leader-election-role' },
    rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ],
  } }));
  await ignoreConflict(rbac.createNamespacedRoleBinding({ namespace, body: {
    metadata: { name: 'secrets-store-sync-controller-leader-election-rolebinding' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secrets-store-sync-controller-leader-election-role' },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
  } }));
  await ignoreConflict(rbac.createClusterRoleBinding({ body: {
    metadata: { name: `${CONTROLLER_SA}-rolebinding` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: CONTROLLER_ROLE },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace }],
  } }));
}

/** A kubeconfig that authenticates as a ServiceAccount with a real TokenRequest token. */
export async function serviceAccountKubeConfig(admin: k8s.KubeConfig, namespace: string, sa: string, expirationSeconds = 3600): Promise<k8s.KubeConfig> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({ namespace, name: sa, body: { spec: { audiences: [], expirationSeconds } } });
  const cluster = admin.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData, caFile: cluster.caFile }],
    users: [{ name: `system:serviceaccount:${namespace}:${sa}`, token: tr.status!.token }],
    contexts: [{ name: 'sa', cluster: 'c', user: `system:serviceaccount:${namespace}:${sa}` }],
    currentContext: 'sa',
  });
  return kc;
}

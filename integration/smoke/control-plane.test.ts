/**
 * Smoke tests of the real Kubernetes parts the controller depends on, against the local control plane:
 * CRD CEL validation, ValidatingAdmissionPolicy match conditions, TokenRequest, garbage collection, RBAC.
 */
import * as k8s from '@kubernetes/client-node';
import {
  adminConfig, apiErrorCode, apiErrorMessage, eventually, serviceAccountConfig, serviceAccountToken, useNamespace, userConfig, clusterInfo,
} from '../cluster/testenv.js';

const ns = useNamespace(import.meta.url);
const admin = adminConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);

describe('local control plane', () => {
  test('reports a version-stamped kube-apiserver', async () => {
    const v = await admin.makeApiClient(k8s.VersionApi).getCode();
    expect(v.major).toBe('1');
    if (clusterInfo().flavour === 'local') expect(v.gitVersion).toMatch(/^v1\.37\.\d+$/);
  });

  test('a CRD with a CEL rule rejects a bad object and accepts a good one', async () => {
    const ext = admin.makeApiClient(k8s.ApiextensionsV1Api);
    const group = 'smoke.secrets-sync.test';
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group, scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [{
            name: 'v1', served: true, storage: true,
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: {
              type: 'object',
              properties: { min: { type: 'integer' }, max: { type: 'integer' } },
              x_kubernetes_validations: [{ rule: 'self.min <= self.max', message: 'min must not exceed max' }],
            } } } },
          }],
        },
      },
    }).catch((e: unknown) => { if (apiErrorCode(e) !== 409) throw e; });
    const objects = admin.makeApiClient(k8s.CustomObjectsApi);
    const create = (min: number, max: number, name: string) => objects.createNamespacedCustomObject({
      group, version: 'v1', namespace: ns.name, plural: 'widgets',
      body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { min, max } },
    });
    // The CRD becomes usable once Established; retry until the API serves it.
    await eventually(() => create(1, 2, 'good'), 20_000);
    const err = await create(3, 2, 'bad').then(() => undefined, (e: unknown) => e);
    expect(apiErrorCode(err)).toBe(422);
    expect(apiErrorMessage(err)).toContain('min must not exceed max');
  });

  test('a ValidatingAdmissionPolicy matching a ServiceAccount user denies it and not the admin', async () => {
    const sa = 'smoke-controller';
    const saUser = `system:serviceaccount:${ns.name}:${sa}`;
    const saConfig = await serviceAccountConfig(ns.name, sa);
    const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns.name, body: { metadata: { name: 'cm-writer' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'delete', 'get'] }] } });
    await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: {
      metadata: { name: 'cm-writer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-writer' },
      subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns.name }],
    } });
    const policy = `smoke-deny-${ns.name}`;
    const reg = admin.makeApiClient(k8s.AdmissionregistrationV1Api);
    await reg.createValidatingAdmissionPolicy({ body: {
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }] },
        matchConditions: [{ name: 'user-is-smoke-controller', expression: `request.userInfo.username == '${saUser}'` }],
        validations: [{ expression: "object.metadata.name.startsWith('allowed-')", message: 'smoke controller may only create allowed-* configmaps' }],
      },
    } });
    await reg.createValidatingAdmissionPolicyBinding({ body: {
      metadata: { name: `${policy}-binding` },
      spec: { policyName: policy, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns.name } } } },
    } });
    try {
      const asSa = saConfig.makeApiClient(k8s.CoreV1Api);
      let n = 0;
      // A new policy takes effect once the API server's informer has it: retry until the denial shows.
      const denied = await eventually(async () => {
        const name = `denied-${n++}`;
        const err = await asSa.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name } } }).then(() => undefined, (e: unknown) => e);
        if (!err) throw new Error('not denied yet');
        return err;
      }, 20_000);
      expect(apiErrorCode(denied)).toBe(422); // a validation without `reason` is Invalid (422)
      expect(apiErrorMessage(denied)).toContain(`ValidatingAdmissionPolicy '${policy}'`);
      expect(apiErrorMessage(denied)).toContain('smoke controller may only create allowed-* configmaps');
      await asSa.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'allowed-1' } } });
      await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'admin-made' } } });
    } finally {
      await reg.deleteValidatingAdmissionPolicyBinding({ name: `${policy}-binding` });
      await reg.deleteValidatingAdmissionPolicy({ name: policy });
    }
  });

  test('a TokenRequest token authenticates as its ServiceAccount', async () => {
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'reviewer' } } });
    const token = await serviceAccountToken(ns.name, 'reviewer', ['smoke-audience'], 600);
    const info = clusterInfo();
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: info.server, caFile: info.caFile }],
      users: [{ name: 'u', token }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    // A token for another audience is rejected by the API server (its audience is the issuer).
    await expect(kc.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} })).rejects.toMatchObject({ code: 401 });
    const apiToken = await serviceAccountToken(ns.name, 'reviewer', undefined, 600);
    const kc2 = new k8s.KubeConfig();
    kc2.loadFromOptions({
      clusters: [{ name: 'c', server: info.server, caFile: info.caFile }],
      users: [{ name: 'u', token: apiToken }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    const review = await kc2.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${ns.name}:reviewer`);
    expect(review.status?.userInfo?.groups).toEqual(expect.arrayContaining(['system:serviceaccounts', `system:serviceaccounts:${ns.name}`]));
  });

  test('deleting an owner garbage-collects its dependent', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: {
      name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }],
    } } });
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'owner' });
    await eventually(async () => {
      const err = await core.readNamespacedConfigMap({ namespace: ns.name, name: 'dependent' }).then(() => undefined, (e: unknown) => e);
      return apiErrorCode(err) === 404;
    }, 60_000);
  });

  test('RBAC denies an identity with no binding, and the SelfSubjectReview names it', async () => {
    const nobody = userConfig('nobody', ['smoke-group']);
    const review = await nobody.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('nobody');
    expect(review.status?.userInfo?.groups).toContain('smoke-group');
    const err = await nobody.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: ns.name }).then(() => undefined, (e: unknown) => e);
    expect(apiErrorCode(err)).toBe(403);
    expect(apiErrorMessage(err)).toContain('User "nobody" cannot list resource "secrets"');
  });
});

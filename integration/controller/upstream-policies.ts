/**
 * Upstream-equivalent ValidatingAdmissionPolicies (§6.3) applied by the e2e-style tests. The chart's policies
 * come from core/policy's emitter once it ships; these mirror upstream's create/update policy for the tests
 * that need an admission denial.
 */
import * as k8s from '@kubernetes/client-node';
import { CONTROLLER_NAMESPACE, CONTROLLER_SA } from '../cluster/install.js';

export const CREATE_UPDATE_POLICY = 'secrets-store-sync-controller-create-update-policy';
export const ALLOWED_TYPES = ['Opaque', 'kubernetes.io/basic-auth', 'bootstrap.kubernetes.io/token', 'kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg', 'kubernetes.io/ssh-auth', 'kubernetes.io/tls'];

export function createUpdatePolicy(): { policy: k8s.V1ValidatingAdmissionPolicy; binding: k8s.V1ValidatingAdmissionPolicyBinding } {
  const user = `system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SA}`;
  const prefix = "'secrets-store-sync-controller has failed to ' + request.operation + ' secret with ' + string(object.type) + ' type in the ' + request.namespace + ' namespace. '";
  return {
    policy: {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy',
      metadata: { name: CREATE_UPDATE_POLICY },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] }] },
        matchConditions: [{ name: 'user-is-secrets-store-sync-controller', expression: `request.userInfo.username == '${user}'` }],
        variables: [
          { name: 'hasOneSecretSyncOwner', expression: "has(object.metadata.ownerReferences) && size(object.metadata.ownerReferences) == 1 && object.metadata.ownerReferences.all(o, o.kind == 'SecretSync' && o.apiVersion.startsWith('secret-sync.x-k8s.io/') && o.name == object.metadata.name)" },
          { name: 'isNotServiceAccountSecretType', expression: "object.type != 'kubernetes.io/service-account-token'" },
          { name: 'allowedSecretTypes', expression: `object.type in [${ALLOWED_TYPES.map((t) => `'${t}'`).join(', ')}]` },
        ],
        validations: [
          { expression: 'variables.isNotServiceAccountSecretType', reason: 'Forbidden', messageExpression: `${prefix} + 'The controller is not allowed to create or update secrets with this type.'` },
          { expression: 'variables.allowedSecretTypes && variables.hasOneSecretSyncOwner', reason: 'Forbidden', messageExpression: `${prefix} + 'The controller can only create or update secrets in the allowed types list with a single secretsync owner.'` },
        ],
      },
    },
    binding: {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name: `${CREATE_UPDATE_POLICY}-binding` },
      spec: { policyName: CREATE_UPDATE_POLICY, validationActions: ['Deny'] },
    },
  };
}

export async function applyPolicies(kc: k8s.KubeConfig): Promise<() => Promise<void>> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const { policy, binding } = createUpdatePolicy();
  for (const o of [policy, binding]) {
    await objects.patch(o as k8s.KubernetesObject, undefined, undefined, 'secrets-sync-tests', true, k8s.PatchStrategy.ServerSideApply);
  }
  return async () => {
    const reg = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    await reg.deleteValidatingAdmissionPolicyBinding({ name: binding.metadata!.name! }).catch(() => undefined);
    await reg.deleteValidatingAdmissionPolicy({ name: policy.metadata!.name! }).catch(() => undefined);
  };
}

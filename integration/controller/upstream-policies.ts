/**
 * The chart's Secret policies (create/update, update old object, update label, delete), emitted by core/policy
 * for the controller identity the tests run as. The token policies are left out: other test files request
 * tokens for their own audiences while these are installed.
 */
import * as k8s from '@kubernetes/client-node';
import { DEFAULT_ALLOWED_SECRET_TYPES, emitPolicies, type PolicyKey } from '../../core/policy/index.js';
import { CONTROLLER_NAMESPACE, CONTROLLER_SA } from '../cluster/install.js';

const SECRET_POLICIES: PolicyKey[] = ['createUpdate', 'updateOldObject', 'updateLabel', 'delete'];

export async function applyPolicies(kc: k8s.KubeConfig): Promise<() => Promise<void>> {
  const emitted = emitPolicies({
    controllerNamespace: CONTROLLER_NAMESPACE, serviceAccountName: CONTROLLER_SA,
    allowedSecretTypes: DEFAULT_ALLOWED_SECRET_TYPES, tokenAudiences: [],
  }).filter((p) => SECRET_POLICIES.includes(p.key));
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const { policy, binding } of emitted) {
    for (const o of [policy, binding]) {
      await objects.patch({ apiVersion: 'admissionregistration.k8s.io/v1', ...o } as k8s.KubernetesObject, undefined, undefined, 'secrets-sync-tests', true, k8s.PatchStrategy.ServerSideApply);
    }
  }
  return async () => {
    const reg = kc.makeApiClient(k8s.AdmissionregistrationV1Api);
    for (const { policy, binding } of emitted) {
      await reg.deleteValidatingAdmissionPolicyBinding({ name: binding.metadata!.name! }).catch(() => undefined);
      await reg.deleteValidatingAdmissionPolicy({ name: policy.metadata!.name! }).catch(() => undefined);
    }
  };
}

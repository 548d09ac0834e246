/**
 * PolicyEmitter: a pure function from a PolicyConfig to the controller's self-restraint
 * ValidatingAdmissionPolicies and their bindings (admissionregistration.k8s.io/v1).
 *
 * Upstream's five policies (spec §6.3), with their names, intent and messages, minus upstream's defects:
 * - the match condition names the controller's actual ServiceAccount (one config value feeds both the
 *   chart's ServiceAccount and the policies), so renaming the controller cannot silently disable them;
 * - audiences are trimmed and rendered as one CEL list literal (no `", "` join);
 * - the delete rule is stated on purpose: every DELETE of a Secret by the controller is denied;
 * - the create/update policy also requires the managed label on the new object.
 * Plus an optional sixth policy: the controller may request tokens only for ServiceAccounts that opted in
 * with a label or annotation. A TokenRequest's `object` is the TokenRequest, not the ServiceAccount, so the
 * ServiceAccounts are made visible as params: `paramKind: v1/ServiceAccount`, bound with an empty selector
 * and no namespace (the request's namespace is used). The policy is evaluated once per ServiceAccount in
 * that namespace and each evaluation checks "this is not the requested ServiceAccount, or it has opted in".
 *
 * Every policy is `failurePolicy: Fail` and applies only to the controller's own requests.
 */
import type {
  V1MatchCondition, V1NamedRuleWithOperations, V1ParamRef, V1Validation, V1ValidatingAdmissionPolicy,
  V1ValidatingAdmissionPolicyBinding, V1Variable,
} from '@kubernetes/client-node';
import { celList, celString } from './cel.js';
import { resolvePolicyConfig, SERVICE_ACCOUNT_TOKEN_TYPE, type PolicyConfig, type ResolvedPolicyConfig } from './config.js';

export const MATCH_CONDITION_NAME = 'user-is-secrets-store-sync-controller';
export const MANAGED_LABEL = 'secrets-store.sync.x-k8s.io';
export const SECRET_SYNC_GROUP = 'secret-sync.x-k8s.io';

/** Policy names without the prefix, in emission order. */
export const POLICY_SUFFIXES = {
  createUpdate: 'create-update-policy',
  updateOldObject: 'update-check-oldobject-policy',
  updateLabel: 'update-label-policy',
  delete: 'delete-policy',
  validateToken: 'validate-token-policy',
  tokenOptIn: 'token-opt-in-policy',
} as const;
export type PolicyKey = keyof typeof POLICY_SUFFIXES;

export interface EmittedPolicy {
  key: PolicyKey;
  policy: V1ValidatingAdmissionPolicy;
  binding: V1ValidatingAdmissionPolicyBinding;
}

const API_VERSION = 'admissionregistration.k8s.io/v1';
const WHO = 'secrets-store-sync-controller';

function str(s: string): string {
  return celString(s);
}

/** `has(o.metadata.ownerReferences)` and exactly one owner: a SecretSync named like the Secret. */
function oneSecretSyncOwner(o: 'object' | 'oldObject'): string {
  return `has(${o}.metadata.ownerReferences) && size(${o}.metadata.ownerReferences) == 1 && `
    + `${o}.metadata.ownerReferences.all(ref, ref.kind == ${str('SecretSync')} && ref.apiVersion.startsWith(${str(`${SECRET_SYNC_GROUP}/`)}) `
    + `&& ref.name == ${o}.metadata.name)`;
}

function managedLabel(o: 'object' | 'oldObject'): string {
  const key = str(MANAGED_LABEL);
  return `has(${o}.metadata.labels) && ${key} in ${o}.metadata.labels && ${o}.metadata.labels[${key}] == ${str('')}`;
}

function rule(operations: string[], resource: string): V1NamedRuleWithOperations {
  return { apiGroups: [''], apiVersions: ['v1'], operations, resources: [resource] };
}

function validation(expression: string, messageExpression: string, message: string): V1Validation {
  return { expression, message, messageExpression, reason: 'Forbidden' };
}

function policyObject(c: ResolvedPolicyConfig, key: PolicyKey, spec: V1ValidatingAdmissionPolicy['spec']): V1ValidatingAdmissionPolicy {
  const name = `${c.namePrefix}-${POLICY_SUFFIXES[key]}`;
  return {
    apiVersion: API_VERSION,
    kind: 'ValidatingAdmissionPolicy',
    metadata: Object.keys(c.labels).length ? { name, labels: { ...c.labels } } : { name },
    spec,
  };
}

function bindingFor(c: ResolvedPolicyConfig, policy: V1ValidatingAdmissionPolicy, paramRef?: V1ParamRef): V1ValidatingAdmissionPolicyBinding {
  const name = `${policy.metadata!.name!}-binding`;
  return {
    apiVersion: API_VERSION,
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: Object.keys(c.labels).length ? { name, labels: { ...c.labels } } : { name },
    spec: {
      policyName: policy.metadata!.name!,
      ...(paramRef ? { paramRef } : {}),
      validationActions: ['Deny'],
    },
  };
}

function matchConditions(c: ResolvedPolicyConfig): V1MatchCondition[] {
  const user = `system:serviceaccount:${c.controllerNamespace}:${c.serviceAccountName}`;
  return [{ name: MATCH_CONDITION_NAME, expression: `request.userInfo.username == ${str(user)}` }];
}

function createUpdatePolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  const says = (detail: string) => `${str(`${WHO} has failed to `)} + request.operation + ${str(' secret with ')} + variables.secretType + ${str(' type in the ')} + request.namespace + ${str(` namespace. ${detail}`)}`;
  const variables: V1Variable[] = [
    { name: 'secretType', expression: `has(object.type) ? object.type : ${str('Opaque')}` },
    { name: 'hasOneSecretSyncOwner', expression: oneSecretSyncOwner('object') },
    { name: 'isNotServiceAccountSecretType', expression: `variables.secretType != ${str(SERVICE_ACCOUNT_TOKEN_TYPE)}` },
    { name: 'allowedSecretTypes', expression: `variables.secretType in ${celList(c.allowedSecretTypes)}` },
    { name: 'hasManagedLabel', expression: managedLabel('object') },
  ];
  return policyObject(c, 'createUpdate', {
    failurePolicy: 'Fail',
    matchConstraints: { resourceRules: [rule(['CREATE', 'UPDATE'], 'secrets')] },
    matchConditions: matchConditions(c),
    variables,
    validations: [
      validation('variables.isNotServiceAccountSecretType',
        says('The controller is not allowed to create or update secrets with this type.'),
        `${WHO} is not allowed to create or update secrets of type ${SERVICE_ACCOUNT_TOKEN_TYPE}.`),
      validation('variables.allowedSecretTypes && variables.hasOneSecretSyncOwner',
        says('The controller can only create or update secrets in the allowed types list with a single secretsync owner.'),
        `${WHO} can only create or update secrets in the allowed types list with a single secretsync owner.`),
      validation('variables.hasManagedLabel',
        says(`The controller can only create or update secrets that carry the label ${MANAGED_LABEL} with an empty value.`),
        `${WHO} can only create or update secrets that carry the label ${MANAGED_LABEL} with an empty value.`),
    ],
  });
}

function updateOldObjectPolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  return policyObject(c, 'updateOldObject', {
    failurePolicy: 'Fail',
    matchConstraints: { resourceRules: [rule(['UPDATE'], 'secrets')] },
    matchConditions: matchConditions(c),
    variables: [{ name: 'hasOneSecretSyncOwner', expression: oneSecretSyncOwner('oldObject') }],
    validations: [validation('variables.hasOneSecretSyncOwner',
      `${str(`${WHO} has failed to UPDATE old secret in the `)} + request.namespace + ${str(` namespace. The controller can only update secrets with a single ${WHO} owner.`)}`,
      `${WHO} can only update secrets with a single ${WHO} owner.`)],
  });
}

function updateLabelPolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  return policyObject(c, 'updateLabel', {
    failurePolicy: 'Fail',
    matchConstraints: { resourceRules: [rule(['UPDATE'], 'secrets')] },
    matchConditions: matchConditions(c),
    variables: [
      { name: 'oldSecretType', expression: `has(oldObject.type) ? oldObject.type : ${str('Opaque')}` },
      { name: 'hasManagedLabel', expression: managedLabel('oldObject') },
    ],
    validations: [validation('variables.hasManagedLabel',
      `${str(`${WHO} has failed to UPDATE secret with `)} + variables.oldSecretType + ${str(' type in the ')} + request.namespace + `
        + `${str(' namespace because it does not have the correct label. Delete the secret and force the controller to recreate it with the correct label.')}`,
      `${WHO} can only update secrets that carry the label ${MANAGED_LABEL} with an empty value.`)],
  });
}

function deletePolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  // On purpose: the policy matches only DELETE, and its one rule says DELETE is never allowed. Upstream
  // compared with lowercase 'delete' and denied every delete by accident; here it is the stated rule.
  return policyObject(c, 'delete', {
    failurePolicy: 'Fail',
    matchConstraints: { resourceRules: [rule(['DELETE'], 'secrets')] },
    matchConditions: matchConditions(c),
    validations: [validation(`request.operation != ${str('DELETE')}`,
      `${str(`${WHO} has failed to DELETE secrets in the `)} + request.namespace + ${str(' namespace. The controller is not allowed to delete secrets.')}`,
      `${WHO} is not allowed to delete secrets.`)],
  });
}

/** Upstream's token message: "... has failed to CREATE <sa> token in the <ns> namespace. <detail>". */
function tokenMessage(detail: string): string {
  return `${str(`${WHO} has failed to CREATE `)} + request.name + ${str(' token in the ')} + request.namespace + ${str(` namespace. ${detail}`)}`;
}

function validateTokenPolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  const exp = String(c.tokenExpirationSeconds);
  return policyObject(c, 'validateToken', {
    failurePolicy: 'Fail',
    matchConstraints: { resourceRules: [rule(['CREATE'], 'serviceaccounts/token')] },
    matchConditions: matchConditions(c),
    variables: [
      { name: 'audiences', expression: 'has(object.spec.audiences) ? object.spec.audiences : []' },
      { name: 'allowedAudiences', expression: celList(c.tokenAudiences) },
    ],
    validations: [
      validation(`has(object.spec.expirationSeconds) && object.spec.expirationSeconds == ${exp}`,
        tokenMessage(`Check the configuration: the token lifetime (expirationSeconds) must be ${exp}.`),
        `${WHO} may only request tokens with expirationSeconds ${exp}.`),
      validation('size(variables.audiences) == 1',
        tokenMessage('Check the configuration: a token request must name exactly one audience.'),
        `${WHO} may only request tokens for exactly one audience.`),
      validation('variables.audiences.all(a, a in variables.allowedAudiences)',
        tokenMessage('Check the configuration: the audience is not one of the configured token audiences.'),
        `${WHO} may only request tokens for the configured audiences.`),
    ],
  });
}

function tokenOptInPolicy(c: ResolvedPolicyConfig): V1ValidatingAdmissionPolicy {
  const o = c.optIn!;
  const key = str(o.key);
  const value = str(o.value);
  const what = o.field === 'labels' ? 'label' : 'annotation';
  return policyObject(c, 'tokenOptIn', {
    failurePolicy: 'Fail',
    paramKind: { apiVersion: 'v1', kind: 'ServiceAccount' },
    matchConstraints: { resourceRules: [rule(['CREATE'], 'serviceaccounts/token')] },
    matchConditions: matchConditions(c),
    variables: [
      { name: 'isRequestedServiceAccount', expression: 'params.metadata.name == request.name' },
      { name: 'hasOptedIn', expression: `has(params.metadata.${o.field}) && ${key} in params.metadata.${o.field} && params.metadata.${o.field}[${key}] == ${value}` },
    ],
    validations: [validation('!variables.isRequestedServiceAccount || variables.hasOptedIn',
      `${tokenMessage(`The ServiceAccount has not opted in: it needs the ${what} `)} + ${key} + ${str('=')} + ${value} + ${str('.')}`,
      `${WHO} may only request tokens for ServiceAccounts that opted in with a ${what}.`)],
  });
}

/** The policies and bindings for `config`, in a stable order. Throws PolicyConfigError on bad input. */
export function emitPolicies(config: PolicyConfig): EmittedPolicy[] {
  const c = resolvePolicyConfig(config);
  const policies: [PolicyKey, V1ValidatingAdmissionPolicy][] = [
    ['createUpdate', createUpdatePolicy(c)],
    ['updateOldObject', updateOldObjectPolicy(c)],
    ['updateLabel', updateLabelPolicy(c)],
    ['delete', deletePolicy(c)],
    ['validateToken', validateTokenPolicy(c)],
  ];
  const out: EmittedPolicy[] = policies.map(([key, policy]) => ({ key, policy, binding: bindingFor(c, policy) }));
  if (c.optIn) {
    const policy = tokenOptInPolicy(c);
    // No namespace: the namespace of the request is used. An empty selector selects every ServiceAccount
    // there. With none in the API server's cache the request is allowed: the requested ServiceAccount cannot
    // be in the cache either (the same window as a brand-new ServiceAccount), and `Deny` would make the
    // policy fail closed for every user's TokenRequests in a namespace the cache has not seen yet, because
    // params are collected before the match conditions are evaluated.
    out.push({ key: 'tokenOptIn', policy, binding: bindingFor(c, policy, { selector: {}, parameterNotFoundAction: 'Allow' }) });
  }
  return out;
}

/** The emitted objects as one list: each policy followed by its binding. */
export function policyObjects(emitted: readonly EmittedPolicy[]): (V1ValidatingAdmissionPolicy | V1ValidatingAdmissionPolicyBinding)[] {
  return emitted.flatMap((e) => [e.policy, e.binding]);
}

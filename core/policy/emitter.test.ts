import {
  DEFAULT_ALLOWED_SECRET_TYPES, emitPolicies, MATCH_CONDITION_NAME, policyObjects, PolicyConfigError, type PolicyConfig,
} from './index.js';

const base: PolicyConfig = {
  controllerNamespace: 'secrets-store-sync-controller-system',
  serviceAccountName: 'secrets-store-sync-controller-manager',
  allowedSecretTypes: DEFAULT_ALLOWED_SECRET_TYPES,
  tokenAudiences: ['vault'],
};

const byKey = (config: PolicyConfig) => Object.fromEntries(emitPolicies(config).map((e) => [e.key, e]));
const exprs = (p: { spec?: { validations?: { expression: string }[] } }) => (p.spec?.validations ?? []).map((v) => v.expression);
const variable = (p: { spec?: { variables?: { name: string; expression: string }[] } }, name: string) =>
  p.spec?.variables?.find((v) => v.name === name)?.expression;

describe('emitPolicies', () => {
  test('emits upstream\'s five policies, in order, each with a Deny binding named <policy>-binding', () => {
    const emitted = emitPolicies(base);
    expect(emitted.map((e) => e.policy.metadata!.name)).toEqual([
      'secrets-store-sync-controller-create-update-policy',
      'secrets-store-sync-controller-update-check-oldobject-policy',
      'secrets-store-sync-controller-update-label-policy',
      'secrets-store-sync-controller-delete-policy',
      'secrets-store-sync-controller-validate-token-policy',
    ]);
    for (const { policy, binding } of emitted) {
      expect(policy.apiVersion).toBe('admissionregistration.k8s.io/v1');
      expect(policy.spec!.failurePolicy).toBe('Fail');
      expect(binding).toEqual({
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: `${policy.metadata!.name}-binding` },
        spec: { policyName: policy.metadata!.name, validationActions: ['Deny'] },
      });
      for (const v of policy.spec!.validations!) {
        expect(v.reason).toBe('Forbidden');
        expect(v.message).toMatch(/^secrets-store-sync-controller /);
        expect(v.messageExpression).toMatch(/^"secrets-store-sync-controller has failed to /);
      }
    }
    expect(policyObjects(emitted).map((o) => o.kind)).toEqual(Array(5).fill(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']).flat());
  });

  test('every policy applies only to the configured ServiceAccount, so renaming it keeps the policies on', () => {
    for (const sa of ['secrets-store-sync-controller-manager', 'renamed']) {
      for (const { policy } of emitPolicies({ ...base, serviceAccountName: sa, controllerNamespace: 'ns1' })) {
        expect(policy.spec!.matchConditions).toEqual([
          { name: MATCH_CONDITION_NAME, expression: `request.userInfo.username == "system:serviceaccount:ns1:${sa}"` },
        ]);
      }
    }
  });

  test('create/update: not the ServiceAccount-token type, an allowed type with one SecretSync owner, the managed label', () => {
    const p = byKey(base).createUpdate.policy;
    expect(p.spec!.matchConstraints!.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] }]);
    expect(exprs(p)).toEqual(['variables.isNotServiceAccountSecretType', 'variables.allowedSecretTypes && variables.hasOneSecretSyncOwner', 'variables.hasManagedLabel']);
    expect(variable(p, 'allowedSecretTypes')).toBe(`variables.secretType in ${JSON.stringify(DEFAULT_ALLOWED_SECRET_TYPES)}`);
    expect(variable(p, 'hasOneSecretSyncOwner')).toContain('size(object.metadata.ownerReferences) == 1');
    expect(variable(p, 'hasOneSecretSyncOwner')).toContain('ref.name == object.metadata.name');
    expect(variable(p, 'hasManagedLabel')).toBe('has(object.metadata.labels) && "secrets-store.sync.x-k8s.io" in object.metadata.labels && object.metadata.labels["secrets-store.sync.x-k8s.io"] == ""');
    expect(p.spec!.validations![0].messageExpression).toBe('"secrets-store-sync-controller has failed to " + request.operation + " secret with " + variables.secretType'
      + ' + " type in the " + request.namespace + " namespace. The controller is not allowed to create or update secrets with this type."');
  });

  test('updates: the old object must have one SecretSync owner and the managed label (no adoption)', () => {
    const e = byKey(base);
    expect(variable(e.updateOldObject.policy, 'hasOneSecretSyncOwner')).toContain('oldObject.metadata.ownerReferences');
    expect(e.updateOldObject.policy.spec!.matchConstraints!.resourceRules![0].operations).toEqual(['UPDATE']);
    expect(variable(e.updateLabel.policy, 'hasManagedLabel')).toContain('oldObject.metadata.labels["secrets-store.sync.x-k8s.io"] == ""');
    expect(e.updateLabel.policy.spec!.validations![0].messageExpression).toContain('Delete the secret and force the controller to recreate it with the correct label.');
  });

  test('delete: stated on purpose, every DELETE of a Secret by the controller is denied', () => {
    const p = byKey(base).delete.policy;
    expect(p.spec!.matchConstraints!.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['DELETE'], resources: ['secrets'] }]);
    expect(exprs(p)).toEqual(['request.operation != "DELETE"']);
    expect(p.spec!.validations![0].messageExpression).toContain('The controller is not allowed to delete secrets.');
  });

  test('tokens: exactly one audience from the list, trimmed and deduplicated, and the configured lifetime', () => {
    const p = byKey({ ...base, tokenAudiences: [' vault ', 'aws', '', 'vault', 'https://x/?a=1&b=<2>'], tokenExpirationSeconds: 900 }).validateToken.policy;
    expect(p.spec!.matchConstraints!.resourceRules).toEqual([{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['serviceaccounts/token'] }]);
    expect(variable(p, 'allowedAudiences')).toBe('["vault","aws","https://x/?a=1\\u0026b=\\u003c2\\u003e"]');
    expect(exprs(p)).toEqual([
      'has(object.spec.expirationSeconds) && object.spec.expirationSeconds == 900',
      'size(variables.audiences) == 1',
      'variables.audiences.all(a, a in variables.allowedAudiences)',
    ]);
    expect(byKey(base).validateToken.policy.spec!.validations![0].expression).toContain('== 600');
  });

  test('no audiences configured: every token request is denied (an empty CEL list)', () => {
    expect(variable(byKey({ ...base, tokenAudiences: [] }).validateToken.policy, 'allowedAudiences')).toBe('[]');
    expect(variable(byKey({ ...base, tokenAudiences: ['  '] }).validateToken.policy, 'allowedAudiences')).toBe('[]');
  });

  test('opt-in by label: a sixth policy reading ServiceAccounts as params of the request\'s namespace', () => {
    const e = byKey({ ...base, requireServiceAccountOptIn: { label: 'example.com/tokens' } });
    expect(Object.keys(e)).toHaveLength(6);
    const { policy, binding } = e.tokenOptIn;
    expect(policy.metadata!.name).toBe('secrets-store-sync-controller-token-opt-in-policy');
    expect(policy.spec!.paramKind).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount' });
    expect(binding.spec!.paramRef).toEqual({ selector: {}, parameterNotFoundAction: 'Allow' });
    expect(binding.spec!.paramRef!.namespace).toBeUndefined();
    expect(exprs(policy)).toEqual(['!variables.isRequestedServiceAccount || variables.hasOptedIn']);
    expect(variable(policy, 'hasOptedIn')).toBe('has(params.metadata.labels) && "example.com/tokens" in params.metadata.labels && params.metadata.labels["example.com/tokens"] == "true"');
    expect(policy.spec!.validations![0].messageExpression).toContain('it needs the label " + "example.com/tokens" + "=" + "true" + "."');
  });

  test('opt-in by annotation with a custom value', () => {
    const p = byKey({ ...base, requireServiceAccountOptIn: { annotation: 'example.com/tokens', value: 'allowed' } }).tokenOptIn.policy;
    expect(variable(p, 'hasOptedIn')).toBe('has(params.metadata.annotations) && "example.com/tokens" in params.metadata.annotations && params.metadata.annotations["example.com/tokens"] == "allowed"');
  });

  test('names take a prefix and objects take labels', () => {
    const emitted = emitPolicies({ ...base, namePrefix: 'shard-b', labels: { team: 'platform' } });
    expect(emitted[0].policy.metadata).toEqual({ name: 'shard-b-create-update-policy', labels: { team: 'platform' } });
    expect(emitted[0].binding.metadata).toEqual({ name: 'shard-b-create-update-policy-binding', labels: { team: 'platform' } });
  });

  test('is pure: the same input gives equal output and the input is not changed', () => {
    const config: PolicyConfig = { ...base, tokenAudiences: [' a '], labels: { x: 'y' }, requireServiceAccountOptIn: { label: 'k' } };
    const copy = JSON.parse(JSON.stringify(config));
    expect(emitPolicies(config)).toEqual(emitPolicies(config));
    expect(config).toEqual(copy);
    const first = emitPolicies(config);
    first[0].policy.metadata!.labels!.x = 'changed';
    expect(emitPolicies(config)[0].policy.metadata!.labels!.x).toBe('y');
  });

  test.each<[string, Partial<PolicyConfig>, RegExp]>([
    ['a namespace that is not a DNS label', { controllerNamespace: 'Bad_NS' }, /controllerNamespace/],
    ['an empty ServiceAccount name', { serviceAccountName: '' }, /serviceAccountName/],
    ['the ServiceAccount-token type in the allowed list', { allowedSecretTypes: ['Opaque', 'kubernetes.io/service-account-token'] }, /may never write ServiceAccount token Secrets/],
    ['an empty allowed type', { allowedSecretTypes: [' '] }, /empty entries/],
    ['a token lifetime under 600 s', { tokenExpirationSeconds: 599 }, /tokenExpirationSeconds/],
    ['a fractional token lifetime', { tokenExpirationSeconds: 600.5 }, /tokenExpirationSeconds/],
    ['an opt-in label that is not a qualified name', { requireServiceAccountOptIn: { label: 'not a key' } }, /qualified name/],
    ['an opt-in label value that is not a label value', { requireServiceAccountOptIn: { label: 'k', value: 'no spaces allowed' } }, /label value/],
    ['a control character in an audience', { tokenAudiences: ['a\nb'] }, /control characters/],
    ['a name prefix too long for the binding names', { namePrefix: 'x'.repeat(230) }, /namePrefix/],
  ])('refuses %s', (_what, override, message) => {
    expect(() => emitPolicies({ ...base, ...override })).toThrow(PolicyConfigError);
    expect(() => emitPolicies({ ...base, ...override })).toThrow(message);
  });
});

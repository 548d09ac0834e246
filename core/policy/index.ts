/** The controller's self-restraint admission policies: emitter, YAML renderer and chart template generator. */
export { celList, celString } from './cel.js';
export {
  DEFAULT_ALLOWED_SECRET_TYPES, DEFAULT_NAME_PREFIX, DEFAULT_OPT_IN_VALUE, DEFAULT_TOKEN_EXPIRATION_SECONDS,
  PolicyConfigError, resolvePolicyConfig, SERVICE_ACCOUNT_TOKEN_TYPE,
  type PolicyConfig, type ResolvedPolicyConfig, type ServiceAccountOptIn,
} from './config.js';
export {
  emitPolicies, MANAGED_LABEL, MATCH_CONDITION_NAME, POLICY_SUFFIXES, policyObjects,
  type EmittedPolicy, type PolicyKey,
} from './emitter.js';
export { renderObjectYaml, renderPoliciesYaml } from './render.js';
export { CHART_HELPERS, generatePolicyTemplate, GENERATED_HEADER } from './helm-template.js';

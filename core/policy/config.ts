/**
 * Configuration of the PolicyEmitter and its validation. Everything that reaches a CEL expression or an
 * object name is checked here, so a bad value fails loudly at render time instead of producing a policy
 * that silently matches nothing.
 */
import { normalizeAudiences } from '../tokens/audiences.js';

/** How a ServiceAccount opts in to token requests by the controller: a label or an annotation on it. */
export type ServiceAccountOptIn =
  | { label: string; value?: string }
  | { annotation: string; value?: string };

export interface PolicyConfig {
  /** Namespace of the controller's ServiceAccount (the Helm release namespace). */
  controllerNamespace: string;
  /** Name of the controller's ServiceAccount: the policies match requests by exactly this user. */
  serviceAccountName: string;
  /** Secret types the controller may create or update. `kubernetes.io/service-account-token` is never allowed. */
  allowedSecretTypes: readonly string[];
  /** Audiences the controller may request tokens for (global and per-provider, merged); trimmed, deduplicated. */
  tokenAudiences: readonly string[];
  /** The only token lifetime the controller may request; default 600 (the controller's and the API's minimum). */
  tokenExpirationSeconds?: number;
  /** When set, a sixth policy lets the controller request tokens only for ServiceAccounts that opted in. */
  requireServiceAccountOptIn?: ServiceAccountOptIn;
  /** Prefix of every policy name; default `secrets-store-sync-controller` (upstream's names). */
  namePrefix?: string;
  /** Labels put on every emitted object (for example the chart's standard labels). */
  labels?: Readonly<Record<string, string>>;
}

export const DEFAULT_NAME_PREFIX = 'secrets-store-sync-controller';
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 600;
export const DEFAULT_OPT_IN_VALUE = 'true';
export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';

/** Upstream's default allowed types (chart value `validatingAdmissionPolicies.allowedSecretTypes`). */
export const DEFAULT_ALLOWED_SECRET_TYPES: readonly string[] = [
  'Opaque',
  'kubernetes.io/basic-auth',
  'bootstrap.kubernetes.io/token',
  'kubernetes.io/dockerconfigjson',
  'kubernetes.io/dockercfg',
  'kubernetes.io/ssh-auth',
  'kubernetes.io/tls',
];

export class PolicyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyConfigError';
  }
}

/** The configuration with defaults applied and lists normalised. */
export interface ResolvedPolicyConfig {
  controllerNamespace: string;
  serviceAccountName: string;
  allowedSecretTypes: string[];
  tokenAudiences: string[];
  tokenExpirationSeconds: number;
  optIn?: { field: 'labels' | 'annotations'; key: string; value: string };
  namePrefix: string;
  labels: Record<string, string>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** The longest suffix appended to the prefix: `-update-check-oldobject-policy-binding`. */
const LONGEST_SUFFIX = '-update-check-oldobject-policy-binding';

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

function text(what: string, value: string): string {
  if (CONTROL_CHARS.test(value)) throw new PolicyConfigError(`${what} must not contain control characters: ${JSON.stringify(value)}`);
  return value;
}

/** Applies defaults and validates; throws PolicyConfigError naming the offending field. */
export function resolvePolicyConfig(config: PolicyConfig): ResolvedPolicyConfig {
  const ns = config.controllerNamespace;
  if (typeof ns !== 'string' || ns.length > 63 || !DNS_LABEL.test(ns)) {
    throw new PolicyConfigError(`controllerNamespace must be a DNS-1123 label, got ${JSON.stringify(ns)}`);
  }
  const sa = config.serviceAccountName;
  if (typeof sa !== 'string' || sa.length > 253 || !DNS_SUBDOMAIN.test(sa)) {
    throw new PolicyConfigError(`serviceAccountName must be a DNS-1123 subdomain, got ${JSON.stringify(sa)}`);
  }
  const namePrefix = config.namePrefix ?? DEFAULT_NAME_PREFIX;
  if (!DNS_SUBDOMAIN.test(namePrefix) || namePrefix.length + LONGEST_SUFFIX.length > 253) {
    throw new PolicyConfigError(`namePrefix must be a DNS-1123 subdomain of at most ${253 - LONGEST_SUFFIX.length} characters, got ${JSON.stringify(namePrefix)}`);
  }

  const types: string[] = [];
  for (const raw of config.allowedSecretTypes) {
    const t = text('allowedSecretTypes entries', String(raw)).trim();
    if (t === '') throw new PolicyConfigError('allowedSecretTypes must not contain empty entries');
    if (t === SERVICE_ACCOUNT_TOKEN_TYPE) {
      throw new PolicyConfigError(`allowedSecretTypes must not contain ${SERVICE_ACCOUNT_TOKEN_TYPE}: the controller may never write ServiceAccount token Secrets`);
    }
    if (!types.includes(t)) types.push(t);
  }

  const tokenAudiences = normalizeAudiences(config.tokenAudiences.map((a) => text('tokenAudiences entries', String(a))));

  const exp = config.tokenExpirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  if (!Number.isSafeInteger(exp) || exp < 600) {
    throw new PolicyConfigError(`tokenExpirationSeconds must be an integer >= 600 (the TokenRequest minimum), got ${exp}`);
  }

  let optIn: ResolvedPolicyConfig['optIn'];
  const o = config.requireServiceAccountOptIn;
  if (o) {
    const isLabel = 'label' in o;
    const key = isLabel ? o.label : o.annotation;
    const value = text('requireServiceAccountOptIn.value', o.value ?? DEFAULT_OPT_IN_VALUE);
    if (typeof key !== 'string' || !isLabelKey(key)) {
      throw new PolicyConfigError(`requireServiceAccountOptIn ${isLabel ? 'label' : 'annotation'} must be a qualified name ([prefix/]name), got ${JSON.stringify(key)}`);
    }
    if (isLabel && (value.length > 63 || !LABEL_VALUE.test(value))) {
      throw new PolicyConfigError(`requireServiceAccountOptIn value must be a valid label value, got ${JSON.stringify(value)}`);
    }
    optIn = { field: isLabel ? 'labels' : 'annotations', key, value };
  }

  return {
    controllerNamespace: ns,
    serviceAccountName: sa,
    allowedSecretTypes: types,
    tokenAudiences,
    tokenExpirationSeconds: exp,
    optIn,
    namePrefix,
    labels: { ...(config.labels ?? {}) },
  };
}

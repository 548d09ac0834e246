/**
 * The chart's values as the tests see them: the defaults from values.yaml merged with overrides the way Helm
 * merges them (maps deep, everything else replaced), and the PolicyConfig they stand for. The mapping here is
 * written independently of the chart's helpers, so comparing `helm template` with `emitPolicies(...)` checks
 * the helpers (audience merging, trimming, names) as well as the generated template.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { PolicyConfig } from '../../core/policy/index.js';
import { CHART_DIR } from './helm.js';

export type Values = Record<string, unknown>;

export function defaultValues(): Values {
  return parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Values;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Helm's coalescing of user values over defaults: maps merge recursively, a null deletes, the rest replaces. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

function trimmed(list: unknown[]): string[] {
  const out: string[] = [];
  for (const raw of list) {
    const a = String(raw ?? '').trim();
    if (a && !out.includes(a)) out.push(a);
  }
  return out;
}

export interface ValuesPolicyView {
  config: PolicyConfig | undefined;
  /** The global audiences as the --token-request-audience flag carries them. */
  globalAudiences: string[];
}

/** What the chart should render for `values` (merged with defaults) in `namespace`; config undefined when policies are off. */
export function policyView(values: Values, namespace: string, labels: Record<string, string>): ValuesPolicyView {
  const v = values as {
    fullnameOverride?: string;
    serviceAccount?: { name?: string };
    tokenRequestAudience?: { audience?: string }[];
    providerTokenAudiences?: Record<string, unknown[]>;
    controllerName?: string;
    validatingAdmissionPolicies: {
      applyPolicies: boolean;
      allowedSecretTypes: string[];
      requireServiceAccountOptIn?: { enabled?: boolean; kind?: string; key: string; value: string };
    };
  };
  const prefix = v.fullnameOverride || 'secrets-store-sync-controller';
  const globalAudiences = trimmed((v.tokenRequestAudience ?? []).map((a) => a.audience));
  const providers = Object.keys(v.providerTokenAudiences ?? {}).sort();
  const all = trimmed([...globalAudiences, ...providers.flatMap((p) => v.providerTokenAudiences![p] ?? [])]);
  const vap = v.validatingAdmissionPolicies;
  if (!vap.applyPolicies) return { config: undefined, globalAudiences };
  const o = vap.requireServiceAccountOptIn;
  return {
    globalAudiences,
    config: {
      controllerNamespace: namespace,
      serviceAccountName: v.serviceAccount?.name || v.controllerName || `${prefix}-manager`,
      allowedSecretTypes: trimmed(vap.allowedSecretTypes),
      tokenAudiences: all,
      namePrefix: prefix,
      labels,
      ...(o?.enabled
        ? { requireServiceAccountOptIn: (o.kind ?? 'label') === 'label' ? { label: o.key, value: String(o.value) } : { annotation: o.key, value: String(o.value) } }
        : {}),
    },
  };
}

/**
 * The chart without a cluster: `helm lint`, golden files of `helm template`, the policies Helm renders equal
 * to the PolicyEmitter's output for many sets of values, RBAC equal to upstream's, the Deployment's flags
 * accepted by the controller's own flag parser, and the values schema refusing bad input.
 *
 * Goldens: integration/chart/golden/<case>.yaml. Regenerate with SSC_UPDATE_GOLDEN=1 after a deliberate change.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildConfig } from '../../core/config.js';
import { emitPolicies, policyObjects, POLICY_SUFFIXES } from '../../core/policy/index.js';
import { CONTROLLER_RULES } from '../cluster/install.js';
import { defaultValues, mergeValues, policyView, type Values } from './chart-values.js';
import { CHART_DIR, helm, helmBinary, helmTemplate, HelmError, parseObjects, type K8sObject } from './helm.js';

const here = dirname(fileURLToPath(import.meta.url));
const GOLDEN_DIR = join(here, 'golden');
const EXAMPLES_DIR = join(CHART_DIR, 'examples');
const NAMESPACE = 'secrets-store-sync-controller-system';
const UPDATE = process.env.SSC_UPDATE_GOLDEN === '1';

const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.values.yaml')).sort();
const goldenCases: [string, string[]][] = [
  ['default', []],
  ['full', [join(here, 'cases', 'full.values.yaml')]],
  ...examples.map((f): [string, string[]] => [`example-${basename(f, '.values.yaml')}`, [join(EXAMPLES_DIR, f)]]),
];

const ofKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const one = (objs: K8sObject[], kind: string, name?: string): K8sObject => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0];
};

beforeAll(async () => {
  await helmBinary();
}, 15 * 60_000);

describe('helm lint', () => {
  test.each([['default', [] as string[]], ...examples.map((f) => [f, [join(EXAMPLES_DIR, f)]] as [string, string[]]), ['full', [join(here, 'cases', 'full.values.yaml')]]])(
    'passes --strict with %s values', async (_name, files) => {
      const out = await helm(['lint', CHART_DIR, '--strict', '--kube-version', 'v1.37.2', ...files.flatMap((f) => ['--values', f])]);
      expect(out).toContain('0 chart(s) failed');
    });
});

describe('helm template goldens', () => {
  test.each(goldenCases)('%s', async (name, files) => {
    const rendered = await helmTemplate({ files });
    const path = join(GOLDEN_DIR, `${name}.yaml`);
    if (UPDATE || !existsSync(path)) {
      if (!UPDATE && process.env.CI) throw new Error(`golden ${path} is missing: run with SSC_UPDATE_GOLDEN=1`);
      writeFileSync(path, rendered);
    }
    expect(rendered).toBe(readFileSync(path, 'utf8'));
  });
});

/** Policies and bindings from `helm template`, compared with the emitter for the same values. */
async function expectPoliciesMatchEmitter(overrides: Values, namespace = NAMESPACE): Promise<K8sObject[]> {
  const objs = parseObjects(await helmTemplate({ values: overrides, namespace }));
  const labels = one(objs, 'ServiceAccount').metadata.labels ?? {};
  const { config } = policyView(mergeValues(defaultValues(), overrides), namespace, labels);
  // Helm orders documents its own way (by kind, then file order); compare in one canonical order.
  const byKindAndName = (a: K8sObject, b: K8sObject) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
  const rendered = objs.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy')).sort(byKindAndName);
  const expected = (config ? policyObjects(emitPolicies(config)) : []) as unknown as K8sObject[];
  expect(rendered).toEqual(JSON.parse(JSON.stringify([...expected].sort(byKindAndName))));
  return objs;
}

describe('policies: the chart renders exactly what the PolicyEmitter emits', () => {
  const cases: [string, Values][] = [
    ['defaults', {}],
    ['audiences trimmed and merged with per-provider ones', {
      tokenRequestAudience: [{ audience: ' a ' }, { audience: '' }, { audience: 'b' }, { audience: 'a' }],
      providerTokenAudiences: { zeta: ['z', ' b '], alpha: ['x'], none: [] },
    }],
    ['audiences with characters JSON escapes differently in Go', { tokenRequestAudience: [{ audience: 'https://issuer.example/?a=1&b=<2>' }, { audience: 'quote"back\\slash' }] }],
    ['renamed ServiceAccount', { serviceAccount: { name: 'renamed-controller' } }],
    ["upstream's controllerName renames the ServiceAccount the policies match", { controllerName: 'my-sync-controller' }],
    ['fullnameOverride (a second, sharded release)', { fullnameOverride: 'ssc-b', secretSyncControllerName: 'b' }],
    ['custom allowed types, deduplicated and trimmed', { validatingAdmissionPolicies: { allowedSecretTypes: ['Opaque', ' example.com/custom ', 'Opaque'] } }],
    ['no allowed types at all', { validatingAdmissionPolicies: { allowedSecretTypes: [] } }],
    ['opt-in by label', { validatingAdmissionPolicies: { requireServiceAccountOptIn: { enabled: true } } }],
    ['opt-in by annotation with a custom value', {
      validatingAdmissionPolicies: { requireServiceAccountOptIn: { enabled: true, kind: 'annotation', key: 'example.com/tokens', value: 'a "quoted" & <odd> value' } },
    }],
    ['policies off', { validatingAdmissionPolicies: { applyPolicies: false } }],
  ];
  test.each(cases)('%s', async (_name, overrides) => {
    await expectPoliciesMatchEmitter(overrides);
  });

  test("upstream's controllerName names the ServiceAccount itself, its bindings and the pod (an upstream values file keeps working)", async () => {
    const objs = parseObjects(await helmTemplate({ values: { controllerName: 'my-sync-controller' } }));
    expect(one(objs, 'ServiceAccount').metadata.name).toBe('my-sync-controller');
    const crb = one(objs, 'ClusterRoleBinding') as unknown as { subjects: { name: string }[] };
    expect(crb.subjects.map((x) => x.name)).toEqual(['my-sync-controller']);
    const dep = one(objs, 'Deployment') as unknown as { spec: { template: { spec: { serviceAccountName: string; containers: { name: string; args?: string[] }[] } } } };
    expect(dep.spec.template.spec.serviceAccountName).toBe('my-sync-controller');
    // Not the sharding flag: the controller still handles SecretSyncs that name no controller.
    expect(dep.spec.template.spec.containers.flatMap((c) => c.args ?? []).some((a) => a.startsWith('--controller-name'))).toBe(false);
  });

  test('in another release namespace the match condition names that namespace', async () => {
    const objs = await expectPoliciesMatchEmitter({}, 'other-ns');
    const policy = one(objs, 'ValidatingAdmissionPolicy', `secrets-store-sync-controller-${POLICY_SUFFIXES.delete}`) as unknown as
      { spec: { matchConditions: { expression: string }[] } };
    expect(policy.spec.matchConditions[0].expression).toBe('request.userInfo.username == "system:serviceaccount:other-ns:secrets-store-sync-controller-manager"');
  });

  test('default values render upstream names for every policy and binding', async () => {
    const objs = parseObjects(await helmTemplate());
    const names = ofKind(objs, 'ValidatingAdmissionPolicy').map((o) => o.metadata.name);
    expect(names).toEqual([
      'secrets-store-sync-controller-create-update-policy',
      'secrets-store-sync-controller-update-check-oldobject-policy',
      'secrets-store-sync-controller-update-label-policy',
      'secrets-store-sync-controller-delete-policy',
      'secrets-store-sync-controller-validate-token-policy',
    ]);
    expect(ofKind(objs, 'ValidatingAdmissionPolicyBinding').map((o) => o.metadata.name)).toEqual(names.map((n) => `${n}-binding`));
  });
});

describe('RBAC is upstream\'s, nothing more', () => {
  test('the ClusterRole has exactly CONTROLLER_RULES and is bound to the chart\'s ServiceAccount', async () => {
    const objs = parseObjects(await helmTemplate());
    const role = one(objs, 'ClusterRole', 'secrets-store-sync-controller-manager-role');
    expect(role.rules).toEqual(CONTROLLER_RULES);
    const binding = one(objs, 'ClusterRoleBinding', 'secrets-store-sync-controller-manager-rolebinding');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'secrets-store-sync-controller-manager', namespace: NAMESPACE }]);
    expect(one(objs, 'ServiceAccount').metadata.name).toBe('secrets-store-sync-controller-manager');
  });

  test('the other roles are upstream\'s leader-election Role and the secretsync editor and viewer', async () => {
    const objs = parseObjects(await helmTemplate());
    expect(ofKind(objs, 'ClusterRole').map((o) => o.metadata.name).sort()).toEqual(
      ['secrets-store-sync-controller-manager-role', 'secretsync-editor-role', 'secretsync-viewer-role']);
    const le = one(objs, 'Role', 'secrets-store-sync-controller-leader-election-role');
    expect(le.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    expect(one(objs, 'ClusterRole', 'secretsync-viewer-role').rules).toEqual([
      { apiGroups: ['secret-sync.x-k8s.io'], resources: ['secretsyncs'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['secret-sync.x-k8s.io'], resources: ['secretsyncs/status'], verbs: ['get'] },
    ]);
    // Nothing in the chart may grant get/list/watch/delete on Secrets.
    for (const r of [...ofKind(objs, 'ClusterRole'), ...ofKind(objs, 'Role')]) {
      for (const rule of (r.rules as { resources: string[]; verbs: string[] }[])) {
        if (rule.resources.includes('secrets')) expect(rule.verbs.sort()).toEqual(['create', 'patch']);
      }
    }
  });
});

describe('the Deployment', () => {
  function managerArgs(objs: K8sObject[]): string[] {
    const d = one(objs, 'Deployment') as unknown as { spec: { template: { spec: { containers: { name: string; args: string[] }[] } } } };
    return d.spec.template.spec.containers.find((c) => c.name === 'manager')!.args;
  }

  test.each(goldenCases)('passes flags the controller parses (%s)', async (_name, files) => {
    const args = managerArgs(parseObjects(await helmTemplate({ files })));
    expect(args[0]).toBe('run');
    expect(() => buildConfig(args.slice(1), {})).not.toThrow();
  });

  test('maps values to the controller configuration', async () => {
    const args = managerArgs(parseObjects(await helmTemplate({ files: [join(here, 'cases', 'full.values.yaml')] })));
    const c = buildConfig(args.slice(1), { SYNC_CONTROLLER_POD_NAMESPACE: NAMESPACE });
    expect(c).toMatchObject({
      providerVolume: '/provider', tokenRequestAudiences: ['vault', 'aud-b'], concurrent: 8, controllerName: 'shard-b',
      providerTimeoutMs: 45_000, rotationPollIntervalMs: 30 * 60_000, maxCallRecvMsgSize: 8388608, leaderElect: true,
      leaderElectionNamespace: 'ssc-leases', metricsBindAddress: ':9090', healthProbeBindAddress: ':9091',
      plugins: ['@example/ssc-plugin-inline', '/opt/plugins/local.js'], pluginConfigFile: '/etc/secrets-sync/plugins/config.yaml',
      hashKeyFile: '/etc/secrets-sync/hash-key/hash-key', logLevel: 'warn',
    });
    expect([...c.providerTokenAudiences.entries()]).toEqual([['aws', []], ['azure', ['api://AzureADTokenExchange']], ['vault', ['vault', 'extra']]]);
  });

  test('is hardened: non-root, read-only root, no privilege escalation, seccomp RuntimeDefault, downward API, probes on 8081', async () => {
    const d = one(parseObjects(await helmTemplate()), 'Deployment') as unknown as { spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    const pod = d.spec.template.spec;
    const manager = pod.containers.find((c) => c.name === 'manager')!;
    expect(manager.securityContext).toMatchObject({
      runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.serviceAccountName).toBe('secrets-store-sync-controller-manager');
    expect((manager.env as { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[]).map((e) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([
      ['SYNC_CONTROLLER_POD_NAME', 'metadata.name'], ['SYNC_CONTROLLER_POD_UID', 'metadata.uid'], ['SYNC_CONTROLLER_POD_NAMESPACE', 'metadata.namespace'],
    ]);
    expect(manager.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'healthz' } });
    expect(manager.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'healthz' } });
    expect(manager.ports).toEqual(expect.arrayContaining([{ name: 'healthz', containerPort: 8081, protocol: 'TCP' }, { name: 'metrics', containerPort: 8085, protocol: 'TCP' }]));
    expect(manager.volumeMounts).toEqual(expect.arrayContaining([{ name: 'providervol', mountPath: '/provider' }]));
  });

  test.each(examples)('renders the sidecar of %s before the manager, sharing /provider', async (file) => {
    const d = one(parseObjects(await helmTemplate({ files: [join(EXAMPLES_DIR, file)] })), 'Deployment') as unknown as
      { spec: { template: { spec: { containers: { name: string; volumeMounts?: { name: string; mountPath: string }[] }[] } } } };
    const containers = d.spec.template.spec.containers;
    expect(containers).toHaveLength(2);
    expect(containers[1].name).toBe('manager');
    expect(containers[0].volumeMounts).toEqual(expect.arrayContaining([{ name: 'providervol', mountPath: '/provider' }]));
    const example = parse(readFileSync(join(EXAMPLES_DIR, file), 'utf8')) as { providerContainer: unknown[] };
    expect(containers[0]).toEqual(example.providerContainer[0]);
  });
});

describe('values are checked', () => {
  const refused = async (values: Values): Promise<string> => {
    const err = await helmTemplate({ values }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HelmError);
    return (err as HelmError).message;
  };

  test('the schema refuses unknown keys, the ServiceAccount token type, bad provider names and audiences with commas', async () => {
    expect(await refused({ notAValue: 1 })).toMatch(/additional properties 'notAValue' not allowed/);
    expect(await refused({ validatingAdmissionPolicies: { allowedSecretTypes: ['kubernetes.io/service-account-token'] } })).toMatch(/allowedSecretTypes/);
    expect(await refused({ providerTokenAudiences: { 'bad name!': ['x'] } })).toMatch(/'bad name!' does not match pattern/);
    expect(await refused({ tokenRequestAudience: [{ audience: 'a,b' }] })).toMatch(/tokenRequestAudience/);
    expect(await refused({ validatingAdmissionPolicies: { requireServiceAccountOptIn: { enabled: true, kind: 'label', key: 'not a key', value: 'x' } } })).toMatch(/key/);
    expect(await refused({ providerTimeout: 'soon' })).toMatch(/providerTimeout/);
  });

  test('replicas > 1 needs leader election', async () => {
    expect(await refused({ replicas: 2, leaderElection: { enabled: false } })).toMatch(/replicas > 1 needs leaderElection.enabled=true/);
  });
});

describe('documentation', () => {
  test('docs/chart.md describes every value the schema defines, and values.yaml sets every one', () => {
    interface SchemaNode { properties?: Record<string, SchemaNode> }
    const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode;
    const leaves = (node: SchemaNode, path: string[] = []): string[] => Object.entries(node.properties ?? {}).flatMap(([k, child]) =>
      child.properties ? leaves(child, [...path, k]) : [[...path, k].join('.')]);
    const docs = readFileSync(join(here, '../../docs/chart.md'), 'utf8');
    const keys = leaves(schema).filter((k) => k !== 'global');
    expect(keys.filter((k) => !docs.includes(`| \`${k}\` |`))).toEqual([]);
    const defaults = defaultValues();
    const get = (path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], defaults);
    expect(keys.filter((k) => get(k) === undefined)).toEqual([]);
  });
});

/**
 * What integration tests use: clients for the admin, for any user (client certificate) and for any
 * ServiceAccount (a real TokenRequest token), and a namespace of their own per test file.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { ClusterInfo } from './control-plane.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { ClientCA } from './pki.js';

let cached: ClusterInfo | undefined;

/** The control plane started by Jest's global setup (or `SSC_CLUSTER_INFO` pointing at a running one). */
export function clusterInfo(): ClusterInfo {
  if (cached) return cached;
  const path = process.env.SSC_CLUSTER_INFO;
  if (!path) throw new Error('SSC_CLUSTER_INFO is not set: run integration tests through Jest (global setup starts the control plane)');
  cached = JSON.parse(readFileSync(path, 'utf8')) as ClusterInfo;
  return cached;
}

export function adminConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(clusterInfo().kubeconfig);
  return kc;
}

function fromYaml(yaml: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(yaml);
  return kc;
}

/** A client that authenticates as `user` in `groups` (X.509 client certificate; impersonation on the Docker path). */
export function userConfig(user: string, groups: string[] = []): k8s.KubeConfig {
  const info = clusterInfo();
  if (info.flavour !== 'local') {
    if (groups.length) throw new Error('userConfig with groups needs the local control plane (impersonation of groups is not supported by client-node)');
    const kc = adminConfig();
    const u = kc.getCurrentUser();
    if (u) (u as { impersonateUser?: string }).impersonateUser = user;
    return kc;
  }
  const { cert, key } = ClientCA.open(info.pkiDir).issue(user, groups);
  return fromYaml(kubeconfigYaml({ server: info.server, caFile: info.caFile, user, certPem: cert, keyPem: key }));
}

/** Mints a real ServiceAccount token through the TokenRequest API. */
export async function serviceAccountToken(namespace: string, name: string, audiences?: string[], expirationSeconds = 3600): Promise<string> {
  const core = adminConfig().makeApiClient(k8s.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    namespace, name, body: { spec: { audiences: audiences ?? [], expirationSeconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** A client that acts as the ServiceAccount `namespace/name`, with a real token (creates the SA if missing). */
export async function serviceAccountConfig(namespace: string, name: string): Promise<k8s.KubeConfig> {
  const core = adminConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((e: unknown) => {
    if ((e as { code?: number }).code !== 409) throw e;
  });
  const token = await serviceAccountToken(namespace, name);
  const info = clusterInfo();
  return fromYaml(kubeconfigYaml({ server: info.server, caFile: info.caFile, user: `system:serviceaccount:${namespace}:${name}`, token }));
}

/** Creates a namespace for one test file (name derived from the file) and deletes it afterwards. */
export function useNamespace(testFile: string): { readonly name: string } {
  const base = basename(testFile).replace(/\.test\.ts$/, '').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
  const holder = { name: `${base}-${randomBytes(3).toString('hex')}` };
  beforeAll(async () => {
    const core = adminConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: holder.name, labels: { 'secrets-sync.test/file': base } } } });
  });
  afterAll(async () => {
    const core = adminConfig().makeApiClient(k8s.CoreV1Api);
    await core.deleteNamespace({ name: holder.name }).catch(() => undefined);
  });
  return holder;
}

/** Retries `fn` until it stops throwing (or returns true), for conditions the API server reaches eventually. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== false) return v;
      last = new Error('condition still false');
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function apiErrorCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

export function apiErrorMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try { return (JSON.parse(body) as { message?: string }).message ?? body; } catch { return body; }
  }
  if (body && typeof body === 'object' && 'message' in body) return String((body as { message: unknown }).message);
  return (err as Error).message;
}

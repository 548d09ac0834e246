import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export interface KubeconfigUser {
  server: string;
  caFile: string;
  user: string;
  token?: string;
  certPem?: string;
  keyPem?: string;
}

/** Writes a kubeconfig file (mode 0600) that kubectl and @kubernetes/client-node both read. */
export function writeKubeconfig(path: string, u: KubeconfigUser): void {
  writeFileSync(path, kubeconfigYaml(u), { mode: 0o600 });
}

export function kubeconfigYaml(u: KubeconfigUser): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const user: Record<string, string> = {};
  if (u.token) user.token = u.token;
  if (u.certPem) user['client-certificate-data'] = b64(u.certPem);
  if (u.keyPem) user['client-key-data'] = b64(u.keyPem);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: u.server, 'certificate-authority-data': b64(readFileSync(u.caFile, 'utf8')) } }],
    users: [{ name: u.user, user }],
    contexts: [{ name: u.user, context: { cluster: 'local', user: u.user } }],
    'current-context': u.user,
  });
}

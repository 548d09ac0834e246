/**
 * Tests, the demo and the benchmark hold client-node KubeConfigs; the controller takes a KubeAccess (it does not
 * load client-node). This converts the current context of one (token or client certificates, CA, TLS options).
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeAccess } from '../../core/kube/access.js';

const pem = (file?: string, data?: string): Buffer | undefined =>
  file ? readFileSync(file) : data ? Buffer.from(data, 'base64') : undefined;

export function kubeAccessFromKubeConfig(kc: KubeConfig): KubeAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig: no cluster for context "${kc.getCurrentContext()}"`);
  const user = kc.getCurrentUser();
  if (user?.exec || user?.authProvider) throw new Error(`kubeconfig: user "${user.name}" uses exec/auth-provider; write it to a file and use loadKubeAccess`);
  const access: KubeAccess = { server: cluster.server.replace(/\/+$/, ''), source: 'client-node KubeConfig' };
  const ca = pem(cluster.caFile, cluster.caData);
  if (ca) access.ca = ca;
  if (cluster.skipTLSVerify) access.insecureSkipTLSVerify = true;
  if (cluster.tlsServerName) access.tlsServerName = cluster.tlsServerName;
  if (user) {
    const cert = pem(user.certFile, user.certData);
    const key = pem(user.keyFile, user.keyData);
    if (cert && key) { access.cert = cert; access.key = key; }
    if (user.token) access.token = user.token;
    if (user.username) { access.username = user.username; access.password = user.password ?? ''; }
    const imp = (user as { impersonateUser?: string }).impersonateUser;
    if (imp) access.impersonateUser = imp;
  }
  return access;
}

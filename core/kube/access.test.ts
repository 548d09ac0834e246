import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeAccessError, loadKubeAccess } from './access.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ssc-access-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
function kubeconfig(name: string, user: Record<string, unknown> | undefined, cluster: Record<string, unknown> = { server: 'https://k8s.example:6443/', 'certificate-authority-data': b64('CA-PEM') }): string {
  const p = join(dir, name);
  writeFileSync(p, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'ctx',
    clusters: [{ name: 'other', cluster: { server: 'https://wrong' } }, { name: 'c', cluster }],
    users: user ? [{ name: 'u', user }] : [],
    contexts: [{ name: 'ctx', context: { cluster: 'c', ...(user ? { user: 'u' } : {}) } }],
  }));
  return p;
}

test('a token user of the current context; the server loses its trailing slash; CA from data', () => {
  const a = loadKubeAccess({ kubeconfig: kubeconfig('kc', { token: 'tok' }), env: {} });
  expect(a).toMatchObject({ server: 'https://k8s.example:6443', token: 'tok', source: join(dir, 'kc') });
  expect(a.ca?.toString()).toBe('CA-PEM');
  expect(a.credentials).toBeUndefined();
});

test('relative certificate, key, CA and token files are resolved against the kubeconfig directory', () => {
  mkdirSync(join(dir, 'pki'));
  for (const [f, v] of [['ca.crt', 'CA'], ['c.crt', 'CERT'], ['c.key', 'KEY'], ['token', 'T1\n']]) writeFileSync(join(dir, 'pki', f), v);
  const a = loadKubeAccess({
    kubeconfig: kubeconfig('kc', { 'client-certificate': 'pki/c.crt', 'client-key': 'pki/c.key', tokenFile: 'pki/token' },
      { server: 'https://h:1', 'certificate-authority': 'pki/ca.crt', 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes' }),
    env: {},
  });
  expect([a.ca?.toString(), a.cert?.toString(), a.key?.toString()]).toEqual(['CA', 'CERT', 'KEY']);
  expect(a).toMatchObject({ tokenFile: join(dir, 'pki/token'), insecureSkipTLSVerify: true, tlsServerName: 'kubernetes' });
});

test('client-certificate-data / client-key-data; a context without a user is anonymous', () => {
  const a = loadKubeAccess({ kubeconfig: kubeconfig('kc', { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') }), env: {} });
  expect([a.cert?.toString(), a.key?.toString()]).toEqual(['CERT', 'KEY']);
  const anon = loadKubeAccess({ kubeconfig: kubeconfig('anon', undefined), env: {} });
  expect(anon.token ?? anon.cert ?? anon.tokenFile).toBeUndefined();
});

test('exec and auth-provider users get lazily loaded client-node credentials', () => {
  const a = loadKubeAccess({ kubeconfig: kubeconfig('kc', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }), env: {} });
  expect(typeof a.credentials).toBe('function');
  const b = loadKubeAccess({ kubeconfig: kubeconfig('kc2', { 'auth-provider': { name: 'oidc', config: {} } }), env: {} });
  expect(typeof b.credentials).toBe('function');
});

test('order: --kubeconfig, KUBECONFIG (first path), in-cluster, ~/.kube/config', () => {
  const explicit = kubeconfig('explicit', { token: 'explicit' });
  const first = kubeconfig('first', { token: 'first' });
  const second = kubeconfig('second', { token: 'second' });
  const sa = join(dir, 'sa');
  mkdirSync(sa);
  writeFileSync(join(sa, 'token'), 'sa-token');
  writeFileSync(join(sa, 'ca.crt'), 'SA-CA');
  const home = join(dir, 'home');
  mkdirSync(join(home, '.kube'), { recursive: true });
  writeFileSync(join(home, '.kube', 'config'), stringify({ 'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], clusters: [{ name: 'c', cluster: { server: 'https://home:1' } }], users: [{ name: 'u', user: { token: 'home' } }] }));
  const inCluster = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
  const opts = { serviceAccountDir: sa, home };
  expect(loadKubeAccess({ ...opts, kubeconfig: explicit, env: { KUBECONFIG: first, ...inCluster } }).token).toBe('explicit');
  expect(loadKubeAccess({ ...opts, env: { KUBECONFIG: `${first}:${second}`, ...inCluster } }).token).toBe('first');
  const ic = loadKubeAccess({ ...opts, env: inCluster });
  expect(ic).toMatchObject({ server: 'https://[fd00::1]:443', tokenFile: join(sa, 'token'), source: 'in-cluster' });
  expect(ic.ca?.toString()).toBe('SA-CA');
  expect(loadKubeAccess({ ...opts, env: {} }).token).toBe('home');
  expect(() => loadKubeAccess({ serviceAccountDir: sa, home: join(dir, 'nowhere'), env: {} })).toThrow(/no API server configuration/);
});

test('clear errors name the file and what is missing', () => {
  const missing = join(dir, 'nope');
  expect(() => loadKubeAccess({ kubeconfig: missing, env: {} })).toThrow(`cannot read kubeconfig ${missing}: ENOENT`);
  const p = join(dir, 'bad');
  writeFileSync(p, stringify({ 'current-context': 'ctx', contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'ghost' } }], clusters: [{ name: 'c', cluster: { server: 'https://h' } }] }));
  expect(() => loadKubeAccess({ kubeconfig: p, env: {} })).toThrow(`kubeconfig ${p}: user "ghost" (of context "ctx") is not among its users`);
  writeFileSync(p, stringify({ 'current-context': 'ctx', contexts: [{ name: 'ctx', context: { cluster: 'c' } }], clusters: [{ name: 'c', cluster: {} }] }));
  expect(() => loadKubeAccess({ kubeconfig: p, env: {} })).toThrow(`kubeconfig ${p}: cluster "c" has no server`);
  writeFileSync(p, stringify({ contexts: [] }));
  expect(() => loadKubeAccess({ kubeconfig: p, env: {} })).toThrow(`kubeconfig ${p}: no current-context is set`);
  expect(() => loadKubeAccess({ kubeconfig: kubeconfig('nokey', { 'client-certificate-data': b64('C') }), env: {} })).toThrow(/client certificate but no client-key/);
  expect(() => loadKubeAccess({ kubeconfig: kubeconfig('nofile', { tokenFile: 'absent' }), env: {} })).toThrow(KubeAccessError);
});

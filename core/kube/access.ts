/**
 * How the controller reaches the API server: server URL, TLS material and credentials, read from a kubeconfig or
 * from the in-cluster ServiceAccount files without @kubernetes/client-node (importing it costs ~85 MiB of RSS:
 * its KubeConfig module loads the generated client of every API group). Only users that authenticate through
 * `exec` or `auth-provider` load client-node, lazily, and let its KubeConfig produce the credentials.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** Per-request credentials of an `exec` / `auth-provider` user (headers, and client certificates when it gives some). */
export interface DynamicCredentials {
  headers: Record<string, string>;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface KubeAccess {
  /** e.g. `https://10.0.0.1:443` (no trailing slash). */
  server: string;
  /** PEM of the CA(s) that sign the API server's serving certificate; the system CAs when absent. */
  ca?: string | Buffer;
  /** PEM client certificate and key (X.509 client authentication). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token, re-read once a minute (projected ServiceAccount tokens rotate). */
  tokenFile?: string;
  /** HTTP basic authentication (rare; kept for kubeconfig parity). */
  username?: string;
  password?: string;
  /** Impersonation (`as` / `as-groups` of a kubeconfig user). */
  impersonateUser?: string;
  impersonateGroups?: string[];
  insecureSkipTLSVerify?: boolean;
  /** SNI / verification name when it differs from the server's host (`tls-server-name`). */
  tlsServerName?: string;
  /** Where this came from (the kubeconfig path or `in-cluster`), for logs and errors. */
  source?: string;
  /** Credentials computed per request (exec / auth-provider users); takes precedence over token and tokenFile. */
  credentials?: () => Promise<DynamicCredentials>;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadKubeAccessOptions {
  /** An explicit kubeconfig path (--kubeconfig); wins over everything else. */
  kubeconfig?: string;
  /** Defaults to process.env (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** Defaults to the ServiceAccount mount (tests pass their own). */
  serviceAccountDir?: string;
  /** Defaults to the user's home directory (for ~/.kube/config). */
  home?: string;
}

export class KubeAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeAccessError';
  }
}

/**
 * The API server access of the controller, in controller-runtime's order: --kubeconfig, else $KUBECONFIG (its
 * first path), else the in-cluster config (KUBERNETES_SERVICE_HOST/PORT and the ServiceAccount files), else
 * ~/.kube/config.
 */
export function loadKubeAccess(opts: LoadKubeAccessOptions = {}): KubeAccess {
  const env = opts.env ?? process.env;
  if (opts.kubeconfig) return kubeAccessFromFile(opts.kubeconfig);
  const fromEnv = (env.KUBECONFIG ?? '').split(process.platform === 'win32' ? ';' : ':').find((p) => p.trim() !== '');
  if (fromEnv) return kubeAccessFromFile(fromEnv);
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT && existsSync(join(saDir, 'token'))) {
    return inClusterAccess(env.KUBERNETES_SERVICE_HOST, env.KUBERNETES_SERVICE_PORT, saDir);
  }
  const home = opts.home ?? homedir();
  const fallback = join(home, '.kube', 'config');
  if (existsSync(fallback)) return kubeAccessFromFile(fallback);
  throw new KubeAccessError(
    'no API server configuration: pass --kubeconfig, set KUBECONFIG, run in a pod (KUBERNETES_SERVICE_HOST/PORT and '
    + `${join(saDir, 'token')}) or create ${fallback}`,
  );
}

/** The in-cluster config: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`, the SA token (re-read) and CA. */
export function inClusterAccess(host: string, port: string, saDir = SERVICE_ACCOUNT_DIR): KubeAccess {
  const caFile = join(saDir, 'ca.crt');
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (err) {
    throw new KubeAccessError(`in-cluster config: cannot read the CA ${caFile}: ${(err as Error).message}`);
  }
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return { server: `https://${h}:${port}`, ca, tokenFile: join(saDir, 'token'), source: 'in-cluster' };
}

type Named<T> = { name?: string } & T;
interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}
interface RawUser {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  as?: string;
  'as-groups'?: string[];
  exec?: unknown;
  'auth-provider'?: unknown;
}
interface RawKubeconfig {
  'current-context'?: string;
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
  clusters?: Named<{ cluster?: RawCluster }>[];
  users?: Named<{ user?: RawUser }>[];
}

/** Reads a kubeconfig file and returns the access of its current context. */
export function kubeAccessFromFile(path: string): KubeAccess {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeAccessError(`cannot read kubeconfig ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: RawKubeconfig;
  try {
    raw = (parseYaml(text) ?? {}) as RawKubeconfig;
  } catch (err) {
    throw new KubeAccessError(`kubeconfig ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return kubeAccessFromKubeconfigObject(raw, file);
}

/** The access of the current context of a parsed kubeconfig; relative file paths are resolved against `file`'s directory. */
export function kubeAccessFromKubeconfigObject(raw: RawKubeconfig, file: string): KubeAccess {
  const fail = (what: string) => new KubeAccessError(`kubeconfig ${file}: ${what}`);
  if (typeof raw !== 'object' || raw === null) throw fail('is not a kubeconfig (expected a mapping)');
  const dir = dirname(file);
  const abs = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const readRef = (what: string, p: string): Buffer => {
    try {
      return readFileSync(abs(p));
    } catch (err) {
      throw fail(`cannot read ${what} ${abs(p)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const b64 = (what: string, s: string): Buffer => {
    const b = Buffer.from(s, 'base64');
    if (b.length === 0) throw fail(`${what} is empty or not base64`);
    return b;
  };

  const ctxName = raw['current-context'];
  if (!ctxName) throw fail('no current-context is set');
  const ctx = raw.contexts?.find((c) => c?.name === ctxName)?.context;
  if (!ctx) throw fail(`current-context "${ctxName}" is not among its contexts`);
  if (!ctx.cluster) throw fail(`context "${ctxName}" names no cluster`);
  const cluster = raw.clusters?.find((c) => c?.name === ctx.cluster)?.cluster;
  if (!cluster) throw fail(`cluster "${ctx.cluster}" (of context "${ctxName}") is not among its clusters`);
  if (!cluster.server) throw fail(`cluster "${ctx.cluster}" has no server`);
  try {
    new URL(cluster.server);
  } catch {
    throw fail(`cluster "${ctx.cluster}" has an invalid server URL "${cluster.server}"`);
  }

  const access: KubeAccess = { server: cluster.server.replace(/\/+$/, ''), source: file };
  if (cluster['certificate-authority-data']) access.ca = b64(`certificate-authority-data of cluster "${ctx.cluster}"`, cluster['certificate-authority-data']);
  else if (cluster['certificate-authority']) access.ca = readRef(`the certificate-authority of cluster "${ctx.cluster}"`, cluster['certificate-authority']);
  if (cluster['insecure-skip-tls-verify'] === true) access.insecureSkipTLSVerify = true;
  if (cluster['tls-server-name']) access.tlsServerName = cluster['tls-server-name'];

  if (!ctx.user) return access; // anonymous
  const user = raw.users?.find((u) => u?.name === ctx.user)?.user;
  if (!user) throw fail(`user "${ctx.user}" (of context "${ctxName}") is not among its users`);

  if (user['client-certificate-data']) access.cert = b64(`client-certificate-data of user "${ctx.user}"`, user['client-certificate-data']);
  else if (user['client-certificate']) access.cert = readRef(`the client-certificate of user "${ctx.user}"`, user['client-certificate']);
  if (user['client-key-data']) access.key = b64(`client-key-data of user "${ctx.user}"`, user['client-key-data']);
  else if (user['client-key']) access.key = readRef(`the client-key of user "${ctx.user}"`, user['client-key']);
  if (!!access.cert !== !!access.key) {
    throw fail(`user "${ctx.user}" has a client ${access.cert ? 'certificate but no client-key(-data)' : 'key but no client-certificate(-data)'}`);
  }
  if (user.token) access.token = user.token;
  else if (user.tokenFile) {
    access.tokenFile = abs(user.tokenFile);
    readRef(`the tokenFile of user "${ctx.user}"`, user.tokenFile); // fail now, not at the first request
  }
  if (user.username) { access.username = user.username; access.password = user.password ?? ''; }
  if (user.as) access.impersonateUser = user.as;
  if (user['as-groups']?.length) access.impersonateGroups = user['as-groups'];

  if (user.exec || user['auth-provider']) access.credentials = clientNodeCredentials(file, ctxName);
  return access;
}

/**
 * Credentials of an `exec` / `auth-provider` user through client-node's KubeConfig (imported on first use, so
 * only such users pay for it). It caches and refreshes the plugin's credentials itself.
 */
function clientNodeCredentials(file: string, context: string): () => Promise<DynamicCredentials> {
  // applyOptions (headers, cert, key; untyped: private in client-node's typings) does what the public
  // applyToHTTPSOptions does minus building an https.Agent on every call; the latter is the fallback.
  let kc: Promise<{ applyOptions?(o: object): Promise<void>; applyToHTTPSOptions(o: object): Promise<void> }> | undefined;
  return async () => {
    const loading = (kc ??= import('@kubernetes/client-node').then((k8s) => {
      const c = new k8s.KubeConfig();
      c.loadFromFile(file);
      c.setCurrentContext(context);
      return c as unknown as { applyOptions?(o: object): Promise<void>; applyToHTTPSOptions(o: object): Promise<void> };
    }));
    loading.catch(() => { kc = undefined; }); // retried at the next request
    const opts: { headers?: Record<string, unknown>; cert?: string | Buffer; key?: string | Buffer } = {};
    const c = await loading;
    await (typeof c.applyOptions === 'function' ? c.applyOptions(opts) : c.applyToHTTPSOptions(opts));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    return { headers, cert: opts.cert, key: opts.key };
  };
}

/**
 * Runs a binary that insists on `rest.InClusterConfig()` (vault-csi-provider) on this machine, as if it were in a
 * pod, against the local API server and without touching the host:
 *
 * - env KUBERNETES_SERVICE_HOST=127.0.0.1 and KUBERNETES_SERVICE_PORT=<API server port> (client-go builds
 *   `https://host:port` from them; the serving certificate has IP:127.0.0.1);
 * - /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} from a temp dir, seen only by that
 *   process: it runs in a private mount namespace (`unshare -m`, propagation private) where /run gets an
 *   overlay whose upper layer is a temp dir (so the missing /run/secrets/... mount point is created there, not on
 *   the host) and the temp dir is bind-mounted onto it. Mounts are made with `-n`, so /run/mount/utab is not
 *   written either. Everything disappears with the process.
 *
 * Needs root (or CAP_SYS_ADMIN), util-linux `unshare` and overlayfs. `inClusterSupport()` says why not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startComponent, type Component } from '../cluster/processes.js';

export const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterIdentity {
  /** `https://127.0.0.1:<port>` of the API server. */
  server: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  caFile: string;
  /** A ServiceAccount token (TokenRequest) the process authenticates with. */
  token: string;
  /** Written to the namespace file without a trailing newline (vault-csi-provider reads it verbatim). */
  namespace: string;
}

export interface InClusterProcessOptions extends InClusterIdentity {
  name: string;
  bin: string;
  args: string[];
  /** A private temp dir: receives the ServiceAccount files, the overlay layers and the log. */
  workDir: string;
  pidFile: string;
  env?: Record<string, string>;
}

/** Why this machine cannot run in-cluster processes, or undefined when it can. */
export function inClusterSupport(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'running a binary with an in-cluster config needs root (a private mount namespace with unshare -m)';
  }
  try {
    execFileSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') return 'util-linux unshare is not installed (apt-get install util-linux)';
    return `unshare -m fails here: ${e.stderr?.toString().trim() || String(err)}`;
  }
  try {
    if (!/\boverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return 'the kernel has no overlay filesystem';
  } catch {
    // no /proc/filesystems: let the mount itself report it
  }
  return undefined;
}

/** The shell run inside the new mount namespace before exec'ing the binary. */
const NAMESPACE_SCRIPT = [
  'set -e',
  'upper=$1; work=$2; sa=$3; shift 3',
  'mount -n -t overlay overlay -o "lowerdir=/run,upperdir=$upper,workdir=$work" /run',
  `mkdir -p ${SA_DIR}`,
  `mount -n --bind "$sa" ${SA_DIR}`,
  'exec "$@"',
].join('\n');

/** Starts `bin` in its own mount namespace and process group, with the in-cluster files and environment. */
export function startInCluster(opts: InClusterProcessOptions): Component {
  const sa = join(opts.workDir, 'serviceaccount');
  const upper = join(opts.workDir, 'run-upper');
  const work = join(opts.workDir, 'run-work');
  for (const d of [sa, upper, work]) mkdirSync(d, { recursive: true });
  writeFileSync(join(sa, 'token'), opts.token, { mode: 0o600 });
  writeFileSync(join(sa, 'ca.crt'), readFileSync(opts.caFile));
  writeFileSync(join(sa, 'namespace'), opts.namespace);
  const url = new URL(opts.server);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: opts.workDir,
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port || '443',
    ...opts.env,
  };
  // startComponent spawns detached with the parent's env; pass ours through `env -i` to keep the host's out.
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return startComponent(opts.name, 'env', [
    '-i', ...envArgs,
    'unshare', '-m', '--propagation', 'private',
    'sh', '-c', NAMESPACE_SCRIPT, 'in-cluster', upper, work, sa, opts.bin, ...opts.args,
  ], join(opts.workDir, `${opts.name}.log`), opts.pidFile);
}

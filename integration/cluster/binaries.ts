import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './errors.js';

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
}

export const DEFAULT_KUBE_VERSION = 'v1.37.2';
export const DEFAULT_ETCD_VERSION = 'v3.6.16';

/** Root of the per-user cache shared by every checkout (binaries, build modules, `cluster up` state). */
export function cacheRoot(): string {
  return process.env.SSC_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'secrets-sync');
}

const here = dirname(fileURLToPath(import.meta.url));
/** The build script lives in the source tree; from dist/ walk back to it. */
function buildScript(): string {
  for (const dir of [here, resolve(here, '../../../integration/cluster')]) {
    const p = join(dir, 'build-binaries.sh');
    if (existsSync(p)) return p;
  }
  throw new ClusterError('integration/cluster/build-binaries.sh not found next to the harness');
}

function executable(path: string, what: string, envName: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new ClusterError(`${envName}=${path} is not an executable ${what} binary`);
  }
  return path;
}

/**
 * Finds the control-plane binaries: from KUBE_APISERVER_BIN / KUBE_CONTROLLER_MANAGER_BIN / ETCD_BIN when
 * all three are set, else from the per-user cache, building them there from the Go module proxy on first use.
 */
export async function ensureBinaries(log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<Binaries> {
  const env = process.env;
  const KUBE_VERSION = env.KUBE_VERSION ?? DEFAULT_KUBE_VERSION;
  const ETCD_VERSION = env.ETCD_VERSION ?? DEFAULT_ETCD_VERSION;
  if (env.KUBE_APISERVER_BIN || env.KUBE_CONTROLLER_MANAGER_BIN || env.ETCD_BIN) {
    if (!(env.KUBE_APISERVER_BIN && env.KUBE_CONTROLLER_MANAGER_BIN && env.ETCD_BIN)) {
      throw new ClusterError('set all three of KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN, or none');
    }
    return {
      kubeApiserver: executable(env.KUBE_APISERVER_BIN, 'kube-apiserver', 'KUBE_APISERVER_BIN'),
      kubeControllerManager: executable(env.KUBE_CONTROLLER_MANAGER_BIN, 'kube-controller-manager', 'KUBE_CONTROLLER_MANAGER_BIN'),
      etcd: executable(env.ETCD_BIN, 'etcd', 'ETCD_BIN'),
    };
  }
  const dir = join(cacheRoot(), 'bin', `kube-${KUBE_VERSION}-etcd-${ETCD_VERSION}`);
  const bins = {
    kubeApiserver: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    etcd: join(dir, 'etcd'),
  };
  if (Object.values(bins).every((b) => existsSync(b))) return bins;

  log(`[cluster] building kube-apiserver, kube-controller-manager ${KUBE_VERSION} and etcd ${ETCD_VERSION} into ${dir}`);
  log('[cluster] this happens once per machine and takes many minutes; progress follows');
  const logFile = join(cacheRoot(), 'build', 'build.log');
  await new Promise<void>((resolvePromise, reject) => {
    const child = spawn('bash', [buildScript()], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...env, KUBE_VERSION, ETCD_VERSION, SSC_CACHE_DIR: cacheRoot() },
    });
    let last = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        last = line;
        log(line);
      }
    });
    child.on('error', (err) => reject(new ClusterError(`cannot run the build script: ${err.message}`, logFile)));
    child.on('exit', (code) => {
      if (code === 0) resolvePromise();
      else reject(new ClusterError(`building the control-plane binaries failed: ${last.replace(/^\[build-binaries\] (error: )?/, '').replace(/ \(log: .*\)$/, '')}`, logFile));
    });
  });
  for (const b of Object.values(bins)) {
    if (!existsSync(b)) throw new ClusterError(`the build finished but ${b} is missing`, logFile);
  }
  return bins;
}

import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, type Binaries } from './binaries.js';
import { ClusterError } from './errors.js';
import { writeKubeconfig } from './kubeconfig.js';
import { ClientCA, randomToken, writeServiceAccountKeys } from './pki.js';
import {
  freePort, killGroup, killPidFile, startComponent, startReaper, stopComponent, waitFor, writeFile0600,
  type Component,
} from './processes.js';

/** Everything a client needs to reach the control plane; serialised to `<dataDir>/cluster.json`. */
export interface ClusterInfo {
  /** `local` (this harness), or `k3s` / `kind` (the Docker path). */
  flavour: 'local' | 'k3s' | 'kind';
  server: string;
  caFile: string;
  adminToken: string;
  kubeconfig: string;
  dataDir: string;
  pidFile: string;
  /** Directory holding the client CA used to mint certificates for arbitrary users. */
  pkiDir: string;
  startedInMs: number;
}

export interface StartOptions {
  /** Directory for data, logs and credentials; default a fresh temp dir, removed on stop. */
  dataDir?: string;
  /** Keep running after this process exits (`npm run cluster -- up`); otherwise a watchdog reaps it. */
  persistent?: boolean;
  /** Also run kube-controller-manager (GC, namespace and serviceaccount controllers). Default true. */
  controllerManager?: boolean;
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * Runs once the API server is ready and before kube-controller-manager starts (given the admin kubeconfig
   * path): CRDs installed here are known to the garbage collector at once instead of after its 30 s resync.
   */
  beforeControllerManager?: (kubeconfig: string) => Promise<void>;
  /** A fixed kube-apiserver port (default: a free one). A taken port is reported, not retried. */
  apiServerPort?: number;
  /** Binaries to use instead of the cached build (tests of start-up failures). */
  binaries?: Binaries;
}

const KCM_CONTROLLERS = [
  'garbage-collector-controller', 'namespace-controller', 'serviceaccount-controller',
  'clusterrole-aggregation-controller', 'root-ca-certificate-publisher-controller',
  'validatingadmissionpolicy-status-controller',
];

function get(url: string, opts: https.RequestOptions = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https') ? https : http).get(url, { ...opts, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => { req.destroy(); resolve(0); });
  });
}

function servingCert(pki: string): { caFile: string; cert: string; key: string } {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'serving-ca.key',
      '-out', 'serving-ca.crt', '-days', '30', '-subj', '/CN=secrets-sync-test-serving-ca']);
    run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'apiserver.key',
      '-out', 'apiserver.csr', '-subj', '/CN=kube-apiserver']);
    writeFileSync(join(pki, 'san.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\n' +
      'extendedKeyUsage=serverAuth\n');
    run(['x509', '-req', '-in', 'apiserver.csr', '-CA', 'serving-ca.crt', '-CAkey', 'serving-ca.key', '-CAcreateserial',
      '-out', 'apiserver.crt', '-days', '30', '-extfile', 'san.ext']);
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new ClusterError('openssl is not installed; it is needed for the API server certificates');
    throw new ClusterError(`openssl failed making the serving certificate: ${e.stderr?.toString().trim() ?? String(err)}`);
  }
  return { caFile: join(pki, 'serving-ca.crt'), cert: join(pki, 'apiserver.crt'), key: join(pki, 'apiserver.key') };
}

/**
 * A real control plane: etcd, kube-apiserver and kube-controller-manager as local processes on free loopback
 * ports, with generated certificates, RBAC, TokenRequest, ValidatingAdmissionPolicy and
 * OwnerReferencesPermissionEnforcement.
 */
export class ControlPlane {
  private components: Component[] = [];
  readonly info: ClusterInfo;
  private readonly ownsDir: boolean;
  /** The watchdog that reaps the components if this process dies; not needed once stopped. */
  private reaper?: ChildProcess;
  private constructor(info: ClusterInfo, ownsDir: boolean) {
    this.info = info;
    this.ownsDir = ownsDir;
  }

  static async start(opts: StartOptions = {}): Promise<ControlPlane> {
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    const bins = opts.binaries ?? await ensureBinaries(log);
    let lastErr: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        return await ControlPlane.startOnce(bins, opts, log);
      } catch (err) {
        lastErr = err;
        // Only a lost race for a free port is worth another try; everything else is reported at once.
        if (!(err instanceof ClusterError) || !/address already in use/.test(err.message) || opts.apiServerPort) throw err;
        log(`[cluster] ${err.message}; retrying with other ports`);
      }
    }
    throw lastErr;
  }

  private static async startOnce(bins: Binaries, opts: StartOptions, log: (l: string) => void): Promise<ControlPlane> {
    const t0 = Date.now();
    const ownsDir = !opts.dataDir;
    const dir = opts.dataDir ?? mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ssc-cp-'));
    mkdirSync(dir, { recursive: true });
    const pki = join(dir, 'pki');
    const logs = join(dir, 'logs');
    mkdirSync(pki, { recursive: true });
    mkdirSync(logs, { recursive: true });
    const pidFile = join(dir, 'pids');
    writeFileSync(pidFile, '');
    const reaper = opts.persistent ? undefined : startReaper(process.pid, pidFile, ownsDir ? dir : join(dir, 'etcd'));

    const serving = servingCert(pki);
    const sa = writeServiceAccountKeys(pki);
    const clientCA = ClientCA.create(pki);
    const adminToken = randomToken();
    const kcmToken = randomToken();
    writeFile0600(join(pki, 'tokens.csv'),
      `${adminToken},admin,uid-admin,"system:masters"\n${kcmToken},system:kube-controller-manager,uid-kcm,"system:masters"\n`);

    const [etcdClient, etcdPeer, freeApiPort, kcmPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const apiPort = opts.apiServerPort ?? freeApiPort;
    const server = `https://127.0.0.1:${apiPort}`;
    const cp = new ControlPlane({
      flavour: 'local', server, caFile: serving.caFile, adminToken, kubeconfig: join(dir, 'admin.kubeconfig'), dataDir: dir, pidFile,
      pkiDir: pki, startedInMs: 0,
    }, ownsDir);
    cp.reaper = reaper;
    const timeout = opts.startTimeoutMs ?? 60_000;
    try {
      const etcd = startComponent('etcd', bins.etcd, [
        '--name=ssc-test', `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=ssc-test=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync=true', '--log-level=warn',
      ], join(logs, 'etcd.log'), pidFile);
      cp.components.push(etcd);
      await waitFor(etcd, 'healthy', async () => (await get(`http://127.0.0.1:${etcdClient}/health`)) === 200, timeout);

      const api = startComponent('kube-apiserver', bins.kubeApiserver, [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1', `--secure-port=${apiPort}`, '--advertise-address=127.0.0.1',
        // 1.37 refuses a loopback advertise address with the default endpoint reconciler; no node needs it.
        '--endpoint-reconciler-type=none',
        `--cert-dir=${pki}`, `--tls-cert-file=${serving.cert}`, `--tls-private-key-file=${serving.key}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        `--token-auth-file=${join(pki, 'tokens.csv')}`,
        `--client-ca-file=${clientCA.certFile}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${sa.pub}`,
        `--service-account-signing-key-file=${sa.key}`,
        '--enable-admission-plugins=OwnerReferencesPermissionEnforcement,ValidatingAdmissionPolicy',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ], join(logs, 'kube-apiserver.log'), pidFile);
      cp.components.push(api);
      const auth: https.RequestOptions = {
        ca: readFileSync(serving.caFile), headers: { Authorization: `Bearer ${adminToken}` },
      };
      await waitFor(api, 'ready', async () => (await get(`${server}/readyz`, auth)) === 200, timeout);
      await waitFor(api, 'serving the default namespace',
        async () => (await get(`${server}/api/v1/namespaces/default`, auth)) === 200, 20_000);
      writeKubeconfig(cp.info.kubeconfig, { server, caFile: serving.caFile, user: 'admin', token: adminToken });

      await opts.beforeControllerManager?.(cp.info.kubeconfig);
      if (opts.controllerManager !== false) {
        const kcmKubeconfig = join(pki, 'kcm.kubeconfig');
        writeKubeconfig(kcmKubeconfig, { server, caFile: serving.caFile, user: 'kcm', token: kcmToken });
        const kcm = startComponent('kube-controller-manager', bins.kubeControllerManager, [
          `--kubeconfig=${kcmKubeconfig}`, '--leader-elect=false', '--use-service-account-credentials=false',
          `--controllers=${KCM_CONTROLLERS.join(',')}`,
          `--root-ca-file=${serving.caFile}`,
          '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`, `--cert-dir=${join(pki, 'kcm')}`,
          '--v=1',
        ], join(logs, 'kube-controller-manager.log'), pidFile);
        cp.components.push(kcm);
        // Ready when the serviceaccount controller has made the default ServiceAccount.
        await waitFor(kcm, 'running its controllers',
          async () => (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, auth)) === 200, timeout);
      }
      cp.info.startedInMs = Date.now() - t0;
      writeFileSync(join(dir, 'cluster.json'), JSON.stringify(cp.info, null, 2), { mode: 0o600 });
      log(`[cluster] control plane ready at ${server} in ${(cp.info.startedInMs / 1000).toFixed(1)} s (logs: ${logs})`);
      return cp;
    } catch (err) {
      await cp.stop();
      throw err;
    }
  }

  /** Stops kube-controller-manager, kube-apiserver, then etcd (SIGTERM, then SIGKILL), and removes a temp dir. */
  async stop(): Promise<void> {
    for (const c of [...this.components].reverse()) await stopComponent(c);
    this.components = [];
    await killPidFile(this.info.pidFile, 2_000);
    if (this.reaper?.pid) killGroup(this.reaper.pid, 'SIGKILL');
    this.reaper = undefined;
    if (this.ownsDir) rmSync(this.info.dataDir, { recursive: true, force: true });
  }
}

/** Reads the cluster info of a running control plane from its data dir. */
export function readClusterInfo(dataDir: string): ClusterInfo {
  return JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as ClusterInfo;
}

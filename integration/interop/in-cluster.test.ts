/**
 * The launcher that gives a Go binary an in-cluster config (integration/interop/in-cluster.ts), checked with a real
 * client-go program: kube-controller-manager without --kubeconfig falls back to rest.InClusterConfig(), exactly
 * as vault-csi-provider does at start-up. Proves the environment, the CA, the token and the mount namespace
 * work against the local API server, and that the host's /run is left alone.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from '../cluster/binaries.js';
import { stopComponent, type Component } from '../cluster/processes.js';
import { clusterInfo, eventually, serviceAccountToken, useNamespace, adminConfig } from '../cluster/testenv.js';
import * as k8s from '@kubernetes/client-node';
import { inClusterSupport, SA_DIR, startInCluster } from './in-cluster.js';

const ns = useNamespace(import.meta.url);
const unsupported = inClusterSupport();
const skip = process.env.SSC_SKIP_INTEROP;
if (unsupported && skip) console.warn(`[interop] SSC_SKIP_INTEROP=${skip}: skipping the in-cluster launcher test: ${unsupported}`);
const maybe = unsupported && skip ? test.skip : test;

describe('startInCluster', () => {
  let dir: string;
  let kcm: Component | undefined;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'ssc-ic-')); });
  afterAll(async () => {
    if (kcm) await stopComponent(kcm, 3_000);
    rmSync(dir, { recursive: true, force: true });
  });

  maybe('a client-go binary with no kubeconfig reaches the local API server as the ServiceAccount, via in-cluster config', async () => {
    if (unsupported) throw new Error(`cannot run in-cluster processes here: ${unsupported} (SSC_SKIP_INTEROP=1 skips this)`);
    const info = clusterInfo();
    if (info.flavour !== 'local') return; // the Docker path has its own in-cluster pods
    const runBefore = readdirSync('/run').sort();
    const secretsBefore = existsSync(SA_DIR);
    await adminConfig().makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'probe' } } });
    const token = await serviceAccountToken(ns.name, 'probe', [], 600);
    const bins = await ensureBinaries();
    kcm = startInCluster({
      name: 'kube-controller-manager', bin: bins.kubeControllerManager,
      args: ['--controllers=serviceaccount-controller', '--leader-elect=false', '--secure-port=0', '--v=2'],
      workDir: dir, pidFile: info.pidFile, server: info.server, caFile: info.caFile, token, namespace: ns.name,
    });
    const log = (): string => readFileSync(kcm!.logFile, 'utf8');
    // The SA has no RBAC, so every list is forbidden: a 403 names the authenticated user, which proves that TLS
    // (ca.crt), the server address (KUBERNETES_SERVICE_HOST/PORT) and the token were all taken from the pod files.
    await eventually(async () => {
      if (kcm!.exitCode() !== undefined) throw new Error(`kube-controller-manager exited: ${log().slice(-400)}`);
      return log().includes(`User \\"system:serviceaccount:${ns.name}:probe\\" cannot list`);
    }, 30_000, 250);
    expect(log()).toContain('Using the inClusterConfig');
    expect(log()).not.toMatch(/x509|Unauthorized|unable to load in-cluster configuration/);
    await stopComponent(kcm, 3_000);
    kcm = undefined;
    expect(readdirSync('/run').sort()).toEqual(runBefore);
    expect(existsSync(SA_DIR)).toBe(secretsBefore);
  }, 60_000);
});

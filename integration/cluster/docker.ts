/**
 * The Docker path: the same integration suite against k3s (testcontainers) or kind, where a Docker engine
 * answers. Untested on the project's machines (they have no Docker engine); see the README.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ClusterInfo } from './control-plane.js';

export type Flavour = 'local' | 'k3s' | 'kind';

export interface DockerCluster {
  info: ClusterInfo;
  stop(): Promise<void>;
}

export const K3S_IMAGE = process.env.SSC_K3S_IMAGE ?? 'rancher/k3s:v1.36.2-k3s1';
export const KIND_NODE_IMAGE = process.env.SSC_KIND_NODE_IMAGE ?? 'kindest/node:v1.35.1';

/** The flavour asked for by SSC_TEST_CLUSTER (local, k3s or kind; default local). */
export function requestedFlavour(): Flavour {
  const v = (process.env.SSC_TEST_CLUSTER ?? 'local').toLowerCase();
  if (v === 'local' || v === 'k3s' || v === 'kind') return v;
  throw new Error(`SSC_TEST_CLUSTER=${v} is not one of local, k3s, kind`);
}

/** True when a container runtime answers (testcontainers' own detection). */
export async function dockerAvailable(): Promise<{ ok: boolean; why?: string }> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return { ok: true };
  } catch (err) {
    return { ok: false, why: (err as Error).message.split('\n')[0] };
  }
}

function infoFromKubeconfig(flavour: Flavour, dir: string, kubeconfigYaml: string): ClusterInfo {
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml, { mode: 0o600 });
  const doc = parse(kubeconfigYaml) as { clusters: { cluster: { server: string; 'certificate-authority-data'?: string } }[] };
  const cluster = doc.clusters[0].cluster;
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64'));
  return { flavour, server: cluster.server, caFile, adminToken: '', kubeconfig, dataDir: dir, pidFile: join(dir, 'pids'), pkiDir: '', startedInMs: 0 };
}

/** Starts k3s in a container through @testcontainers/k3s. */
export async function startK3s(): Promise<DockerCluster> {
  const t0 = Date.now();
  const { K3sContainer } = await import('@testcontainers/k3s');
  const container = await new K3sContainer(K3S_IMAGE).start();
  const dir = mkdtempSync(join(tmpdir(), 'ssc-k3s-'));
  const info = infoFromKubeconfig('k3s', dir, container.getKubeConfig());
  info.startedInMs = Date.now() - t0;
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(info, null, 2), { mode: 0o600 });
  return {
    info,
    async stop() {
      await container.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a kind cluster with the `kind` CLI (KIND_BIN or kind on PATH). */
export async function startKind(): Promise<DockerCluster> {
  const t0 = Date.now();
  const kind = process.env.KIND_BIN ?? 'kind';
  const name = `ssc-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'ssc-kind-'));
  const kcPath = join(dir, 'kind.kubeconfig');
  execFileSync(kind, ['create', 'cluster', '--name', name, '--image', KIND_NODE_IMAGE, '--kubeconfig', kcPath, '--wait', '120s'], { stdio: 'inherit' });
  const yaml = execFileSync(kind, ['get', 'kubeconfig', '--name', name], { encoding: 'utf8' });
  const info = infoFromKubeconfig('kind', dir, yaml);
  info.startedInMs = Date.now() - t0;
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(info, null, 2), { mode: 0o600 });
  return {
    info,
    async stop() {
      execFileSync(kind, ['delete', 'cluster', '--name', name], { stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

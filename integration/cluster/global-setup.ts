/** Jest global setup of the integration project: one control plane per test run. */
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { ControlPlane } from './control-plane.js';
import { installCrds } from './install.js';
import { dockerAvailable, requestedFlavour, startK3s, startKind, type DockerCluster } from './docker.js';

declare global {
  var __SSC_CLUSTER__: { stop(): Promise<void> } | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.SSC_CLUSTER_INFO) {
    process.stderr.write(`[cluster] using the running control plane described by ${process.env.SSC_CLUSTER_INFO}\n`);
    return;
  }
  const flavour = requestedFlavour();
  if (flavour !== 'local') {
    const docker = await dockerAvailable();
    if (docker.ok) {
      const dc: DockerCluster = flavour === 'k3s' ? await startK3s() : await startKind();
      globalThis.__SSC_CLUSTER__ = dc;
      process.env.SSC_CLUSTER_INFO = join(dc.info.dataDir, 'cluster.json');
      return;
    }
    process.stderr.write(`[cluster] SSC_TEST_CLUSTER=${flavour} but no Docker engine answers (${docker.why}); using the local control plane\n`);
  }
  const cp = await ControlPlane.start({
    // The product's CRDs go in before the garbage collector starts, so owner references to SecretSyncs are
    // honoured at once (the collector only rediscovers new resources every 30 s).
    beforeControllerManager: async (kubeconfig) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      await installCrds(kc);
    },
  });
  globalThis.__SSC_CLUSTER__ = cp;
  process.env.SSC_CLUSTER_INFO = join(cp.info.dataDir, 'cluster.json');
  process.env.SSC_CLUSTER_STARTED_IN_MS = String(cp.info.startedInMs);
}

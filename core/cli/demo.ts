/**
 * `npm run demo`: the main job on an embedded default. Starts a local control plane, installs the CRDs and the
 * controller's least-privilege identity, runs the controller (as its ServiceAccount) with the fake provider,
 * syncs a Secret, rotates the value, shows the update, and stops everything.
 */
import * as k8s from '@kubernetes/client-node';
import { ControlPlane } from '../../integration/cluster/control-plane.js';
import {
  CONTROLLER_NAMESPACE, CONTROLLER_SA, installControllerIdentity, installCrds, serviceAccountKubeConfig,
} from '../../integration/cluster/install.js';
import { kubeAccessFromKubeConfig } from '../../integration/cluster/kube-access.js';
import { FakeProvider, FakeProviderTransport } from '../../transports/fake/fake-provider.js';
import { buildConfig } from '../config.js';
import { silentLogger, noopMetrics } from '../ports/observability.js';
import { buildContainer, createController, runController } from './container.js';

const say = (s: string) => console.log(s);
const mask = (v: string) => (v.length <= 4 ? '****' : `${v.slice(0, 2)}${'*'.repeat(Math.min(v.length - 4, 12))}${v.slice(-2)}`);

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function runDemo(): Promise<number> {
  say('== starting a local control plane (etcd, kube-apiserver, kube-controller-manager)');
  const cp = await ControlPlane.start({
    log: (l) => say(l),
    beforeControllerManager: async (kubeconfig) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      await installCrds(kc);
    },
  });
  const abort = new AbortController();
  let controllerDone: Promise<void> | undefined;
  try {
    const admin = new k8s.KubeConfig();
    admin.loadFromFile(cp.info.kubeconfig);
    say('== installing CRDs and the controller identity (ClusterRole: secrets create+patch only)');
    await installCrds(admin);
    await installControllerIdentity(admin);
    const asController = await serviceAccountKubeConfig(admin, CONTROLLER_NAMESPACE, CONTROLLER_SA);

    const fake = new FakeProvider({ providerName: 'fake' });
    const config = buildConfig(['--rotation-poll-interval=3s', '--metrics-bind-address=0', '--health-probe-bind-address=0']);
    const c = buildContainer({ config, kubeAccess: kubeAccessFromKubeConfig(asController), logger: silentLogger, metrics: noopMetrics, providers: [new FakeProviderTransport(fake)] });
    const controller = createController(c);
    controllerDone = runController(c, abort.signal, controller);
    say(`== controller running as system:serviceaccount:${CONTROLLER_NAMESPACE}:${CONTROLLER_SA}, provider "fake" in-process`);

    const core = admin.makeApiClient(k8s.CoreV1Api);
    const objects = admin.makeApiClient(k8s.CustomObjectsApi);
    const ns = 'demo';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'demo-app' } } });
    await objects.createNamespacedCustomObject({
      group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace: ns, plural: 'secretproviderclasses',
      body: {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'demo-spc' },
        spec: { provider: 'fake', parameters: { objects: '- username\n- password\n' } },
      },
    });
    await objects.createNamespacedCustomObject({
      group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs',
      body: {
        apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', metadata: { name: 'demo-credentials' },
        spec: {
          serviceAccountName: 'demo-app', secretProviderClassName: 'demo-spc',
          secretObject: { type: 'Opaque', data: [{ sourcePath: 'username', targetKey: 'user' }, { sourcePath: 'password', targetKey: 'pass' }] },
        },
      },
    });
    say('== applied SecretProviderClass demo/demo-spc and SecretSync demo/demo-credentials');

    const show = async (title: string) => {
      const s = await core.readNamespacedSecret({ namespace: ns, name: 'demo-credentials' });
      const ss = await objects.getNamespacedCustomObjectStatus({ group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'demo-credentials' }) as { status?: { syncHash?: string; lastSuccessfulSyncTime?: string; conditions?: { type: string; status: string; reason: string; message: string }[] } };
      say(`\n-- ${title}`);
      say(`Secret ${ns}/${s.metadata?.name} type=${s.type} resourceVersion=${s.metadata?.resourceVersion}`);
      say(`  owner: ${s.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`).join(', ')}   labels: ${JSON.stringify(s.metadata?.labels)}`);
      for (const [k, v] of Object.entries(s.data ?? {})) say(`  data.${k} = ${mask(Buffer.from(v, 'base64').toString())}  (masked)`);
      say(`SecretSync status: lastSuccessfulSyncTime=${ss.status?.lastSuccessfulSyncTime}`);
      for (const cond of ss.status?.conditions ?? []) say(`  ${cond.type}=${cond.status} reason=${cond.reason} message="${cond.message}"`);
      return s;
    };
    const first = await waitFor('the synced Secret', async () => {
      const s = await core.readNamespacedSecret({ namespace: ns, name: 'demo-credentials' });
      return s.data?.pass ? s : undefined;
    });
    await waitFor('conditions', async () => {
      const ss = await objects.getNamespacedCustomObjectStatus({ group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs', name: 'demo-credentials' }) as { status?: { conditions?: { type: string; status: string }[] } };
      return ss.status?.conditions?.some((x) => x.type === 'SecretUpdated' && x.status === 'True') ? true : undefined;
    });
    await show('synced');

    say('\n== rotating the values in the fake provider; the next poll (3 s) picks them up');
    fake.rotate();
    await waitFor('the rotated value', async () => {
      const s = await core.readNamespacedSecret({ namespace: ns, name: 'demo-credentials' });
      return s.data?.pass && s.data.pass !== first.data?.pass ? s : undefined;
    }, 30_000);
    await show('after rotation');
    say('\n== demo finished: stopping the controller and the control plane');
    return 0;
  } finally {
    abort.abort();
    await controllerDone?.catch(() => undefined);
    await cp.stop();
  }
}

/**
 * Benchmark (not a test): N SecretSyncs (default 1000) synced by the controller running as its own process,
 * as its own ServiceAccount, against the local control plane, with the fake provider served over gRPC on a
 * unix socket (the real sidecar path). Reports time until all are synced, syncs/s, p50/p99 from creation to
 * synced, and the controller's peak RSS (VmHWM).
 *
 *   npm run bench                      # 1000 SecretSyncs, --concurrent 4
 *   npm run bench -- --count 200 --concurrent 8
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { ControlPlane } from '../integration/cluster/control-plane.js';
import { CONTROLLER_NAMESPACE, CONTROLLER_SA, installControllerIdentity, installCrds, serviceAccountKubeConfig } from '../integration/cluster/install.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const COUNT = arg('count', 1000);
const CONCURRENT = arg('concurrent', 4);
/** V8 old-space cap for the controller process in MiB (0: Node's default, sized from the machine's memory). */
const HEAP_MIB = arg('heap', 0);
/** Create every SecretSync first and start the controller afterwards: measures sync throughput alone. */
const PRECREATE = process.argv.includes('--precreate');
/** Extra V8 flags for the controller process, e.g. --node-flags=--trace-gc (diagnostics). */
const NODE_FLAGS_ARG = process.argv.find((a) => a.startsWith('--node-flags='))?.slice('--node-flags='.length);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const cp = await ControlPlane.start({
    log: () => undefined,
    beforeControllerManager: async (kubeconfig) => { const kc = new k8s.KubeConfig(); kc.loadFromFile(kubeconfig); await installCrds(kc); },
  });
  const procs: ChildProcess[] = [];
  const work = mkdtempSync(join(tmpdir(), 'ssc-bench-'));
  try {
    const admin = new k8s.KubeConfig();
    admin.loadFromFile(cp.info.kubeconfig);
    await installControllerIdentity(admin);
    const sa = await serviceAccountKubeConfig(admin, CONTROLLER_NAMESPACE, CONTROLLER_SA, 7200);
    const saPath = join(work, 'controller.kubeconfig');
    writeFileSync(saPath, sa.exportConfig(), { mode: 0o600 });

    const node = process.execPath;
    // The same V8 flags as the `secrets-sync` executable's shebang (the image's entrypoint uses them too).
    const shebang = readFileSync(join(root, 'dist/core/cli/main.js'), 'utf8').split('\n')[0];
    const NODE_FLAGS = (NODE_FLAGS_ARG ?? shebang.replace(/^#!.*?node\s*/, '')).split(' ').filter(Boolean);
    const fake = spawn(node, [join(root, 'dist/transports/fake/main.js'), `--endpoint=unix://${join(work, 'fake.sock')}`], { stdio: 'ignore' });
    procs.push(fake);
    for (let i = 0; i < 100 && !existsSync(join(work, 'fake.sock')); i++) await new Promise((r) => setTimeout(r, 50));
    const startController = () => spawn(node, [...NODE_FLAGS, ...(HEAP_MIB ? [`--max-old-space-size=${HEAP_MIB}`] : []), join(root, 'dist/core/cli/main.js'), 'run', `--kubeconfig=${saPath}`, `--provider-volume=${work}`,
      `--concurrent=${CONCURRENT}`, '--metrics-bind-address=0', '--health-probe-bind-address=0', '--log-level=warn'], { stdio: ['ignore', NODE_FLAGS_ARG ? 'inherit' : 'ignore', 'inherit'] });
    let ctl = PRECREATE ? undefined : startController();
    if (ctl) procs.push(ctl);

    const core = admin.makeApiClient(k8s.CoreV1Api);
    const custom = admin.makeApiClient(k8s.CustomObjectsApi);
    const ns = 'bench';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await custom.createNamespacedCustomObject({ group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace: ns, plural: 'secretproviderclasses',
      body: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'spc' }, spec: { provider: 'fake', parameters: { objects: '- username\n- password\n' } } } });

    const created = new Map<string, number>();
    const synced = new Map<string, number>();
    let allDone: () => void = () => undefined;
    const done = new Promise<void>((r) => { allDone = r; });
    const watch = new k8s.Watch(admin);
    const req = await watch.watch(`/apis/secret-sync.x-k8s.io/v1alpha1/namespaces/${ns}/secretsyncs`, {}, (_type, obj: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }) => {
      const ok = obj.status?.conditions?.some((c) => c.type === 'SecretCreated' && c.status === 'True');
      if (ok && !synced.has(obj.metadata.name)) {
        synced.set(obj.metadata.name, performance.now());
        if (synced.size === COUNT) allDone();
      }
    }, () => undefined);

    console.log(`creating ${COUNT} SecretSyncs (controller: --concurrent ${CONCURRENT}, heap cap ${HEAP_MIB || 'default'}, provider: fake over gRPC)`);
    const t0 = performance.now();
    const names = Array.from({ length: COUNT }, (_, i) => `ss-${i}`);
    const par = 16;
    for (let i = 0; i < names.length; i += par) {
      await Promise.all(names.slice(i, i + par).map(async (name) => {
        created.set(name, performance.now());
        await custom.createNamespacedCustomObject({ group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns, plural: 'secretsyncs',
          body: { apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', metadata: { name },
            spec: { serviceAccountName: 'default', secretProviderClassName: 'spc', secretObject: { data: [{ sourcePath: 'username', targetKey: 'u' }, { sourcePath: 'password', targetKey: 'p' }] } } } });
      }));
    }
    const tAllCreated = performance.now();
    let tCreated = tAllCreated;
    if (PRECREATE) {
      // Throughput alone: the clock (and every object's latency) starts when the controller starts.
      ctl = startController();
      procs.push(ctl);
      tCreated = performance.now();
      for (const n of names) created.set(n, tCreated);
    }
    const tStart = PRECREATE ? tCreated : t0;
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${synced.size}/${COUNT} synced after 10 min`)), 600_000))]);
    const tDone = performance.now();
    req.abort();
    const lat = names.map((n) => synced.get(n)! - created.get(n)!).sort((a, b) => a - b);
    const rss = peakRssMiB(ctl!.pid!);
    const total = (tDone - tStart) / 1000;
    const result = {
      count: COUNT, mode: PRECREATE ? 'precreated, then controller started' : 'created while the controller runs', concurrent: CONCURRENT, heapCapMiB: HEAP_MIB || 'default', nodeFlags: NODE_FLAGS.join(' '),
      createSeconds: +((tAllCreated - t0) / 1000).toFixed(2),
      allSyncedSeconds: +total.toFixed(2),
      syncsPerSecond: +(COUNT / total).toFixed(1),
      p50ms: Math.round(percentile(lat, 50)), p99ms: Math.round(percentile(lat, 99)), maxMs: Math.round(lat[lat.length - 1]),
      controllerPeakRssMiB: +rss.toFixed(1),
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await cp.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => { console.error(err); process.exit(1); });

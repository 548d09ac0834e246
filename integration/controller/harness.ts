/**
 * Runs the real controller in-process against the local control plane, as its own ServiceAccount bound to
 * upstream's ClusterRole, with the fake provider registered in-process. Each test file gets its own
 * controller (sharded by --controller-name unless it asks for the default) and its own namespace.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { buildContainer, createController, runController } from '../../core/cli/container.js';
import { buildConfig } from '../../core/config.js';
import { createLogger } from '../../core/observability/logging.js';
import { PromMetrics } from '../../core/observability/metrics.js';
import type { ProviderTransport } from '../../core/ports/provider.js';
import { FakeProvider, FakeProviderTransport } from '../../transports/fake/fake-provider.js';
import {
  CONTROLLER_NAMESPACE, CONTROLLER_SA, installControllerIdentity, installCrds, serviceAccountKubeConfig,
} from '../cluster/install.js';
import { kubeAccessFromKubeConfig } from '../cluster/kube-access.js';
import { adminConfig, eventually } from '../cluster/testenv.js';

export interface Condition { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }
export interface SecretSyncObject {
  metadata: { name: string; namespace: string; uid: string; generation: number; resourceVersion: string };
  spec: Record<string, unknown>;
  status?: { syncHash?: string; lastSuccessfulSyncTime?: string; conditions?: Condition[] };
}

export interface ControllerHandle {
  fake: FakeProvider;
  controllerName: string;
  providerVolume: string;
  metrics: PromMetrics;
  logs: string[];
  reconcileNow(namespace: string, name: string): Promise<{ requeueAfter?: number }>;
  stop(): Promise<void>;
}

const SS = { group: 'secret-sync.x-k8s.io', version: 'v1alpha1', plural: 'secretsyncs' };
const SPC = { group: 'secrets-store.csi.x-k8s.io', version: 'v1', plural: 'secretproviderclasses' };

export const admin = () => adminConfig();
export const core = () => adminConfig().makeApiClient(k8s.CoreV1Api);
export const custom = () => adminConfig().makeApiClient(k8s.CustomObjectsApi);

/** A writable stream that keeps every log line (tests scan them for leaked secrets). */
function captureStream(lines: string[]): NodeJS.WritableStream {
  return { write(chunk: string | Uint8Array) { lines.push(chunk.toString()); return true; } } as unknown as NodeJS.WritableStream;
}

export interface StartOptions {
  /** Default: a unique name per file, so parallel files never reconcile each other's objects. */
  controllerName?: string;
  flags?: string[];
  providers?: ProviderTransport[];
  fake?: FakeProvider;
  /** Serve /healthz, /readyz and /metrics on these loopback ports. */
  servers?: { probe: number; metrics: number };
}

/** Installs CRDs + the controller identity and starts a controller that runs as that identity. */
export async function startController(opts: StartOptions = {}): Promise<ControllerHandle> {
  const kc = adminConfig();
  await installCrds(kc);
  await installControllerIdentity(kc);
  const asController = await serviceAccountKubeConfig(kc, CONTROLLER_NAMESPACE, CONTROLLER_SA);
  const providerVolume = mkdtempSync(join(tmpdir(), 'ssc-pv-'));
  const controllerName = opts.controllerName ?? `test-${Math.random().toString(36).slice(2, 8)}`;
  const config = buildConfig([
    `--controller-name=${controllerName}`, `--provider-volume=${providerVolume}`,
    '--rotation-poll-interval=0', '--metrics-bind-address=0', '--health-probe-bind-address=0', '--log-level=debug',
    ...(opts.flags ?? []),
  ], { SYNC_CONTROLLER_POD_NAME: `ssc-test-pod-${Math.random().toString(36).slice(2, 8)}`, SYNC_CONTROLLER_POD_UID: 'ssc-test-uid' });
  const fake = opts.fake ?? new FakeProvider({ providerName: 'fake' });
  const logs: string[] = [];
  const metrics = new PromMetrics(false);
  const c = buildContainer({
    config, kubeAccess: kubeAccessFromKubeConfig(asController), logger: createLogger('debug', captureStream(logs)), metrics,
    providers: [new FakeProviderTransport(fake), ...(opts.providers ?? [])],
  });
  const controller = createController(c);
  const abort = new AbortController();
  const done = runController(c, abort.signal, controller);
  await eventually(async () => controller.synced(), 20_000);
  let servers: { close(): void }[] = [];
  if (opts.servers) {
    const { startProbeServer, startMetricsServer } = await import('../../core/observability/http-servers.js');
    servers = (await Promise.all([
      startProbeServer(`127.0.0.1:${opts.servers.probe}`, () => controller.synced()),
      startMetricsServer(`127.0.0.1:${opts.servers.metrics}`, metrics.registry),
    ])).filter((x): x is NonNullable<typeof x> => !!x);
  }
  return {
    fake, controllerName, providerVolume, metrics, logs,
    reconcileNow: (namespace, name) => controller.reconcileNow(`${namespace}/${name}`),
    async stop() {
      abort.abort();
      await done;
      for (const srv of servers) srv.close();
      rmSync(providerVolume, { recursive: true, force: true });
    },
  };
}

export function spcBody(name: string, parameters: Record<string, string> | null = { objects: '- foo\n- bar\n' }, provider = 'fake'): object {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name },
    spec: { provider, ...(parameters === null ? {} : { parameters }) },
  };
}

export interface SecretSyncSpec {
  spc?: string;
  sa?: string;
  type?: string;
  data?: { sourcePath: string; targetKey: string }[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  force?: string;
  controllerName?: string;
}

export function secretSyncBody(name: string, s: SecretSyncSpec = {}): object {
  return {
    apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', metadata: { name },
    spec: {
      ...(s.controllerName !== undefined ? { secretSyncControllerName: s.controllerName } : {}),
      secretProviderClassName: s.spc ?? 'spc',
      serviceAccountName: s.sa ?? 'default',
      ...(s.force ? { forceSynchronization: s.force } : {}),
      secretObject: {
        ...(s.type ? { type: s.type } : {}),
        data: s.data ?? [{ sourcePath: 'foo', targetKey: 'bar' }],
        ...(s.labels ? { labels: s.labels } : {}),
        ...(s.annotations ? { annotations: s.annotations } : {}),
      },
    },
  };
}

export async function createSpc(namespace: string, body: object): Promise<void> {
  await custom().createNamespacedCustomObject({ ...SPC, namespace, body });
}

export async function patchSpc(namespace: string, name: string, patch: object): Promise<void> {
  await custom().patchNamespacedCustomObject({ ...SPC, namespace, name, body: patch },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
}

export async function createSecretSync(namespace: string, body: object): Promise<void> {
  await custom().createNamespacedCustomObject({ ...SS, namespace, body });
}

export async function patchSecretSync(namespace: string, name: string, patch: object): Promise<void> {
  await custom().patchNamespacedCustomObject({ ...SS, namespace, name, body: patch },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
}

export async function deleteSecretSync(namespace: string, name: string): Promise<void> {
  await custom().deleteNamespacedCustomObject({ ...SS, namespace, name });
}

export async function getSecretSync(namespace: string, name: string): Promise<SecretSyncObject> {
  return await custom().getNamespacedCustomObject({ ...SS, namespace, name }) as SecretSyncObject;
}

export function condition(ss: SecretSyncObject, type: string): Condition | undefined {
  return ss.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the SecretSync has condition `type` with `status` (and `reason` when given). */
export async function waitForCondition(namespace: string, name: string, type: string, status: string, reason?: string, timeoutMs = 30_000): Promise<SecretSyncObject> {
  return eventually(async () => {
    const ss = await getSecretSync(namespace, name);
    const c = condition(ss, type);
    if (c?.status === status && (!reason || c.reason === reason)) return ss;
    throw new Error(`${type} is ${c?.status}/${c?.reason} (${c?.message}), want ${status}/${reason ?? '*'}`);
  }, timeoutMs);
}

export async function readSecret(namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
  return core().readNamespacedSecret({ namespace, name }).catch((e: { code?: number }) => {
    if (e.code === 404) return undefined;
    throw e;
  });
}

export function decoded(secret: k8s.V1Secret | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

export async function waitForSecret(namespace: string, name: string, pred: (s: k8s.V1Secret) => boolean = () => true, timeoutMs = 30_000): Promise<k8s.V1Secret> {
  return eventually(async () => {
    const s = await readSecret(namespace, name);
    if (s && pred(s)) return s;
    throw new Error(`secret ${namespace}/${name} ${s ? 'does not match yet' : 'not found'}`);
  }, timeoutMs);
}

export async function events(namespace: string): Promise<k8s.CoreV1Event[]> {
  return (await core().listNamespacedEvent({ namespace })).items;
}

export async function createServiceAccount(namespace: string, name: string): Promise<void> {
  await core().createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }).catch((e: { code?: number }) => {
    if (e.code !== 409) throw e;
  });
}

/**
 * Interop with a real store (a Vault dev server built from the Go module proxy) and a real provider
 * (HashiCorp's vault-csi-provider), with ServiceAccount tokens that the local API server issued:
 *
 *   SecretSync -> our controller (in-process, as its own ServiceAccount, --token-request-audience=vault)
 *     -> CSI gRPC on <provider volume>/vault.sock -> vault-csi-provider (in-cluster config via startInCluster)
 *     -> Vault JWT / Kubernetes auth with the SecretSync's ServiceAccount token -> KV v2 -> the Secret.
 *
 * Binaries: VAULT_BIN / VAULT_CSI_PROVIDER_BIN, else the per-user cache, built on first use by
 * `bash integration/interop/build-vault.sh` (a cold Vault build takes tens of minutes: build ahead).
 * A binary that is missing and cannot be built makes its tests FAIL with the build script's reason, unless
 * SSC_SKIP_INTEROP is set (to a reason, or 1): then nothing is built, what is cached is used, and the tests that
 * need a missing binary are skipped with the reason printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { freePort, logTail, stopComponent, type Component } from '../cluster/processes.js';
import { adminConfig, clusterInfo, eventually, serviceAccountToken, useNamespace } from '../cluster/testenv.js';
import {
  createSecretSync, createServiceAccount, createSpc, decoded, secretSyncBody, spcBody, startController, waitForCondition,
  waitForSecret, type ControllerHandle,
} from '../controller/harness.js';
import { FakeProvider } from '../../transports/fake/fake-provider.js';
import { startFakeProviderServer, type FakeProviderServer } from '../../transports/fake/grpc-server.js';
import { ensureInteropBinary } from './binaries.js';
import { inClusterSupport, startInCluster } from './in-cluster.js';
import {
  enableJwtAuth, enableKubernetesAuth, jwtRole, kubernetesRole, VaultDevServer, VaultError, writeReadPolicy,
} from './vault-dev.js';

const TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';
const skip = process.env.SSC_SKIP_INTEROP;
const say = (line: string): void => { process.stderr.write(`[interop] ${line}\n`); };

// Resolved at load time so that a skip is a real Jest skip, not a silent pass.
const vaultBin = await ensureInteropBinary('vault', { cachedOnly: !!skip, log: say });
const providerBin = await ensureInteropBinary('provider', { cachedOnly: !!skip, log: say });
const inClusterProblem = inClusterSupport();
const providerProblem = providerBin instanceof Error ? providerBin.message : inClusterProblem;

/** The build script's reason already says how to build or point at a binary; add how to skip. */
function unavailable(what: string, reason: string): Error {
  return new Error(`${what} is not available: ${reason}. To skip the tests that need it, set SSC_SKIP_INTEROP=<reason>.`);
}
if (skip) {
  if (vaultBin instanceof Error) say(`SSC_SKIP_INTEROP=${skip}: skipping every Vault test: ${vaultBin.message}`);
  if (providerProblem) say(`SSC_SKIP_INTEROP=${skip}: skipping the vault-csi-provider test: ${providerProblem}`);
}
const vaultTest = skip && vaultBin instanceof Error ? test.skip : test;
const providerTest = skip && (vaultBin instanceof Error || providerProblem) ? test.skip : test;

function requireVault(): string {
  if (vaultBin instanceof Error) throw unavailable('vault', vaultBin.message);
  return vaultBin;
}

const ns = useNamespace(import.meta.url);
const ROLE = 'kv-role';
const APP_SA = 'app';

let work: string;
let vault: VaultDevServer | undefined;
let ctl: ControllerHandle | undefined;
let reviewerBinding: string | undefined;

/** Vault with KV v2 (dev mode's `secret/`), JWT auth at `jwt/` and Kubernetes auth at `kubernetes/`, role kv-role. */
async function vaultReady(): Promise<VaultDevServer> {
  if (vault) return vault;
  const bin = requireVault();
  const info = clusterInfo();
  vault = await VaultDevServer.start(bin, work, info.pidFile);
  const trust = { server: info.server, caFile: info.caFile, saPublicKeyFile: join(info.pkiDir, 'sa.pub') };
  const bound = { namespace: ns.name, serviceAccount: APP_SA, audience: 'vault', policy: 'kv-read' };
  await writeReadPolicy(vault, 'kv-read', ns.name);
  await enableJwtAuth(vault, 'jwt', trust);
  await jwtRole(vault, 'jwt', ROLE, bound);
  // Kubernetes auth reviews each login token with the API server, as a reviewer allowed to create TokenReviews.
  const admin = adminConfig();
  await createServiceAccount(ns.name, 'vault-reviewer');
  reviewerBinding = `vault-reviewer-${ns.name}`;
  await admin.makeApiClient(k8s.RbacAuthorizationV1Api).createClusterRoleBinding({ body: {
    metadata: { name: reviewerBinding },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' },
    subjects: [{ kind: 'ServiceAccount', name: 'vault-reviewer', namespace: ns.name }],
  } });
  await enableKubernetesAuth(vault, 'kubernetes', trust, await serviceAccountToken(ns.name, 'vault-reviewer', [], 3600));
  await kubernetesRole(vault, 'kubernetes', ROLE, bound);
  await vault.kvPut(`${ns.name}/app`, { password: 's3cr3t-v1', username: 'svc-app' });
  return vault;
}

/** The controller as its own ServiceAccount, one token per SecretSync for audience `vault`, a 2 s poll. */
async function controllerReady(): Promise<ControllerHandle> {
  ctl ??= await startController({ flags: ['--token-request-audience=vault', '--rotation-poll-interval=2s', '--provider-timeout=20s'] });
  return ctl;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ssc-vault-'));
  await createServiceAccount(ns.name, APP_SA);
  await createServiceAccount(ns.name, 'intruder');
}, 60_000);

afterAll(async () => {
  await ctl?.stop();
  await vault?.stop();
  if (reviewerBinding) {
    await adminConfig().makeApiClient(k8s.RbacAuthorizationV1Api).deleteClusterRoleBinding({ name: reviewerBinding }).catch(() => undefined);
  }
  rmSync(work, { recursive: true, force: true });
}, 60_000);

async function loginFails(v: VaultDevServer, mount: string, jwt: string): Promise<string> {
  try {
    await v.login(mount, ROLE, jwt);
  } catch (err) {
    if (err instanceof VaultError && err.status >= 400 && err.status < 500) return err.message;
    throw err;
  }
  throw new Error(`vault auth/${mount} accepted a token it should have refused`);
}

describe('Vault (real store) with the tokens the controller passes to providers', () => {
  let server: FakeProviderServer | undefined;
  afterAll(async () => { await server?.stop(); });

  vaultTest('JWT and Kubernetes auth accept the SecretSync ServiceAccount token for audience vault, and refuse other audiences and ServiceAccounts', async () => {
    const v = await vaultReady();
    const c = await controllerReady();
    // The fake provider on a real socket records the Mount attributes exactly as a provider receives them.
    const recorder = new FakeProvider({ providerName: 'tokens', tokenAudiences: ['vault'] });
    server = await startFakeProviderServer({ socketPath: join(c.providerVolume, 'tokens.sock'), provider: recorder });
    await createSpc(ns.name, spcBody('tokens', { objects: '- foo\n' }, 'tokens'));
    await createSecretSync(ns.name, secretSyncBody('tokens', { spc: 'tokens', sa: APP_SA, controllerName: c.controllerName }));
    await waitForCondition(ns.name, 'tokens', 'SecretCreated', 'True', undefined, 60_000);
    const attrs = recorder.lastMount!.attributes;
    expect(attrs['csi.storage.k8s.io/serviceAccount.name']).toBe(APP_SA);
    expect(attrs['csi.storage.k8s.io/pod.namespace']).toBe(ns.name);
    const tokens = JSON.parse(attrs[TOKENS]!) as Record<string, { token: string; expirationTimestamp: string }>;
    expect(Object.keys(tokens)).toEqual(['vault']);
    const ttl = new Date(tokens.vault!.expirationTimestamp).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(8 * 60_000);
    expect(ttl).toBeLessThanOrEqual(600_000);

    for (const mount of ['jwt', 'kubernetes']) {
      const clientToken = await v.login(mount, ROLE, tokens.vault!.token);
      const kv = await v.api<{ data: { data: Record<string, string> } }>('GET', `secret/data/${ns.name}/app`, undefined, clientToken);
      expect(kv.data.data.password).toBe('s3cr3t-v1');
    }
    // The role is bound to audience `vault` and to ns/app: another audience or ServiceAccount gets nothing.
    const otherAudience = await serviceAccountToken(ns.name, APP_SA, ['not-vault'], 600);
    const otherSa = await serviceAccountToken(ns.name, 'intruder', ['vault'], 600);
    expect(await loginFails(v, 'jwt', otherAudience)).toMatch(/aud/i);
    expect(await loginFails(v, 'jwt', otherSa)).toMatch(/sub/i);
    expect(await loginFails(v, 'kubernetes', otherAudience)).toMatch(/audience|invalid|denied/i);
    expect(await loginFails(v, 'kubernetes', otherSa)).toMatch(/service account name not authorized|not authorized/i);
  }, 180_000);
});

describe('vault-csi-provider (real provider) -> Vault (real store)', () => {
  let provider: Component | undefined;
  afterAll(async () => { if (provider) await stopComponent(provider, 5_000); }, 30_000);

  providerTest('provider vault: the Secret gets the KV value, then the changed value after a poll, with JWT and Kubernetes auth', async () => {
    if (providerBin instanceof Error) throw unavailable('vault-csi-provider', providerBin.message);
    if (inClusterProblem) throw new Error(`vault-csi-provider needs an in-cluster config and this machine cannot give it one: ${inClusterProblem}`);
    const v = await vaultReady();
    const c = await controllerReady();
    const info = clusterInfo();

    // The provider's own identity: it reads its namespace file and gets or creates its HMAC key Secret there.
    const admin = adminConfig();
    const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
    await createServiceAccount(ns.name, 'vault-csi-provider');
    await rbac.createNamespacedRole({ namespace: ns.name, body: {
      metadata: { name: 'vault-csi-provider' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] }],
    } });
    await rbac.createNamespacedRoleBinding({ namespace: ns.name, body: {
      metadata: { name: 'vault-csi-provider' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'vault-csi-provider' },
      subjects: [{ kind: 'ServiceAccount', name: 'vault-csi-provider', namespace: ns.name }],
    } });
    const socket = join(c.providerVolume, 'vault.sock');
    const healthPort = await freePort();
    provider = startInCluster({
      name: 'vault-csi-provider', bin: providerBin,
      args: [`-endpoint=${socket}`, `-health-addr=127.0.0.1:${healthPort}`, `-vault-addr=${v.addr}`, '-log-level=debug'],
      workDir: work, pidFile: info.pidFile, server: info.server, caFile: info.caFile, namespace: ns.name,
      token: await serviceAccountToken(ns.name, 'vault-csi-provider', [], 3600),
    });
    await eventually(async () => {
      if (provider!.exitCode() !== undefined) throw new Error(`vault-csi-provider exited: ${logTail(provider!.logFile, 3)}`);
      return (await fetch(`http://127.0.0.1:${healthPort}/health/ready`).then((r) => r.status, () => 0)) === 200;
    }, 30_000, 250);

    const objects = `- objectName: password\n  secretPath: secret/data/${ns.name}/app\n  secretKey: password\n` +
      `- objectName: username\n  secretPath: secret/data/${ns.name}/app\n  secretKey: username\n`;
    const data = [{ sourcePath: 'password', targetKey: 'password' }, { sourcePath: 'username', targetKey: 'username' }];
    for (const mount of ['jwt', 'kubernetes']) {
      await createSpc(ns.name, spcBody(`vault-${mount}`, { roleName: ROLE, vaultAddress: v.addr, vaultAuthMountPath: mount, objects }, 'vault'));
      await createSecretSync(ns.name, secretSyncBody(`vault-${mount}`, { spc: `vault-${mount}`, sa: APP_SA, data, controllerName: c.controllerName }));
    }
    for (const mount of ['jwt', 'kubernetes']) {
      await waitForCondition(ns.name, `vault-${mount}`, 'SecretCreated', 'True', undefined, 60_000)
        .catch((err: Error) => { throw new Error(`${err.message}; provider log: ${logTail(provider!.logFile, 4)}`); });
      const s = await waitForSecret(ns.name, `vault-${mount}`);
      expect(decoded(s)).toEqual({ password: 's3cr3t-v1', username: 'svc-app' });
    }

    await v.kvPut(`${ns.name}/app`, { password: 's3cr3t-v2', username: 'svc-app' });
    for (const mount of ['jwt', 'kubernetes']) {
      const s = await waitForSecret(ns.name, `vault-${mount}`, (x) => decoded(x).password === 's3cr3t-v2', 60_000);
      expect(decoded(s)).toEqual({ password: 's3cr3t-v2', username: 'svc-app' });
    }
  }, 300_000);
});

/**
 * Provider plugins end to end against the real control plane, through the built `secrets-sync` CLI:
 * (a) a plugin written outside the repo as a user would is loaded by `run --plugin <path>` and syncs a Secret;
 * (b) the same plugin served by `serve-provider` and reached over the CSI gRPC socket gives identical results;
 * (c) faulty plugins give clear conditions while the controller keeps serving the others, and plugins that cannot
 *     load (another SDK major, a throwing import, bad options) are clear start-up errors.
 * Each controller handles only SecretSyncs with its own `spec.secretSyncControllerName`, so parallel suites and the
 * controllers of this file never touch each other's objects.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { MountRequest, MountResponse } from '../../core/ports/provider.js';
import { silentLogger } from '../../core/ports/observability.js';
import { transportsFor } from '../../plugins/host/index.js';
import { loadPlugins } from '../../plugins/host/loader.js';
import { CsiGrpcTransport } from '../../transports/csi-grpc/transport.js';
import { CONTROLLER_NAMESPACE, CONTROLLER_SA, installControllerIdentity, installCrds, serviceAccountKubeConfig } from '../cluster/install.js';
import { adminConfig, eventually, useNamespace } from '../cluster/testenv.js';
import { buildCli, CliProcess, removeBuild } from './cli.js';
import { ACME_AUDIENCE, writeUserPlugins, type UserPlugins } from './user-plugins.js';

const ns = useNamespace(import.meta.url);
const admin = adminConfig();
const core = admin.makeApiClient(k8s.CoreV1Api);
const objects = admin.makeApiClient(k8s.CustomObjectsApi);
const suffix = Math.random().toString(36).slice(2, 7);
const NAME = { a: `plugins-a-${suffix}`, b: `plugins-b-${suffix}`, c: `plugins-c-${suffix}` };

let root: string;
let plugins: UserPlugins;
let pluginConfig: string;
let kubeconfig: string;
let storeDir: string;
let socketDir: string;
let deployDir: string;
const processes: CliProcess[] = [];

function cli(args: string[], cwd = root): CliProcess {
  const p = new CliProcess(args, cwd);
  processes.push(p);
  return p;
}

const runFlags = () => [
  'run', '--kubeconfig', kubeconfig, '--metrics-bind-address=0', '--health-probe-bind-address=0',
  '--rotation-poll-interval=2s', '--token-request-audience', ACME_AUDIENCE,
];

function writeStore(name: string, value: string): void {
  mkdirSync(join(storeDir, ns.name), { recursive: true });
  writeFileSync(join(storeDir, ns.name, name), value);
}

async function createSpc(name: string, provider: string, parameters: Record<string, string>): Promise<void> {
  await objects.createNamespacedCustomObject({
    group: 'secrets-store.csi.x-k8s.io', version: 'v1', namespace: ns.name, plural: 'secretproviderclasses',
    body: { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name }, spec: { provider, parameters } },
  });
}

async function createSecretSync(name: string, spc: string, controller: string, keys: string[]): Promise<void> {
  await objects.createNamespacedCustomObject({
    group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns.name, plural: 'secretsyncs',
    body: {
      apiVersion: 'secret-sync.x-k8s.io/v1alpha1', kind: 'SecretSync', metadata: { name },
      spec: {
        secretSyncControllerName: controller, serviceAccountName: 'app', secretProviderClassName: spc,
        secretObject: { type: 'Opaque', data: keys.map((k) => ({ sourcePath: k, targetKey: k })) },
      },
    },
  });
}

interface Condition { type: string; status: string; reason: string; message: string }

async function conditions(name: string): Promise<Condition[]> {
  const ss = (await objects.getNamespacedCustomObject({ group: 'secret-sync.x-k8s.io', version: 'v1alpha1', namespace: ns.name, plural: 'secretsyncs', name })) as {
    status?: { conditions?: Condition[] };
  };
  return ss.status?.conditions ?? [];
}

async function waitForCondition(name: string, predicate: (c: Condition) => boolean, timeoutMs = 60_000): Promise<Condition> {
  return eventually(async () => {
    const found = (await conditions(name)).find(predicate);
    if (!found) throw new Error(`no matching condition on SecretSync ${name} yet: ${JSON.stringify(await conditions(name))}`);
    return found;
  }, timeoutMs, 250);
}

async function secretData(name: string): Promise<Record<string, string>> {
  const s = await core.readNamespacedSecret({ namespace: ns.name, name });
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

async function waitForSecret(name: string, predicate: (data: Record<string, string>) => boolean, timeoutMs = 60_000): Promise<Record<string, string>> {
  return eventually(async () => {
    const data = await secretData(name);
    if (!predicate(data)) throw new Error(`Secret ${name} not as expected yet: keys ${Object.keys(data).join(',')}`);
    return data;
  }, timeoutMs, 250);
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ssc-plugins-'));
  buildCli();
  plugins = writeUserPlugins(root);
  storeDir = join(root, 'store');
  socketDir = join(root, 'sock');
  mkdirSync(socketDir);
  // A deployment directory where the plugin is installed by package name, as a container image would.
  deployDir = join(root, 'deploy');
  mkdirSync(deployDir);
  writeFileSync(join(deployDir, 'package.json'), JSON.stringify({ name: 'deploy', private: true, dependencies: { 'acme-secrets': `file:${plugins.acme}` } }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: deployDir, stdio: 'pipe', env: { ...process.env, NODE_OPTIONS: '' } });
  pluginConfig = join(root, 'plugins.yaml');
  writeFileSync(pluginConfig, `plugins:\n  acme-secrets:\n    options:\n      dir: ${storeDir}\n      audience: ${ACME_AUDIENCE}\n`);

  await installCrds(admin);
  await installControllerIdentity(admin);
  kubeconfig = join(root, 'controller.kubeconfig');
  writeFileSync(kubeconfig, (await serviceAccountKubeConfig(admin, CONTROLLER_NAMESPACE, CONTROLLER_SA)).exportConfig());
  await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'app' } } });
  writeStore('username', 'admin');
  writeStore('password', 'p4ss-1');
  await createSpc('acme-spc', 'acme', { objects: 'username, password' });
}, 240_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  if (root) rmSync(root, { recursive: true, force: true });
  removeBuild();
});

describe('a plugin written outside the repo', () => {
  test('passes the conformance kit in its own project', () => {
    const out = execFileSync(process.execPath, ['conformance.mjs'], { cwd: plugins.acme, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const report = JSON.parse(out) as { passed: string[]; failed: unknown[] };
    expect(report.failed).toEqual([]);
    expect(report.passed.length).toBeGreaterThan(10);
  });

  test('(a) is loaded by `secrets-sync run --plugin <path>` and syncs a Secret, tokens and rotation included', async () => {
    const controller = cli([...runFlags(), '--controller-name', NAME.a, '--plugin', plugins.acme, '--plugin-config', pluginConfig]);
    const loaded = await controller.waitForLog((l) => l.msg === 'plugin loaded');
    expect(loaded).toMatchObject({ plugin: 'acme-secrets', version: '1.0.0', sdkVersion: '1.0.0', providers: ['acme'] });
    await controller.waitForLog((l) => l.msg === 'starting');
    await createSecretSync('creds-a', 'acme-spc', NAME.a, ['username', 'password', 'whoami']);
    const data = await waitForSecret('creds-a', (d) => d.password !== undefined);
    expect(data).toEqual({ username: 'admin', password: 'p4ss-1', whoami: `system:serviceaccount:${ns.name}:app aud=${ACME_AUDIENCE}` });
    await waitForCondition('creds-a', (c) => c.type === 'SecretCreated' && c.status === 'True');

    writeStore('password', 'p4ss-2');
    await waitForSecret('creds-a', (d) => d.password === 'p4ss-2');
    expect(controller.running).toBe(true);
  });

  test('(b) served by `serve-provider` and reached over the CSI gRPC socket, gives identical results', async () => {
    const bridge = cli(['serve-provider', '--plugin', plugins.acme, '--plugin-config', pluginConfig, '--name', 'acme', '--endpoint', `unix://${socketDir}/acme.sock`]);
    const serving = await bridge.waitForLog((l) => l.msg === 'serving plugin provider over CSI gRPC');
    expect(serving).toMatchObject({ plugin: 'acme-secrets', provider: 'acme', socket: join(socketDir, 'acme.sock') });

    // The controller has no --plugin: it finds the provider as <provider-volume>/acme.sock.
    const controller = cli([...runFlags(), '--controller-name', NAME.b, '--provider-volume', socketDir]);
    await controller.waitForLog((l) => l.msg === 'starting');
    await createSecretSync('creds-b', 'acme-spc', NAME.b, ['username', 'password', 'whoami']);
    const viaGrpc = await waitForSecret('creds-b', (d) => d.password !== undefined);
    expect(viaGrpc).toEqual(await secretData('creds-a'));
    await waitForCondition('creds-b', (c) => c.type === 'SecretCreated' && c.status === 'True');

    // The same request straight to both transports: same files and versions; the same plugin message on failure.
    const [loaded] = await loadPlugins({ specs: [plugins.acme], configFile: pluginConfig, logger: silentLogger });
    const [inProcess] = transportsFor([loaded!], { config: { maxCallRecvMsgSize: 4194304, providerTimeoutMs: 10_000 }, logger: silentLogger });
    const grpc = new CsiGrpcTransport({ providerName: 'acme', socketPath: join(socketDir, 'acme.sock') });
    try {
      const token = `x.${Buffer.from(JSON.stringify({ sub: 'system:serviceaccount:t:u', aud: [ACME_AUDIENCE] })).toString('base64url')}.y`;
      const request = (objectsParam: string): MountRequest => ({
        attributes: {
          objects: objectsParam,
          'csi.storage.k8s.io/pod.namespace': ns.name,
          'csi.storage.k8s.io/serviceAccount.name': 'app',
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ [ACME_AUDIENCE]: { token, expirationTimestamp: '2030-01-01T00:00:00Z' } }),
        },
        secrets: {}, targetPath: '/mnt/secrets-store', permission: '420', currentObjectVersions: [],
      });
      const opts = () => ({ signal: new AbortController().signal, deadline: Date.now() + 10_000 });
      const readable = (r: MountResponse) => ({ files: r.files.map((f) => [f.path, f.mode, Buffer.from(f.contents).toString()]), objectVersions: r.objectVersions });
      const a = readable(await inProcess!.mount(request('username,password'), opts()));
      expect(readable(await grpc.mount(request('username,password'), opts()))).toEqual(a);
      expect(a.files).toContainEqual(['whoami', 420, `system:serviceaccount:t:u aud=${ACME_AUDIENCE}`]);

      const local = (await inProcess!.mount(request('missing'), opts()).catch((e: Error) => e)) as Error & { reason: string };
      const remote = (await grpc.mount(request('missing'), opts()).catch((e: Error) => e)) as Error & { reason: string };
      const pluginMessage = `object "missing" not found for namespace ${ns.name}`;
      expect(local).toMatchObject({ reason: 'RemoteSecretStoreFetchFailed', message: pluginMessage });
      expect(remote).toMatchObject({ reason: 'ProviderError', message: `rpc error: code = NotFound desc = ${pluginMessage}` });
    } finally {
      await grpc.close();
      await inProcess!.close();
    }
  });
});

describe('faulty plugins', () => {
  const faulty: Record<string, RegExp> = {
    throws: /^fetching secrets from the provider failed: provider "throws" \(plugin "faulty-plugin" 1\.0\.0\) failed: Error: kaboom$/,
    hangs: /^fetching secrets from the provider failed: provider "hangs" \(plugin "faulty-plugin" 1\.0\.0\) did not answer within its deadline of \d+ ms$/,
    unsafe: /^fetching secrets from the provider failed: provider returned an unsafe file path "\.\.\/\.\.\/etc\/passwd": contains a "\.\." element$/,
    oversized: /^fetching secrets from the provider failed: provider "oversized" \(plugin "faulty-plugin" 1\.0\.0\) returned 2000\d\d bytes, over the max receive size of 65536 bytes; raise --max-call-recv-msg-size$/,
    garbage: /^fetching secrets from the provider failed: provider "garbage" \(plugin "faulty-plugin" 1\.0\.0\) returned an invalid result: the result is a number, not an object$/,
  };

  test('(c) each gives a clear condition, and the controller keeps serving the other providers', async () => {
    // The good plugin by package name, installed in the deployment directory; the faulty one by path.
    const controller = cli(
      [...runFlags(), '--controller-name', NAME.c, '--plugin', 'acme-secrets', '--plugin', plugins.faulty, '--plugin-config', pluginConfig,
        '--provider-timeout', '2s', '--max-call-recv-msg-size', '65536', '--concurrent', '4'],
      deployDir,
    );
    await controller.waitForLog((l) => l.msg === 'starting');
    expect(controller.lines.filter((l) => l.msg === 'plugin loaded').map((l) => l.plugin)).toEqual(['acme-secrets', 'faulty-plugin']);
    for (const provider of [...Object.keys(faulty), 'strayreject']) {
      await createSpc(`faulty-${provider}`, provider, { objects: 'x' });
      await createSecretSync(`faulty-${provider}`, `faulty-${provider}`, NAME.c, [provider === 'strayreject' ? 'stray' : 'x']);
    }
    const started = Date.now();
    await createSecretSync('creds-c', 'acme-spc', NAME.c, ['username', 'password']);
    await waitForSecret('creds-c', (d) => d.password === 'p4ss-2');
    // A hanging provider costs its own calls their deadline, not the other providers' syncs.
    expect(Date.now() - started).toBeLessThan(30_000);

    for (const [provider, message] of Object.entries(faulty)) {
      const c = await waitForCondition(`faulty-${provider}`, (x) => x.type === 'SecretCreated' && x.status === 'False' && message.test(x.message));
      expect(c.reason).toBe('ProviderError');
    }
    // A promise the plugin let go is logged, not fatal.
    expect(await waitForSecret('faulty-strayreject', (d) => d.stray !== undefined)).toEqual({ stray: 'value of stray' });
    await controller.waitForLog((l) => l.msg === 'unhandled promise rejection (a plugin bug?); continuing');

    writeStore('password', 'p4ss-3');
    await waitForSecret('creds-c', (d) => d.password === 'p4ss-3');
    expect(controller.running).toBe(true);
  });

  test.each([
    ['built for another SDK major', () => plugins.sdk2, /^error: cannot load plugins: plugin "[^"]+future-plugin": cannot load: it was built for plugin SDK 2\.0\.0 \(major 2\), this controller supports SDK 1\.x \(1\.0\.0\); rebuild it against @secrets-sync\/plugin-sdk 1\.x$/m],
    ['whose import throws', () => plugins.broken, /^error: cannot load plugins: plugin "[^"]+broken-plugin": cannot import [^ ]+\/index\.js: Error: ACME_REGION is not set$/m],
    ['that does not exist', () => './no-such-plugin', /^error: cannot load plugins: plugin "\.\/no-such-plugin": \/.+\/no-such-plugin does not exist$/m],
    ['not installed', () => '@acme/not-installed', /^error: cannot load plugins: plugin "@acme\/not-installed": package "@acme\/not-installed" is not installed/m],
  ])('a plugin %s is a start-up error naming it, for run and serve-provider', async (_what, plugin, message) => {
    const run = cli([...runFlags(), '--plugin', plugin()]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toMatch(message);
    const serve = cli(['serve-provider', '--plugin', plugin(), '--endpoint', `unix://${socketDir}/never.sock`]);
    expect(await serve.exited).toBe(1);
    expect(serve.stderr).toMatch(message);
  });

  test('bad plugin options are a start-up error naming the plugin and the file', async () => {
    const bad = join(root, 'bad-plugins.yaml');
    writeFileSync(bad, 'plugins:\n  acme-secrets:\n    options:\n      directory: /tmp\n');
    const run = cli([...runFlags(), '--plugin', plugins.acme, '--plugin-config', bad]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(`error: cannot load plugins: plugin "${plugins.acme}": invalid options: dir is required (from ${bad})`);
  });
});

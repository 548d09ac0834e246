/**
 * Behaviour beyond upstream's tests, on the real API server: re-sync on SPC edits and forceSynchronization,
 * key removal, self-healing of a deleted or edited Secret at the next poll without reading Secrets, recovery
 * clearing stale False conditions, GC, controller-name sharding, one worker per key, no-op polls.
 */
import * as k8s from '@kubernetes/client-node';
import type { MountRequest, MountResponse, CallOptions, ProviderTransport } from '../../core/ports/provider.js';
import { eventually, useNamespace, adminConfig } from '../cluster/testenv.js';
import { Status } from '@grpc/grpc-js/build/src/constants.js';
import {
  condition, core, createSecretSync, createSpc, decoded, deleteSecretSync, getSecretSync, patchSecretSync, patchSpc,
  readSecret, secretSyncBody, spcBody, startController, waitForCondition, waitForSecret, events, type ControllerHandle,
} from './harness.js';

const ns = useNamespace(import.meta.url);
let ctl: ControllerHandle;

/** A provider that counts concurrent mounts per ServiceAccount name (one SA per SecretSync in that test). */
class ConcurrencyProbe implements ProviderTransport {
  readonly providerName = 'probe';
  readonly kind = 'in-process' as const;
  inFlight = new Map<string, number>();
  maxPerKey = 0;
  maxTotal = 0;
  calls = 0;
  async mount(req: MountRequest, _o: CallOptions): Promise<MountResponse> {
    const key = req.attributes['csi.storage.k8s.io/serviceAccount.name'];
    const n = (this.inFlight.get(key) ?? 0) + 1;
    this.inFlight.set(key, n);
    this.calls++;
    this.maxPerKey = Math.max(this.maxPerKey, n);
    this.maxTotal = Math.max(this.maxTotal, [...this.inFlight.values()].reduce((a, b) => a + b, 0));
    await new Promise((r) => setTimeout(r, 150));
    this.inFlight.set(key, this.inFlight.get(key)! - 1);
    return { files: [{ path: 'foo', contents: Buffer.from(`v-${this.calls}`) }], objectVersions: [{ id: 'secret/foo', version: String(this.calls) }] };
  }
  async version() { return { version: 'v1alpha1', runtimeName: 'probe', runtimeVersion: '0' }; }
  async close() {}
}
const probe = new ConcurrencyProbe();

beforeAll(async () => {
  ctl = await startController({ flags: ['--rotation-poll-interval=2s', '--concurrent=4'], providers: [probe] });
}, 60_000);
afterAll(async () => { await ctl?.stop(); });

const mine = () => ({ controllerName: ctl.controllerName });

test('an SPC edit re-syncs the SecretSyncs that use it (no poll needed)', async () => {
  await createSpc(ns.name, spcBody('edit-spc', { objects: '- objectName: foo\n  value: one\n' }));
  await createSecretSync(ns.name, secretSyncBody('spc-edit', { spc: 'edit-spc', ...mine() }));
  await waitForSecret(ns.name, 'spc-edit', (s) => decoded(s).bar === 'one');
  await patchSpc(ns.name, 'edit-spc', { spec: { parameters: { objects: '- objectName: foo\n  value: two\n' } } });
  await waitForSecret(ns.name, 'spc-edit', (s) => decoded(s).bar === 'two', 5_000);
});

test('changing forceSynchronization re-syncs', async () => {
  await createSpc(ns.name, spcBody('force-spc', { objects: '- foo\n' }));
  await createSecretSync(ns.name, secretSyncBody('force', { spc: 'force-spc', ...mine() }));
  const before = await waitForCondition(ns.name, 'force', 'SecretUpdated', 'True');
  await patchSecretSync(ns.name, 'force', { spec: { forceSynchronization: 'run-2' } });
  await eventually(async () => (await getSecretSync(ns.name, 'force')).status?.syncHash !== before.status?.syncHash, 10_000);
});

test('a data key removed from the spec disappears from the Secret', async () => {
  await createSpc(ns.name, spcBody('two-keys', { objects: '- foo\n- bar\n' }));
  await createSecretSync(ns.name, secretSyncBody('two-keys', {
    spc: 'two-keys', ...mine(), data: [{ sourcePath: 'foo', targetKey: 'a' }, { sourcePath: 'bar', targetKey: 'b' }],
  }));
  await waitForSecret(ns.name, 'two-keys', (s) => Object.keys(s.data ?? {}).sort().join() === 'a,b');
  await patchSecretSync(ns.name, 'two-keys', { spec: { secretObject: { data: [{ sourcePath: 'foo', targetKey: 'a' }] } } });
  await waitForSecret(ns.name, 'two-keys', (s) => Object.keys(s.data ?? {}).join() === 'a', 10_000);
});

test('a Secret deleted by hand is restored at the next poll', async () => {
  await createSpc(ns.name, spcBody('heal', { objects: '- foo\n' }));
  await createSecretSync(ns.name, secretSyncBody('heal', { spc: 'heal', ...mine() }));
  await waitForSecret(ns.name, 'heal');
  await core().deleteNamespacedSecret({ namespace: ns.name, name: 'heal' });
  expect(await readSecret(ns.name, 'heal')).toBeUndefined();
  const restored = await waitForSecret(ns.name, 'heal', () => true, 10_000);
  expect(decoded(restored)).toEqual({ bar: 'foo-value-v1' });
  expect(restored.metadata?.ownerReferences?.[0]?.name).toBe('heal');
});

test('a value edited by hand is restored at the next poll', async () => {
  await waitForSecret(ns.name, 'heal');
  await core().patchNamespacedSecret({ namespace: ns.name, name: 'heal', body: { data: { bar: Buffer.from('tampered').toString('base64') } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  expect(decoded(await readSecret(ns.name, 'heal')).bar).toBe('tampered');
  await waitForSecret(ns.name, 'heal', (s) => decoded(s).bar === 'foo-value-v1', 10_000);
  const evs = await events(ns.name);
  expect(evs.some((e) => e.reason === 'SecretRestored' && e.involvedObject.name === 'heal')).toBe(true);
});

test('a poll with unchanged data does not change the Secret resourceVersion', async () => {
  const s1 = await waitForSecret(ns.name, 'heal', (s) => decoded(s).bar === 'foo-value-v1');
  const synced = (await getSecretSync(ns.name, 'heal')).status?.lastSuccessfulSyncTime;
  await new Promise((r) => setTimeout(r, 4_500)); // two poll intervals (2 s ± 10 %): two re-applies of 'heal'
  expect((await getSecretSync(ns.name, 'heal')).status?.lastSuccessfulSyncTime).toBe(synced);
  const s2 = await readSecret(ns.name, 'heal');
  expect(s2?.metadata?.resourceVersion).toBe(s1.metadata?.resourceVersion);
});

test('recovery clears a stale False condition (create path and update path)', async () => {
  await createSecretSync(ns.name, secretSyncBody('recover', { spc: 'recover-spc', ...mine() }));
  await waitForCondition(ns.name, 'recover', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
  await createSpc(ns.name, spcBody('recover-spc', { objects: '- foo\n' }));
  let ss = await waitForCondition(ns.name, 'recover', 'SecretCreated', 'True', 'CreateSuccessful', 10_000);
  expect(condition(ss, 'SecretUpdated')).toMatchObject({ status: 'True', reason: 'SecretUpToDate' });
  ctl.fake.setError({ code: Status.UNAVAILABLE, details: 'store is down' });
  ss = await waitForCondition(ns.name, 'recover', 'SecretUpdated', 'False', 'ProviderError', 15_000);
  expect(condition(ss, 'SecretUpdated')!.message).toMatch(/^fetching secrets from the provider failed: /);
  ctl.fake.setError(undefined);
  // The data did not change, so the hash is the same: upstream left the False condition in place here.
  ss = await waitForCondition(ns.name, 'recover', 'SecretUpdated', 'True', 'SecretUpToDate', 15_000);
  expect(condition(ss, 'SecretCreated')).toMatchObject({ status: 'True' });
});

test('deleting the SecretSync garbage-collects the Secret', async () => {
  await waitForSecret(ns.name, 'recover');
  await deleteSecretSync(ns.name, 'recover');
  await eventually(async () => (await readSecret(ns.name, 'recover')) === undefined, 30_000);
});

test('a SecretSync for another controller name is left alone', async () => {
  await createSpc(ns.name, spcBody('other-ctl', { objects: '- foo\n' }));
  await createSecretSync(ns.name, secretSyncBody('not-mine', { spc: 'other-ctl', controllerName: 'someone-else' }));
  await createSecretSync(ns.name, secretSyncBody('mine', { spc: 'other-ctl', ...mine() }));
  await waitForSecret(ns.name, 'mine');
  await new Promise((r) => setTimeout(r, 3000)); // more than a poll interval
  expect(await readSecret(ns.name, 'not-mine')).toBeUndefined();
  expect((await getSecretSync(ns.name, 'not-mine')).status).toBeUndefined();
});

test('no key is processed by two workers at once, while different keys run in parallel', async () => {
  const names = ['w1', 'w2', 'w3', 'w4'];
  await createSpc(ns.name, spcBody('probe-spc', { x: 'y' }, 'probe'));
  for (const n of names) await createSecretSync(ns.name, secretSyncBody(n, { spc: 'probe-spc', sa: `sa-${n}`, ...mine(), data: [{ sourcePath: 'foo', targetKey: 'k' }] }));
  // Hammer each key with spec changes while its reconciles (150 ms each) are running.
  for (let i = 0; i < 6; i++) {
    await Promise.all(names.map((n) => patchSecretSync(ns.name, n, { spec: { forceSynchronization: `f${i}` } })));
    await new Promise((r) => setTimeout(r, 60));
  }
  await eventually(async () => [...probe.inFlight.values()].every((v) => v === 0) && probe.calls >= 8, 20_000);
  expect(probe.maxPerKey).toBe(1);
  expect(probe.maxTotal).toBeGreaterThan(1);
});

test('events are recorded for created and failed syncs', async () => {
  const evs = await events(ns.name);
  expect(evs.some((e) => e.reason === 'SecretCreated' && e.type === 'Normal' && e.source?.component === 'secret-sync-controller')).toBe(true);
  expect(evs.some((e) => e.reason === 'ProviderError' && e.type === 'Warning')).toBe(true);
  expect(evs.some((e) => e.reason === 'SecretProviderClassMisconfigured' && e.type === 'Warning')).toBe(true);
  void adminConfig;
});

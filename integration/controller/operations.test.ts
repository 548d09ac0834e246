/**
 * Operations on the real API server: leader election on a Lease (two instances, only the leader reconciles;
 * a crashed leader is replaced within the lease duration; a gracefully stopped one at once), /healthz, /readyz
 * and /metrics.
 */
import * as k8s from '@kubernetes/client-node';
import { freePort } from '../cluster/processes.js';
import { adminConfig, eventually, useNamespace } from '../cluster/testenv.js';
import { CONTROLLER_NAMESPACE } from '../cluster/install.js';
import { FakeProvider } from '../../transports/fake/fake-provider.js';
import { createSecretSync, createSpc, secretSyncBody, spcBody, startController, waitForSecret, type ControllerHandle } from './harness.js';

const ns = useNamespace(import.meta.url);

describe('leader election', () => {
  const lease = `ssc-test-${Math.random().toString(36).slice(2, 8)}`;
  const name = `le-${Math.random().toString(36).slice(2, 6)}`;
  const flags = (releaseOnCancel: boolean) => [
    '--leader-elect', `--leader-election-id=${lease}`, `--leader-election-namespace=${CONTROLLER_NAMESPACE}`,
    '--leader-election-lease-duration=4s', '--leader-election-renew-deadline=3s', '--leader-election-retry-period=500ms',
    `--leader-election-release-on-cancel=${releaseOnCancel}`,
  ];
  let a: ControllerHandle | undefined;
  let b: ControllerHandle | undefined;
  let c: ControllerHandle | undefined;
  afterAll(async () => { for (const x of [a, b, c]) await x?.stop().catch(() => undefined); });

  test('only the leader reconciles; a crashed leader is replaced within the lease duration', async () => {
    a = await startController({ controllerName: name, flags: flags(false), fake: new FakeProvider({ providerName: 'fake' }) });
    await createSpc(ns.name, spcBody('le', { objects: '- foo\n' }));
    await createSecretSync(ns.name, secretSyncBody('first', { spc: 'le', controllerName: name }));
    await waitForSecret(ns.name, 'first');
    b = await startController({ controllerName: name, flags: flags(false), fake: new FakeProvider({ providerName: 'fake' }) });
    await createSecretSync(ns.name, secretSyncBody('second', { spc: 'le', controllerName: name }));
    await waitForSecret(ns.name, 'second');
    await new Promise((r) => setTimeout(r, 1500));
    expect(a.fake.mountCount).toBeGreaterThanOrEqual(2);
    expect(b.fake.mountCount).toBe(0);
    const coordination = adminConfig().makeApiClient(k8s.CoordinationV1Api);
    const held = await coordination.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: lease });
    const holderA = held.spec?.holderIdentity;
    expect(holderA).toBeTruthy();

    const crashedAt = Date.now();
    await a.stop(); // no release: like a killed pod, the lease must expire
    a = undefined;
    await createSecretSync(ns.name, secretSyncBody('third', { spc: 'le', controllerName: name }));
    await waitForSecret(ns.name, 'third', () => true, 20_000);
    const takeover = Date.now() - crashedAt;
    expect(b.fake.mountCount).toBeGreaterThanOrEqual(1);
    expect(takeover).toBeLessThan(4_000 + 3_000); // lease duration plus a retry period and the sync itself
    const now = await coordination.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: lease });
    expect(now.spec?.holderIdentity).not.toBe(holderA);
    expect(now.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
  });

  test('a gracefully stopped leader releases the lease and a standby takes over at once', async () => {
    c = await startController({ controllerName: name, flags: flags(true), fake: new FakeProvider({ providerName: 'fake' }) });
    // b leads (it took over above); restart it as a releasing instance to test the graceful path.
    await b!.stop();
    b = undefined;
    const stoppedAt = Date.now();
    await createSecretSync(ns.name, secretSyncBody('fourth', { spc: 'le', controllerName: name }));
    await waitForSecret(ns.name, 'fourth', () => true, 20_000);
    // b did not release (flags(false)): c waits out the lease. Now stop c gracefully and start a standby.
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    b = await startController({ controllerName: name, flags: flags(true), fake: new FakeProvider({ providerName: 'fake' }) });
    await c.stop();
    c = undefined;
    const releasedAt = Date.now();
    await createSecretSync(ns.name, secretSyncBody('fifth', { spc: 'le', controllerName: name }));
    await waitForSecret(ns.name, 'fifth', () => true, 20_000);
    expect(Date.now() - releasedAt).toBeLessThan(3_000); // well under the 4 s lease duration
  });
});

describe('probes and metrics', () => {
  let ctl: ControllerHandle;
  let probe: number;
  let metrics: number;
  beforeAll(async () => {
    [probe, metrics] = await Promise.all([freePort(), freePort()]);
    ctl = await startController({ servers: { probe, metrics } });
  }, 60_000);
  afterAll(async () => { await ctl?.stop(); });

  test('/healthz and /readyz answer 200 once the caches have synced', async () => {
    expect((await fetch(`http://127.0.0.1:${probe}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${probe}/readyz`)).status).toBe(200);
  });

  test('/metrics reports syncs by result and reason, provider latency, queue depth and last sync time', async () => {
    await createSpc(ns.name, spcBody('metrics', { objects: '- foo\n' }));
    await createSecretSync(ns.name, secretSyncBody('metrics-ok', { spc: 'metrics', controllerName: ctl.controllerName }));
    await createSecretSync(ns.name, secretSyncBody('metrics-bad', { spc: 'nope', controllerName: ctl.controllerName }));
    await waitForSecret(ns.name, 'metrics-ok');
    const text = await eventually(async () => {
      const t = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
      if (!t.includes('reason="SecretProviderClassMisconfigured"')) throw new Error('no error metric yet');
      return t;
    }, 15_000);
    expect(text).toMatch(/secretsync_syncs_total\{result="success",reason=""\} [1-9]/);
    expect(text).toMatch(/secretsync_syncs_total\{result="error",reason="SecretProviderClassMisconfigured"\} [1-9]/);
    expect(text).toMatch(/secretsync_provider_call_duration_seconds_count\{provider="fake",result="success"\} [1-9]/);
    expect(text).toContain('secretsync_queue_depth');
    expect(text).toMatch(new RegExp(`secretsync_last_successful_sync_timestamp_seconds\\{namespace="${ns.name}",name="metrics-ok"\\} \\d+`));
    expect(text).toContain('secretsync_sync_duration_seconds_bucket');
  });
});

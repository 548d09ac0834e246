/**
 * ServiceAccount tokens and Mount attributes on the real API server: one TokenRequest per audience for the
 * SecretSync's ServiceAccount, per-provider audiences (each provider gets only its own), audiences trimmed,
 * the exact attribute JSON, and tokens the API server itself authenticates as that ServiceAccount.
 */
import * as k8s from '@kubernetes/client-node';
import { FakeProvider, FakeProviderTransport } from '../../transports/fake/fake-provider.js';
import { adminConfig, useNamespace } from '../cluster/testenv.js';
import { createSecretSync, createServiceAccount, createSpc, secretSyncBody, spcBody, startController, waitForSecret, type ControllerHandle } from './harness.js';

const ns = useNamespace(import.meta.url);
let ctl: ControllerHandle;
const other = new FakeProvider({ providerName: 'other' });

beforeAll(async () => {
  ctl = await startController({
    flags: ['--token-request-audience= aud-a , aud-b ,', '--provider-token-audiences=other=aud-c'],
    providers: [new FakeProviderTransport(other)],
  });
}, 60_000);
afterAll(async () => { await ctl?.stop(); });

async function review(token: string, audience: string): Promise<k8s.V1TokenReviewStatus | undefined> {
  const auth = adminConfig().makeApiClient(k8s.AuthenticationV1Api);
  return (await auth.createTokenReview({ body: { spec: { token, audiences: [audience] } } })).status;
}

test('the provider gets one token per configured audience for the SecretSync\'s ServiceAccount, and the pod attributes', async () => {
  await createServiceAccount(ns.name, 'app');
  await createSpc(ns.name, spcBody('tok', { objects: '- foo\n', 'csi.storage.k8s.io/pod.namespace': 'spoofed' }));
  await createSecretSync(ns.name, secretSyncBody('tok', { spc: 'tok', sa: 'app', controllerName: ctl.controllerName }));
  await waitForSecret(ns.name, 'tok');
  const attrs = ctl.fake.lastMount!.attributes;
  expect(attrs['csi.storage.k8s.io/pod.namespace']).toBe(ns.name); // user values for these keys are overwritten
  expect(attrs['csi.storage.k8s.io/serviceAccount.name']).toBe('app');
  expect(attrs['csi.storage.k8s.io/pod.name']).toMatch(/^ssc-test-pod-/);
  expect(attrs['csi.storage.k8s.io/pod.uid']).toBe('ssc-test-uid');
  expect(attrs.objects).toBe('- foo\n');
  const tokens = JSON.parse(attrs['csi.storage.k8s.io/serviceAccount.tokens']) as Record<string, { token: string; expirationTimestamp: string }>;
  expect(Object.keys(tokens)).toEqual(['aud-a', 'aud-b']); // trimmed, empty dropped
  for (const [aud, t] of Object.entries(tokens)) {
    expect(t.expirationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const lifetime = Date.parse(t.expirationTimestamp) - Date.now();
    expect(lifetime).toBeGreaterThan(500_000);
    expect(lifetime).toBeLessThanOrEqual(600_000);
    const st = await review(t.token, aud);
    expect(st?.authenticated).toBe(true);
    expect(st?.user?.username).toBe(`system:serviceaccount:${ns.name}:app`);
    expect(st?.audiences).toEqual([aud]);
  }
  // A token for aud-a is not accepted for aud-b.
  expect((await review(tokens['aud-a'].token, 'aud-b'))?.authenticated).toBeFalsy();
});

test('a provider with its own audiences gets only those tokens', async () => {
  await createSpc(ns.name, spcBody('tok-other', { objects: '- foo\n' }, 'other'));
  await createSecretSync(ns.name, secretSyncBody('tok-other', { spc: 'tok-other', sa: 'app', controllerName: ctl.controllerName }));
  await waitForSecret(ns.name, 'tok-other');
  const tokens = JSON.parse(other.lastMount!.attributes['csi.storage.k8s.io/serviceAccount.tokens']) as Record<string, { token: string }>;
  expect(Object.keys(tokens)).toEqual(['aud-c']);
  expect((await review(tokens['aud-c'].token, 'aud-c'))?.user?.username).toBe(`system:serviceaccount:${ns.name}:app`);
});

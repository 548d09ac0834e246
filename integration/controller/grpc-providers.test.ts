/**
 * Providers reached over real unix sockets (the fake served as a CSIDriverProvider gRPC server in the
 * provider volume), with the controller on the real API server: a socket that appears later, a provider killed
 * mid-call and restarted, a provider that hangs (deadline) while another carries on, an oversized response.
 */
import { join } from 'node:path';
import { FakeProvider } from '../../transports/fake/fake-provider.js';
import { startFakeProviderServer, type FakeProviderServer } from '../../transports/fake/grpc-server.js';
import { eventually, useNamespace } from '../cluster/testenv.js';
import {
  condition, createSecretSync, createSpc, decoded, events, secretSyncBody, spcBody, startController, waitForCondition, waitForSecret,
  type ControllerHandle,
} from './harness.js';

const ns = useNamespace(import.meta.url);
let ctl: ControllerHandle;
const servers: FakeProviderServer[] = [];

async function serve(name: string, provider = new FakeProvider({ providerName: name })): Promise<{ provider: FakeProvider; server: FakeProviderServer }> {
  const server = await startFakeProviderServer({ socketPath: join(ctl.providerVolume, `${name}.sock`), provider });
  servers.push(server);
  return { provider, server };
}

beforeAll(async () => {
  ctl = await startController({ flags: ['--provider-timeout=2s', '--rotation-poll-interval=30s', '--concurrent=4'] });
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.stop(100).catch(() => undefined);
  await ctl?.stop();
});

const mine = () => ({ controllerName: ctl.controllerName });

test('a provider socket that appears later: SecretProviderClassMisconfigured, then synced once it is there', async () => {
  await createSpc(ns.name, spcBody('late', { objects: '- foo\n' }, 'late'));
  await createSecretSync(ns.name, secretSyncBody('late', { spc: 'late', ...mine() }));
  const ss = await waitForCondition(ns.name, 'late', 'SecretCreated', 'False', 'SecretProviderClassMisconfigured');
  expect(condition(ss, 'SecretCreated')!.message).toBe('fetching secrets from the provider failed: provider not found: provider "late"');
  await serve('late');
  await waitForCondition(ns.name, 'late', 'SecretCreated', 'True', 'CreateSuccessful', 60_000);
  expect(decoded(await waitForSecret(ns.name, 'late'))).toEqual({ bar: 'foo-value-v1' });
});

test('a provider killed mid-call gives ProviderError, and the sync recovers when it is back on the same socket', async () => {
  const { provider, server } = await serve('crashy');
  provider.setHang(true);
  await createSpc(ns.name, spcBody('crashy', { objects: '- foo\n' }, 'crashy'));
  await createSecretSync(ns.name, secretSyncBody('crashy', { spc: 'crashy', ...mine() }));
  await new Promise((r) => setTimeout(r, 500)); // the Mount is now hanging in the provider
  server.kill();
  // The call in flight fails with ProviderError; retries then find no socket (the in-process kill removes it),
  // so the condition may already have moved on to SecretProviderClassMisconfigured: read the Warning event.
  const failed = await eventually(async () => {
    const e = (await events(ns.name)).find((x) => x.involvedObject.name === 'crashy' && x.reason === 'ProviderError');
    if (!e) throw new Error('no ProviderError event yet');
    return e;
  }, 20_000);
  expect(failed.message).toMatch(/^fetching secrets from the provider failed: rpc error: code = /);
  expect(condition(await waitForCondition(ns.name, 'crashy', 'SecretCreated', 'False'), 'SecretCreated')!.reason).toMatch(/^(ProviderError|SecretProviderClassMisconfigured)$/);
  await serve('crashy');
  await waitForCondition(ns.name, 'crashy', 'SecretCreated', 'True', 'CreateSuccessful', 60_000);
});

test('a provider that hangs hits the deadline while syncs through another provider carry on', async () => {
  const slow = await serve('slow');
  slow.provider.setHang(true);
  await serve('quick');
  await createSpc(ns.name, spcBody('slow', { objects: '- foo\n' }, 'slow'));
  await createSpc(ns.name, spcBody('quick', { objects: '- foo\n' }, 'quick'));
  for (let i = 0; i < 3; i++) await createSecretSync(ns.name, secretSyncBody(`slow-${i}`, { spc: 'slow', ...mine() }));
  const t0 = Date.now();
  for (let i = 0; i < 3; i++) await createSecretSync(ns.name, secretSyncBody(`quick-${i}`, { spc: 'quick', ...mine() }));
  for (let i = 0; i < 3; i++) await waitForSecret(ns.name, `quick-${i}`);
  expect(Date.now() - t0).toBeLessThan(10_000);
  const ss = await waitForCondition(ns.name, 'slow-0', 'SecretCreated', 'False', 'ProviderError', 20_000);
  expect(condition(ss, 'SecretCreated')!.message).toBe('fetching secrets from the provider failed: rpc error: code = DeadlineExceeded desc = context deadline exceeded');
  slow.provider.setHang(false);
});

test('an oversized provider response gives a clear ProviderError', async () => {
  const { provider } = await serve('huge');
  provider.setFiles([{ path: 'foo', contents: Buffer.alloc(5 * 1024 * 1024, 'z') }]);
  await createSpc(ns.name, spcBody('huge', { objects: '- foo\n' }, 'huge'));
  await createSecretSync(ns.name, secretSyncBody('huge', { spc: 'huge', ...mine() }));
  const ss = await waitForCondition(ns.name, 'huge', 'SecretCreated', 'False', 'ProviderError', 20_000);
  expect(condition(ss, 'SecretCreated')!.message).toBe('fetching secrets from the provider failed: provider response exceeds the max receive size of 4194304 bytes; raise --max-call-recv-msg-size');
});

/**
 * A corpus of malformed SecretSyncs and SecretProviderClasses. Each ends with a clear condition (reason and
 * message a user can act on) or an admission error; the controller keeps serving; no existing Secret is
 * deleted or corrupted; and a canary secret value and the ServiceAccount tokens never reach logs, events,
 * conditions or metrics.
 */
import { Status } from '@grpc/grpc-js/build/src/constants.js';
import { apiErrorMessage, eventually, useNamespace } from '../cluster/testenv.js';
import { FakeProvider, FakeProviderTransport } from '../../transports/fake/fake-provider.js';
import {
  condition, createSecretSync, createSpc, decoded, events, getSecretSync, patchSecretSync, readSecret, secretSyncBody,
  spcBody, startController, waitForCondition, waitForSecret, type ControllerHandle, type SecretSyncSpec,
} from './harness.js';

const ns = useNamespace(import.meta.url);
const other = useNamespace('bad-input-other.test.ts');
const CANARY = 'CANARY-3f9c2a7e51d04b86';
let ctl: ControllerHandle;

const providers = {
  big: new FakeProvider({ providerName: 'big' }),
  huge: new FakeProvider({ providerName: 'huge' }),
  errcode: new FakeProvider({ providerName: 'errcode' }),
  noversions: new FakeProvider({ providerName: 'noversions' }),
  down: new FakeProvider({ providerName: 'down' }),
  garbage: new FakeProvider({ providerName: 'garbage' }),
};

beforeAll(async () => {
  providers.big.setFiles([{ path: 'foo', contents: Buffer.alloc(1024 * 1024 + 10, 'a') }]);
  providers.huge.setFiles([{ path: 'foo', contents: Buffer.alloc(5 * 1024 * 1024, 'b') }]);
  providers.errcode.setProviderErrorCode('StoreQuotaExceeded');
  providers.noversions.setObjectVersions([]);
  providers.down.setError({ code: Status.UNAVAILABLE, details: 'connection refused' });
  providers.garbage.setFiles([{ path: 'foo', contents: Buffer.from('not a certificate and not PKCS#12') }]);
  ctl = await startController({
    flags: ['--rotation-poll-interval=3s', '--token-request-audience=test-audience'],
    providers: Object.values(providers).map((p) => new FakeProviderTransport(p)),
  });
  // A good SecretSync whose Secret must survive everything below untouched.
  await createSpc(ns.name, spcBody('good', { objects: `- objectName: foo\n  value: ${CANARY}\n` }));
  await createSecretSync(ns.name, secretSyncBody('good', { spc: 'good', controllerName: ctl.controllerName }));
  await waitForSecret(ns.name, 'good', (s) => decoded(s).bar === CANARY);
}, 90_000);
afterAll(async () => { await ctl?.stop(); });

interface Case {
  name: string;
  spc?: object;
  spcNamespace?: string;
  ss: SecretSyncSpec;
  reason: string;
  message: string | RegExp;
}

const TLS = 'kubernetes.io/tls';
const spcs: [string, object][] = [
  ['plain', spcBody('plain', { objects: '- foo\n- bar\n' })],
  ['bad-name', spcBody('bad-name', { objects: '- foo\n' }, 'bad/name')],
  ['long-name', spcBody('long-name', { objects: '- foo\n' }, 'p'.repeat(31))],
  ['unknown', spcBody('unknown', { objects: '- foo\n' }, 'vault-not-installed')],
  ['no-provider', { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name: 'no-provider' }, spec: { parameters: { objects: '- foo\n' } } }],
  ['no-params', spcBody('no-params', null)],
  ['no-objects', spcBody('no-objects', { something: 'else' })],
  ['bad-yaml', spcBody('bad-yaml', { objects: '- [unclosed' })],
  ['big', spcBody('big', { objects: '- foo\n' }, 'big')],
  ['huge', spcBody('huge', { objects: '- foo\n' }, 'huge')],
  ['errcode', spcBody('errcode', { objects: '- foo\n' }, 'errcode')],
  ['noversions', spcBody('noversions', { objects: '- foo\n' }, 'noversions')],
  ['down', spcBody('down', { objects: '- foo\n' }, 'down')],
  ['garbage', spcBody('garbage', { objects: '- foo\n' }, 'garbage')],
];

const PREFIX = 'fetching secrets from the provider failed: ';
const cases: Case[] = [
  { name: 'no-spc', ss: { spc: 'does-not-exist' }, reason: 'SecretProviderClassMisconfigured', message: 'failed to get SecretProviderClass "does-not-exist": SecretProviderClass.secrets-store.csi.x-k8s.io "does-not-exist" not found' },
  { name: 'spc-elsewhere', ss: { spc: 'only-in-other' }, reason: 'SecretProviderClassMisconfigured', message: 'failed to get SecretProviderClass "only-in-other": SecretProviderClass.secrets-store.csi.x-k8s.io "only-in-other" not found' },
  { name: 'invalid-provider', ss: { spc: 'bad-name' }, reason: 'SecretProviderClassMisconfigured', message: `${PREFIX}invalid provider: provider "bad/name"` },
  { name: 'provider-name-too-long', ss: { spc: 'long-name' }, reason: 'SecretProviderClassMisconfigured', message: `${PREFIX}invalid provider: provider "${'p'.repeat(31)}"` },
  { name: 'unknown-provider', ss: { spc: 'unknown' }, reason: 'SecretProviderClassMisconfigured', message: `${PREFIX}provider not found: provider "vault-not-installed"` },
  { name: 'spc-without-provider', ss: { spc: 'no-provider' }, reason: 'SecretProviderClassMisconfigured', message: 'SecretProviderClass "no-provider" has no spec.provider: set it to the provider\'s name (for example vault, azure, aws, gcp)' },
  { name: 'spc-without-parameters', ss: { spc: 'no-params' }, reason: 'SecretProviderClassMisconfigured', message: 'SecretProviderClass "no-params" has no spec.parameters: providers need their parameters (for example objects)' },
  { name: 'provider-rejects-parameters', ss: { spc: 'no-objects' }, reason: 'ProviderError', message: /^fetching secrets from the provider failed: .*objects is not set/ },
  { name: 'provider-rejects-yaml', ss: { spc: 'bad-yaml' }, reason: 'ProviderError', message: /^fetching secrets from the provider failed: .*failed to parse/ },
  { name: 'source-path-not-returned', ss: { spc: 'plain', data: [{ sourcePath: 'nope', targetKey: 'x' }] }, reason: 'RemoteSecretStoreFetchFailed', message: `${PREFIX}file matching sourcePath nope not found in the pod` },
  { name: 'data-over-1mib', ss: { spc: 'big' }, reason: 'RemoteSecretStoreFetchFailed', message: /^fetching secrets from the provider failed: .*1048576/ },
  { name: 'response-over-max-receive-size', ss: { spc: 'huge' }, reason: 'ProviderError', message: /^fetching secrets from the provider failed: .*max-call-recv-msg-size/ },
  { name: 'provider-error-code', ss: { spc: 'errcode' }, reason: 'ProviderError', message: `${PREFIX}mount request failed with provider error code StoreQuotaExceeded` },
  { name: 'missing-object-versions', ss: { spc: 'noversions' }, reason: 'ProviderError', message: `${PREFIX}missing object versions` },
  { name: 'provider-unavailable', ss: { spc: 'down' }, reason: 'ProviderError', message: /^fetching secrets from the provider failed: .*connection refused/ },
  { name: 'tls-broken-cert', ss: { spc: 'garbage', type: TLS, data: [{ sourcePath: 'foo', targetKey: 'tls.crt' }] }, reason: 'RemoteSecretStoreFetchFailed', message: /^fetching secrets from the provider failed: failed to get cert data for tls.crt: / },
  { name: 'tls-broken-key', ss: { spc: 'garbage', type: TLS, data: [{ sourcePath: 'foo', targetKey: 'tls.key' }] }, reason: 'RemoteSecretStoreFetchFailed', message: /^fetching secrets from the provider failed: failed to get cert data for tls.key: / },
  { name: 'tls-unsupported-key', ss: { spc: 'plain', type: TLS, data: [{ sourcePath: 'foo', targetKey: 'ca.crt' }] }, reason: 'RemoteSecretStoreFetchFailed', message: `${PREFIX}failed to get cert data for ca.crt: key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported` },
  { name: 'unknown-service-account', ss: { spc: 'plain', sa: 'ghost' }, reason: 'ControllerSyncError', message: /^fetching secrets from the provider failed: .*"ghost".*not found/ },
  { name: 'invalid-annotation-key', ss: { spc: 'plain', annotations: { 'no spaces allowed': 'x' } }, reason: 'ControllerPatchError', message: /^failed to patch secret "invalid-annotation-key": Secret "invalid-annotation-key" is invalid: metadata.annotations/ },
  { name: 'dockerconfigjson-not-json', ss: { spc: 'plain', type: 'kubernetes.io/dockerconfigjson', data: [{ sourcePath: 'foo', targetKey: '.dockerconfigjson' }] }, reason: 'ControllerPatchError', message: /^failed to patch secret "dockerconfigjson-not-json": Secret "dockerconfigjson-not-json" is invalid: data\[.dockerconfigjson\]/ },
  { name: 'basic-auth-without-keys', ss: { spc: 'plain', type: 'kubernetes.io/basic-auth', data: [{ sourcePath: 'foo', targetKey: 'token' }] }, reason: 'ControllerPatchError', message: /^failed to patch secret "basic-auth-without-keys": Secret "basic-auth-without-keys" is invalid/ },
];

describe('bad input ends with a clear condition', () => {
  beforeAll(async () => {
    for (const [, body] of spcs) await createSpc(ns.name, body);
    await createSpc(other.name, spcBody('only-in-other', { objects: '- foo\n' }));
    for (const c of cases) await createSecretSync(ns.name, secretSyncBody(c.name, { ...c.ss, controllerName: ctl.controllerName }));
  }, 60_000);

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const ss = await waitForCondition(ns.name, c.name, 'SecretCreated', 'False', c.reason, 20_000);
    const message = condition(ss, 'SecretCreated')!.message;
    if (typeof c.message === 'string') expect(message).toBe(c.message);
    else expect(message).toMatch(c.message);
    expect(await readSecret(ns.name, c.name)).toBeUndefined();
  });

  test('changing the type of an existing Secret is a ControllerPatchError and leaves the Secret as it was', async () => {
    await createSecretSync(ns.name, secretSyncBody('type-change', { spc: 'plain', controllerName: ctl.controllerName }));
    const before = await waitForSecret(ns.name, 'type-change');
    await waitForCondition(ns.name, 'type-change', 'SecretUpdated', 'True');
    await patchSecretSync(ns.name, 'type-change', { spec: { secretObject: { type: 'kubernetes.io/ssh-auth', data: [{ sourcePath: 'foo', targetKey: 'ssh-privatekey' }] } } });
    const ss = await waitForCondition(ns.name, 'type-change', 'SecretUpdated', 'False', 'ControllerPatchError');
    expect(condition(ss, 'SecretUpdated')!.message).toMatch(/^failed to patch secret "type-change": Secret "type-change" is invalid: type: Invalid value: "kubernetes.io\/ssh-auth": field is immutable/);
    const after = await readSecret(ns.name, 'type-change');
    expect(after?.type).toBe('Opaque');
    expect(after?.data).toEqual(before.data);
  });

  test.each([
    ['a reserved label', { labels: { 'secrets-store.sync.x-k8s.io/x': 'y' } }, 'Labels should not contain secrets-store.sync.x-k8s.io. This key is reserved for the controller.'],
    ['a reserved annotation', { annotations: { 'secrets-store.sync.x-k8s.io': '' } }, 'Annotations should not contain secrets-store.sync.x-k8s.io. This key is reserved for the controller.'],
    ['an invalid targetKey', { data: [{ sourcePath: 'foo', targetKey: '../etc' }] }, 'spec.secretObject.data[0].targetKey'],
    ['an absolute sourcePath', { data: [{ sourcePath: '/etc/passwd', targetKey: 'x' }] }, 'spec.secretObject.data[0].sourcePath'],
    ['duplicate targetKeys', { data: [{ sourcePath: 'foo', targetKey: 'x' }, { sourcePath: 'bar', targetKey: 'x' }] }, 'Duplicate value'],
    ['no data entries', { data: [] }, 'spec.secretObject.data'],
  ])('the API server rejects %s at admission', async (_n, spec, text) => {
    const err = await createSecretSync(ns.name, secretSyncBody(`rejected-${Math.random().toString(36).slice(2, 7)}`, { spc: 'plain', ...spec as SecretSyncSpec })).then(() => undefined, (e: unknown) => e);
    expect((err as { code?: number })?.code).toBe(422);
    expect(apiErrorMessage(err)).toContain(text);
  });

  test('the controller keeps serving, and the good Secret was never touched', async () => {
    const good = await readSecret(ns.name, 'good');
    expect(decoded(good)).toEqual({ bar: CANARY });
    await createSecretSync(ns.name, secretSyncBody('after-the-storm', { spc: 'plain', controllerName: ctl.controllerName }));
    await waitForSecret(ns.name, 'after-the-storm', (s) => decoded(s).bar === 'foo-value-v1');
    expect((await getSecretSync(ns.name, 'good')).status?.conditions?.every((c) => c.status === 'True')).toBe(true);
  });

  test('no secret value or token reaches logs, events, conditions or metrics', async () => {
    const needles = [CANARY, Buffer.from(CANARY).toString('base64'), 'eyJhbGciOi'];
    const haystacks: [string, string][] = [['logs', ctl.logs.join('')], ['metrics', await ctl.metrics.registry.metrics()]];
    for (const e of await events(ns.name)) haystacks.push([`event ${e.reason}`, `${e.message} ${e.reason}`]);
    for (const c of [...cases.map((x) => x.name), 'good', 'type-change']) {
      haystacks.push([`status of ${c}`, JSON.stringify((await getSecretSync(ns.name, c)).status ?? {})]);
    }
    expect(ctl.logs.length).toBeGreaterThan(10);
    await eventually(async () => (await events(ns.name)).length > 10, 10_000);
    for (const [where, text] of haystacks) for (const n of needles) {
      if (text.includes(n)) throw new Error(`${n} found in ${where}`);
    }
  });
});

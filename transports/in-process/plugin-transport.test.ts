import { ProviderError, RemoteSecretStoreFetchFailed as CoreFetchFailed, SecretProviderClassMisconfigured as CoreMisconfigured, SyncError } from '../../core/errors.js';
import { FakeClock } from '../../core/testing/fake-clock.js';
import type { CallOptions, MountRequest } from '../../core/ports/provider.js';
import {
  ProviderError as PluginProviderErrorSdk,
  RemoteSecretStoreFetchFailed,
  SecretProviderClassMisconfigured,
} from '../../plugins/sdk/src/errors.js';
import type { MountRequest as PluginMountRequest, MountResult, ProviderDefinition } from '../../plugins/sdk/src/types.js';
import { checkFilePath } from '../csi-grpc/wire.js';
import { PluginProviderTransport, type PluginProviderTransportOptions } from './plugin-transport.js';
import { statusCodeOf } from './errors.js';

const TOKENS = '{"vault":{"token":"jwt-123","expirationTimestamp":"2030-01-01T00:00:00Z"}}';

function request(attributes: Record<string, string> = {}, overrides: Partial<MountRequest> = {}): MountRequest {
  return {
    attributes: {
      objects: '- a',
      'csi.storage.k8s.io/pod.name': 'ctrl-0',
      'csi.storage.k8s.io/pod.uid': 'uid',
      'csi.storage.k8s.io/pod.namespace': 'team-a',
      'csi.storage.k8s.io/serviceAccount.name': 'app',
      'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
      ...attributes,
    },
    secrets: {},
    targetPath: '/mnt/secrets-store',
    permission: '420',
    currentObjectVersions: [],
    ...overrides,
  };
}

/** What a careless plugin does: throw something that is not an Error. */
function throwValue(value: unknown): never {
  throw value;
}

const opts = (signal = new AbortController().signal): CallOptions => ({ signal, deadline: Date.now() + 5_000 });
const okResult: MountResult = { files: [{ path: 'a', contents: 'alpha' }], objectVersions: [{ id: 'secret/a', version: '1' }] };

function transport(mount: ProviderDefinition['mount'], extra: Partial<PluginProviderTransportOptions> = {}) {
  return new PluginProviderTransport({ plugin: { name: 'p', version: '1.0.0' }, provider: { name: 'acme', mount }, ...extra });
}

async function rejection(promise: Promise<unknown>): Promise<SyncError & { code?: string }> {
  const err = await promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);
  expect(err).toBeInstanceOf(SyncError);
  return err as SyncError & { code?: string };
}

describe('PluginProviderTransport', () => {
  test('hands the plugin parsed attributes, tokens per audience, a signal and a deadline; converts the result', async () => {
    let seen: PluginMountRequest | undefined;
    const t = transport((r) => {
      seen = r;
      return { files: [{ path: 'a', contents: 'alpha' }, { path: 'b', contents: new Uint8Array([0, 1]), mode: 0o600 }], objectVersions: [{ id: 'secret/a', version: '7' }] };
    });
    const callOptions = opts();
    const response = await t.mount(request({}, { currentObjectVersions: [{ id: 'secret/a', version: '6' }] }), callOptions);
    expect(t.kind).toBe('in-process');
    expect(t.providerName).toBe('acme');
    expect(seen!.attributes.parameters).toEqual({ objects: '- a' });
    expect(seen!.attributes).toMatchObject({ podNamespace: 'team-a', serviceAccountName: 'app', podName: 'ctrl-0' });
    expect(seen!.attributes.all['csi.storage.k8s.io/serviceAccount.tokens']).toBeUndefined();
    expect(seen!.tokens.vault!.token).toBe('jwt-123');
    expect(seen!.currentObjectVersions).toEqual([{ id: 'secret/a', version: '6' }]);
    expect(seen!.deadline).toBe(callOptions.deadline);
    expect(seen!.signal.aborted).toBe(false);
    expect(response.files.map((f) => [f.path, f.mode, Buffer.from(f.contents).toString('hex')])).toEqual([
      ['a', 420, Buffer.from('alpha').toString('hex')],
      ['b', 0o600, '0001'],
    ]);
    expect(response.objectVersions).toEqual([{ id: 'secret/a', version: '7' }]);
    await expect(t.version(opts())).resolves.toEqual({ version: 'v1alpha1', runtimeName: 'p', runtimeVersion: '1.0.0' });
  });

  test('typed plugin errors keep their reason, message and code', async () => {
    const cases = [
      [new PluginProviderErrorSdk('store down', { code: 'Unavailable' }), ProviderError, 'Unavailable'],
      [new RemoteSecretStoreFetchFailed('object "a" not found'), CoreFetchFailed, 'NotFound'],
      [new SecretProviderClassMisconfigured('objects is not set'), CoreMisconfigured, 'InvalidArgument'],
    ] as const;
    for (const [thrown, cls, code] of cases) {
      const err = await rejection(transport(async () => { throw thrown; }).mount(request(), opts()));
      expect(err).toBeInstanceOf(cls);
      expect(err.reason).toBe(thrown.reason);
      expect(err.message).toBe(thrown.message);
      expect(statusCodeOf(err)).toBe(code);
    }
  });

  test('a typed error from another copy of the SDK is understood too', async () => {
    const foreign = Object.assign(new Error('denied by policy'), { [Symbol.for('secrets-sync.plugin-sdk.error')]: true, reason: 'ProviderError', code: 'PermissionDenied' });
    const err = await rejection(transport(() => { throw foreign; }).mount(request(), opts()));
    expect(err).toMatchObject({ reason: 'ProviderError', message: 'denied by policy', code: 'PermissionDenied' });
  });

  test.each([
    ['a synchronous throw', () => { throw new TypeError("Cannot read properties of undefined (reading 'x')"); }, 'provider "acme" (plugin "p" 1.0.0) failed: TypeError: Cannot read properties of undefined (reading \'x\')'],
    ['a rejected string', () => Promise.reject('nope'), 'provider "acme" (plugin "p" 1.0.0) failed: threw the string "nope"'],
    ['a thrown object', () => { throwValue({ status: 500 }); }, 'provider "acme" (plugin "p" 1.0.0) failed: threw a non-Error object (keys: status)'],
    ['a thrown undefined', () => { throwValue(undefined); }, 'provider "acme" (plugin "p" 1.0.0) failed: threw a non-Error value undefined'],
  ])('%s becomes a ProviderError naming the provider and plugin', async (_what, mount, message) => {
    const err = await rejection(transport(mount as ProviderDefinition['mount']).mount(request(), opts()));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toBe(message);
  });

  test('very long plugin messages are cut', async () => {
    const err = await rejection(transport(() => { throw new PluginProviderErrorSdk('x'.repeat(5000)); }).mount(request(), opts()));
    expect(err.message).toHaveLength(1024 + 3);
  });

  test.each([
    ['null', null, 'returned an invalid result: the result is null, not an object'],
    ['a string', 'files', 'returned an invalid result: the result is a string, not an object'],
    ['no files', { objectVersions: [{ id: 'a', version: '1' }] }, 'returned an invalid result: files is undefined, not an array'],
    ['a number as contents', { files: [{ path: 'a', contents: 1 }], objectVersions: [{ id: 'a', version: '1' }] }, 'files[0].contents ("a") is a number'],
    ['a bad mode', { files: [{ path: 'a', contents: '', mode: -1 }], objectVersions: [{ id: 'a', version: '1' }] }, 'files[0].mode ("a") must be an integer 0..511'],
    ['a numeric version', { files: [], objectVersions: [{ id: 'a', version: 1 }] }, 'objectVersions[0].version is a number, not a string'],
  ])('a garbage result (%s) is a ProviderError', async (_what, value, message) => {
    const err = await rejection(transport(async () => value as MountResult).mount(request(), opts()));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toContain(message);
    expect(err.message).toMatch(/^provider "acme" \(plugin "p" 1.0.0\) returned an invalid result/);
  });

  test('a result whose getters throw is a ProviderError, not a crash', async () => {
    const evil = { get files(): never { throw new Error('getter'); }, objectVersions: [] };
    const err = await rejection(transport(async () => evil as unknown as MountResult).mount(request(), opts()));
    expect(err.message).toBe('provider "acme" (plugin "p" 1.0.0) returned an invalid result: reading it threw');
  });

  test('no object versions is upstream\'s "missing object versions"', async () => {
    const err = await rejection(transport(async () => ({ files: [], objectVersions: [] })).mount(request(), opts()));
    expect(err.message).toBe('missing object versions');
  });

  test.each(['../../etc/passwd', '/etc/passwd', 'a/../../b', '', 'a\0b'])('the unsafe path %j is rejected with the gRPC transport\'s message', async (path) => {
    const err = await rejection(transport(async () => ({ files: [{ path, contents: 'x' }], objectVersions: [{ id: 'a', version: '1' }] })).mount(request(), opts()));
    const expected = (() => { try { checkFilePath(path); return 'accepted'; } catch (e) { return (e as Error).message; } })();
    expect(err.message).toBe(expected);
  });

  test('a result over --max-call-recv-msg-size is rejected with the sizes', async () => {
    const t = transport(async () => ({ files: [{ path: 'big', contents: 'x'.repeat(3000) }], objectVersions: [{ id: 'a', version: '1' }] }), { maxCallRecvMsgSize: 2048 });
    const err = await rejection(t.mount(request(), opts()));
    expect(err.message).toMatch(/^provider "acme" \(plugin "p" 1.0.0\) returned 30\d\d bytes, over the max receive size of 2048 bytes; raise --max-call-recv-msg-size$/);
    expect(statusCodeOf(err)).toBe('ResourceExhausted');
  });

  test('a malformed tokens attribute fails before calling the plugin, without echoing it', async () => {
    let called = false;
    const t = transport(() => { called = true; return okResult; });
    const err = await rejection(t.mount(request({ 'csi.storage.k8s.io/serviceAccount.tokens': '{"a": "secret-jwt"}' }), opts()));
    expect(called).toBe(false);
    expect(err.message).toBe('invalid mount request for provider "acme" (plugin "p" 1.0.0): the serviceAccount.tokens attribute has no token for audience "a"');
    expect(err.message).not.toContain('secret-jwt');
  });

  describe('deadlines and cancellation', () => {
    let clock: FakeClock;
    beforeEach(() => { clock = new FakeClock(); });

    test('a plugin that hangs fails at its deadline, and its signal fires', async () => {
      let signal: AbortSignal | undefined;
      const t = transport((r) => { signal = r.signal; return new Promise<MountResult>(() => {}); }, { clock, providerTimeoutMs: 2000 });
      const pending = rejection(t.mount(request(), { signal: new AbortController().signal }));
      await clock.advance(1999);
      expect(signal!.aborted).toBe(false);
      await clock.advance(1);
      const err = await pending;
      expect(err.message).toBe('provider "acme" (plugin "p" 1.0.0) did not answer within its deadline of 2000 ms');
      expect(statusCodeOf(err)).toBe('DeadlineExceeded');
      expect(signal!.aborted).toBe(true);
      expect(t.abandoned).toBe(1);
    });

    test('the caller\'s deadline wins over the provider timeout', async () => {
      const t = transport(() => new Promise<MountResult>(() => {}), { clock, providerTimeoutMs: 60_000 });
      const pending = rejection(t.mount(request(), { signal: new AbortController().signal, deadline: clock.now() + 500 }));
      await clock.advance(500);
      expect((await pending).message).toContain('within its deadline of 500 ms');
    });

    test('a plugin that honours the signal is not counted as abandoned', async () => {
      const t = transport((r) => new Promise<MountResult>((_, reject) => r.signal.addEventListener('abort', () => reject(r.signal.reason))), { clock, providerTimeoutMs: 100 });
      const pending = rejection(t.mount(request(), { signal: new AbortController().signal }));
      await clock.advance(100);
      expect((await pending).message).toContain('did not answer within its deadline');
      await clock.flush();
      expect(t.abandoned).toBe(0);
    });

    test('the caller aborting cancels the call; an aborted signal never reaches the plugin', async () => {
      let calls = 0;
      const t = transport(() => { calls++; return new Promise<MountResult>(() => {}); }, { clock });
      const abort = new AbortController();
      const pending = rejection(t.mount(request(), { signal: abort.signal }));
      await clock.flush();
      abort.abort();
      const err = await pending;
      expect(err.message).toBe('call to provider "acme" (plugin "p" 1.0.0) was cancelled');
      expect(statusCodeOf(err)).toBe('Canceled');
      const again = await rejection(t.mount(request(), { signal: abort.signal }));
      expect(again.message).toBe('call to provider "acme" (plugin "p" 1.0.0) was cancelled');
      expect(calls).toBe(1);
    });

    test('after too many abandoned calls the provider fails fast, and recovers when they finish', async () => {
      const release: (() => void)[] = [];
      const t = transport(() => new Promise<MountResult>((resolve) => release.push(() => resolve(okResult))), { clock, providerTimeoutMs: 10, maxAbandonedCalls: 2 });
      for (let i = 0; i < 2; i++) {
        const p = rejection(t.mount(request(), { signal: new AbortController().signal }));
        await clock.advance(10);
        await p;
      }
      const fast = await rejection(t.mount(request(), { signal: new AbortController().signal }));
      expect(fast.message).toBe('provider "acme" (plugin "p" 1.0.0) has 2 calls still running after their deadline; not calling it again until they finish');
      expect(release).toHaveLength(2);
      release.forEach((r) => r());
      await clock.flush();
      expect(t.abandoned).toBe(0);
      const p = t.mount(request(), { signal: new AbortController().signal });
      release.at(-1)!();
      await clock.flush();
      await expect(p).resolves.toMatchObject({ objectVersions: [{ id: 'secret/a', version: '1' }] });
    });

    test('a late rejection of an abandoned call is not an unhandled rejection', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (r: unknown): void => { unhandled.push(r); };
      process.on('unhandledRejection', onUnhandled);
      try {
        let fail: (e: Error) => void = () => {};
        const t = transport(() => new Promise<MountResult>((_, reject) => { fail = reject; }), { clock, providerTimeoutMs: 10 });
        const p = rejection(t.mount(request(), { signal: new AbortController().signal }));
        await clock.advance(10);
        await p;
        fail(new Error('late'));
        await new Promise((r) => setTimeout(r, 10));
        expect(unhandled).toEqual([]);
        expect(t.abandoned).toBe(0);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    test('close() calls the provider\'s close once, gives up after 5 s, and later calls fail', async () => {
      let closes = 0;
      const t = new PluginProviderTransport({
        plugin: { name: 'p', version: '1.0.0' },
        provider: { name: 'acme', mount: () => okResult, close: () => { closes++; return new Promise<void>(() => {}); } },
        clock,
      });
      const closing = Promise.all([t.close(), t.close()]);
      await clock.advance(5000);
      await closing;
      expect(closes).toBe(1);
      const err = await rejection(t.mount(request(), opts()));
      expect(err.message).toBe('provider "acme" (plugin "p" 1.0.0) is closed');
    });
  });
});

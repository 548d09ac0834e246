/**
 * The ProviderTransport contract, run against any transport backed by a FakeProvider (in-process, gRPC over a
 * unix socket, ...). Each case builds a fresh fake, asserts with node:assert (no test-framework dependency, so
 * this file also builds for production) and returns a serialisable outcome so suites can check that different
 * transports give identical results.
 *
 *   for (const c of providerTransportContract(factory)) it(c.name, () => c.run());
 */
import assert from 'node:assert/strict';
import { SyncError } from '../core/errors.js';
import {
  MOUNT_PERMISSION,
  MOUNT_TARGET_PATH,
  type CallOptions,
  type MountRequest,
  type MountResponse,
  type ProviderTransport,
} from '../core/ports/provider.js';
import { Status } from './csi-grpc/status.js';
import { FakeProvider, TOKENS_ATTRIBUTE } from './fake/fake-provider.js';

export interface ContractHarness {
  transport: ProviderTransport;
  close(): Promise<void>;
}

/** Builds a transport that reaches `provider` (whose providerName is `fake`). */
export type ContractHarnessFactory = (provider: FakeProvider) => Promise<ContractHarness>;

export interface ContractCase {
  name: string;
  /** Resolves with the case's outcome (responses and error messages) after its assertions passed. */
  run(): Promise<unknown>;
}

type Body = (t: ProviderTransport, fake: FakeProvider) => Promise<unknown>;

const POD_ATTRIBUTES = {
  'csi.storage.k8s.io/pod.name': 'secrets-store-sync-controller-0',
  'csi.storage.k8s.io/pod.namespace': 'default',
  'csi.storage.k8s.io/pod.uid': '7c1d1c3e-0000-4000-8000-000000000001',
  'csi.storage.k8s.io/serviceAccount.name': 'default',
};

export function mountRequest(attributes: Record<string, string>, overrides: Partial<MountRequest> = {}): MountRequest {
  return {
    attributes: { ...POD_ATTRIBUTES, ...attributes },
    secrets: {},
    targetPath: MOUNT_TARGET_PATH,
    permission: MOUNT_PERMISSION,
    currentObjectVersions: [],
    ...overrides,
  };
}

export function callOptions(timeoutMs = 10_000, signal: AbortSignal = new AbortController().signal): CallOptions {
  return { signal, deadline: Date.now() + timeoutMs };
}

/** Responses with contents as text, for comparison and assertions. */
export function readable(response: MountResponse): unknown {
  return {
    files: response.files.map((f) => ({ path: f.path, mode: f.mode, contents: Buffer.from(f.contents).toString() })),
    objectVersions: response.objectVersions,
  };
}

/** The rejection of `promise` as {name, reason, message}; fails when it resolves or throws a non-SyncError. */
export async function failure(promise: Promise<unknown>): Promise<{ name: string; reason: string; message: string }> {
  const err = await promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SyncError, `expected a SyncError, got ${String(err)}`);
  return { name: err.name, reason: err.reason, message: err.message };
}

const rpc = (code: string, desc: string) => ({
  name: 'ProviderRpcError',
  reason: 'ProviderError',
  message: `rpc error: code = ${code} desc = ${desc}`,
});

const cases: Record<string, Body> = {
  'version answers v1alpha1 with the runtime name and version': async (t) => {
    const version = await t.version(callOptions());
    assert.deepEqual(version, { version: 'v1alpha1', runtimeName: 'fakeprovider', runtimeVersion: '0.0.10' });
    return version;
  },

  'mount returns one file and one version per object, derived deterministically': async (t) => {
    const objects = '- foo\n- objectName: bar\n  value: hello\n';
    const response = readable(await t.mount(mountRequest({ objects }), callOptions()));
    assert.deepEqual(response, {
      files: [
        { path: 'foo', mode: 420, contents: 'foo-value-v1' },
        { path: 'bar', mode: 420, contents: 'hello' },
      ],
      objectVersions: [
        { id: 'secret/foo', version: 'v1' },
        { id: 'secret/bar', version: 'v1' },
      ],
    });
    return response;
  },

  "accepts upstream e2e-provider's objects format and JSON lists": async (t) => {
    const e2e = 'array:\n  - |\n    objectName: foo\n    objectVersion: ""\n  - |\n    objectName: fookey\n';
    const a = readable(await t.mount(mountRequest({ objects: e2e }), callOptions()));
    const b = readable(await t.mount(mountRequest({ objects: '["foo", {"objectName": "fookey"}]' }), callOptions()));
    assert.deepEqual(a, b);
    assert.deepEqual((a as MountResponse).objectVersions.map((v) => v.id), ['secret/foo', 'secret/fookey']);
    return a;
  },

  'rotate() changes every value and bumps every version': async (t, fake) => {
    const request = mountRequest({ objects: '- foo\n- objectName: bar\n  value: hello\n' });
    await t.mount(request, callOptions());
    fake.rotate();
    fake.rotate();
    const response = readable(await t.mount(request, callOptions()));
    assert.deepEqual(response, {
      files: [
        { path: 'foo', mode: 420, contents: 'foo-value-v3' },
        { path: 'bar', mode: 420, contents: 'hello-v3' },
      ],
      objectVersions: [
        { id: 'secret/foo', version: 'v3' },
        { id: 'secret/bar', version: 'v3' },
      ],
    });
    return response;
  },

  'the request reaches the provider unchanged and every mount is counted': async (t, fake) => {
    const request = mountRequest(
      { objects: '- foo', 'with "quotes" and\nnewline': 'ünïcode ✓' },
      { secrets: { nodePublish: 's' }, currentObjectVersions: [{ id: 'secret/foo', version: 'v0' }] },
    );
    await failure(t.mount(mountRequest({}), callOptions()));
    fake.setError({ code: Status.UNKNOWN, details: 'x' }, { times: 1 });
    await failure(t.mount(request, callOptions()));
    assert.equal(fake.mountCount, 2);
    await t.mount(request, callOptions());
    assert.equal(fake.mountCount, 3);
    assert.deepEqual(fake.lastMount, {
      attributes: request.attributes,
      secrets: { nodePublish: 's' },
      targetPath: MOUNT_TARGET_PATH,
      permission: '420',
      currentObjectVersions: [{ id: 'secret/foo', version: 'v0' }],
    });
    return fake.lastMount;
  },

  'explicit files and versions replace the derived ones (binary contents kept)': async (t, fake) => {
    fake.setFiles([
      { path: 'dir/cert.pem', contents: new Uint8Array([0, 1, 2, 255]), mode: 0o600 },
      { path: 'plain', contents: 'text' },
    ]);
    fake.setObjectVersions([{ id: 'secret/custom', version: '42' }]);
    const response = await t.mount(mountRequest({ objects: '- ignored' }), callOptions());
    assert.deepEqual([...response.files[0]!.contents], [0, 1, 2, 255]);
    assert.deepEqual(
      response.files.map((f) => [f.path, f.mode]),
      [
        ['dir/cert.pem', 0o600],
        ['plain', 420],
      ],
    );
    assert.deepEqual(response.objectVersions, [{ id: 'secret/custom', version: '42' }]);
    return readable(response);
  },

  'no object versions fail with "missing object versions"': async (t, fake) => {
    const emptyList = await failure(t.mount(mountRequest({ objects: '[]' }), callOptions()));
    fake.setObjectVersions([]);
    const explicit = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
    const expected = { name: 'ProviderError', reason: 'ProviderError', message: 'missing object versions' };
    assert.deepEqual(emptyList, expected);
    assert.deepEqual(explicit, expected);
    return [emptyList, explicit];
  },

  'a provider error code fails the mount': async (t, fake) => {
    fake.setProviderErrorCode('GRPCProviderError');
    const err = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
    assert.deepEqual(err, {
      name: 'ProviderError',
      reason: 'ProviderError',
      message: 'mount request failed with provider error code GRPCProviderError',
    });
    return err;
  },

  'an injected gRPC status becomes a ProviderError; `times` limits it': async (t, fake) => {
    fake.setError({ code: Status.PERMISSION_DENIED, details: 'access denied by policy' }, { times: 1 });
    const err = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
    assert.deepEqual(err, rpc('PermissionDenied', 'access denied by policy'));
    await t.mount(mountRequest({ objects: '- foo' }), callOptions());
    return err;
  },

  'validates like real providers: target path, objects, JSON': async (t) => {
    const noObjects = await failure(t.mount(mountRequest({}), callOptions()));
    const noTarget = await failure(t.mount(mountRequest({ objects: '- foo' }, { targetPath: '' }), callOptions()));
    const badObjects = await failure(t.mount(mountRequest({ objects: 'a: [' }), callOptions()));
    const noName = await failure(t.mount(mountRequest({ objects: '- value: x' }), callOptions()));
    const badPermission = await failure(
      t.mount(mountRequest({ objects: '- foo' }, { permission: 'rw' }), callOptions()),
    );
    assert.deepEqual(noObjects, rpc('Unknown', 'objects is not set'));
    assert.deepEqual(noTarget, rpc('Unknown', 'missing target path'));
    assert.deepEqual(badObjects, rpc('Unknown', 'failed to parse objects as YAML'));
    assert.deepEqual(noName, rpc('Unknown', 'object 0 has no string objectName'));
    assert.deepEqual(badPermission, rpc('Unknown', 'failed to unmarshal file permission'));
    return [noObjects, noTarget, badObjects, noName, badPermission];
  },

  'unsafe file paths are rejected with the path named': async (t, fake) => {
    const results = [];
    for (const [path, why] of [
      ['/etc/passwd', 'absolute path'],
      ['../escape', 'contains a ".." element'],
      ['a/../../b', 'contains a ".." element'],
      ['', 'empty path'],
      ['nul\0byte', 'contains a NUL byte'],
    ] as const) {
      fake.setFiles([{ path: 'fine', contents: 'ok' }, { path, contents: 'x' }]);
      const err = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
      assert.equal(err.message, `provider returned an unsafe file path ${JSON.stringify(path)}: ${why}`);
      assert.equal(err.reason, 'ProviderError');
      results.push(err);
    }
    fake.setFiles([{ path: 'a/..b/.c..', contents: 'x' }]);
    await t.mount(mountRequest({ objects: '- foo' }), callOptions());
    return results;
  },

  'token audiences are checked and tokens never reach error messages': async (t, fake) => {
    fake.setTokenAudiences(['aud1', 'aud2']);
    const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.sig';
    const tokens = (auds: string[]): string =>
      JSON.stringify(Object.fromEntries(auds.map((a) => [a, { token, expirationTimestamp: '2030-01-01T00:00:00Z' }])));
    const missing = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
    const partial = await failure(
      t.mount(mountRequest({ objects: '- foo', [TOKENS_ATTRIBUTE]: tokens(['aud1']) }), callOptions()),
    );
    await t.mount(mountRequest({ objects: '- foo', [TOKENS_ATTRIBUTE]: tokens(['aud1', 'aud2']) }), callOptions());
    fake.setError({ code: Status.INTERNAL, details: 'backend down' });
    const other = await failure(
      t.mount(mountRequest({ objects: '- foo', [TOKENS_ATTRIBUTE]: tokens(['aud1', 'aud2']) }), callOptions()),
    );
    assert.deepEqual(missing, rpc('Unknown', `${TOKENS_ATTRIBUTE} is not set`));
    assert.deepEqual(partial, rpc('Unknown', `${TOKENS_ATTRIBUTE} has no token for audience "aud2"`));
    for (const err of [missing, partial, other]) assert.ok(!err.message.includes(token));
    return [missing, partial, other];
  },

  'aborting the signal cancels a hanging mount': async (t, fake) => {
    fake.setHang(true);
    const controller = new AbortController();
    const started = Date.now();
    const pending = failure(t.mount(mountRequest({ objects: '- foo' }), callOptions(20_000, controller.signal)));
    setTimeout(() => controller.abort(new Error('shutting down')), 100);
    const err = await pending;
    assert.deepEqual(err, rpc('Canceled', 'context canceled'));
    assert.ok(Date.now() - started < 5_000, 'the abort ended the call');
    return err;
  },

  'an already aborted signal fails without reaching the provider': async (t, fake) => {
    const controller = new AbortController();
    controller.abort();
    const err = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions(10_000, controller.signal)));
    assert.deepEqual(err, rpc('Canceled', 'context canceled'));
    assert.equal(fake.mountCount, 0);
    return err;
  },

  'the deadline ends a hanging mount': async (t, fake) => {
    fake.setHang(true);
    const started = Date.now();
    const err = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions(300)));
    assert.deepEqual(err, rpc('DeadlineExceeded', 'context deadline exceeded'));
    assert.ok(Date.now() - started < 5_000, 'the deadline ended the call');
    fake.setHang(false);
    await t.mount(mountRequest({ objects: '- foo' }), callOptions());
    return err;
  },

  'a slow provider within the deadline still answers': async (t, fake) => {
    fake.setDelay(100);
    const response = readable(await t.mount(mountRequest({ objects: '- foo' }), callOptions(5_000)));
    assert.deepEqual(response, {
      files: [{ path: 'foo', mode: 420, contents: 'foo-value-v1' }],
      objectVersions: [{ id: 'secret/foo', version: 'v1' }],
    });
    return response;
  },
};

export function providerTransportContract(factory: ContractHarnessFactory): ContractCase[] {
  return Object.entries(cases).map(([name, body]) => ({
    name,
    async run() {
      const fake = new FakeProvider();
      const harness = await factory(fake);
      try {
        assert.equal(harness.transport.providerName, 'fake');
        return await body(harness.transport, fake);
      } finally {
        fake.setHang(false);
        await harness.close();
      }
    },
  }));
}

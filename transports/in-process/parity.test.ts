/**
 * The plugin path agrees with the gRPC path: the SDK's file-path rule and wire-size formula match the CSI
 * transport's, and the fake provider written as a plugin answers exactly as the repo's FakeProvider does.
 */
import fakePlugin from '../../plugins/examples/fake/src/index.js';
import { instantiatePlugin } from '../../plugins/sdk/src/define.js';
import { encodedResultSize, filePathProblem, normalizeMountResult } from '../../plugins/sdk/src/result.js';
import * as pb from '../../proto/gen/service.js';
import type { MountRequest, MountResponse } from '../../core/ports/provider.js';
import { checkFilePath } from '../csi-grpc/wire.js';
import { FakeProvider, FakeProviderTransport } from '../fake/fake-provider.js';
import { PluginProviderTransport } from './plugin-transport.js';

const PATHS = ['', 'a', 'a/b', '/a', '..', '../a', 'a/..', 'a/../b', '..a', 'a..', '.', './a', 'a\0', 'a//b', 'ü/✓', ' a'];

function mountRequest(parameters: Record<string, string>): MountRequest {
  return {
    attributes: {
      ...parameters,
      'csi.storage.k8s.io/pod.name': 'controller-0',
      'csi.storage.k8s.io/pod.uid': 'uid-0',
      'csi.storage.k8s.io/pod.namespace': 'default',
      'csi.storage.k8s.io/serviceAccount.name': 'default',
    },
    secrets: {},
    targetPath: '/mnt/secrets-store',
    permission: '420',
    currentObjectVersions: [],
  };
}

const readable = (r: MountResponse) => ({
  files: r.files.map((f) => ({ path: f.path, mode: f.mode, contents: Buffer.from(f.contents).toString() })),
  objectVersions: r.objectVersions,
});

const opts = () => ({ signal: new AbortController().signal, deadline: Date.now() + 5000 });

describe('plugin path vs gRPC path', () => {
  test.each(PATHS)('the SDK and the gRPC transport agree on the path %j', (path) => {
    const grpc = (() => {
      try {
        checkFilePath(path);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    })();
    const sdk = filePathProblem(path);
    expect(sdk === undefined ? undefined : `provider returned an unsafe file path ${JSON.stringify(path)}: ${sdk}`).toBe(grpc);
  });

  test('the SDK wire-size formula equals the protobuf encoding', () => {
    const results = [
      { files: [], objectVersions: [{ id: 'a', version: '1' }] },
      { files: [{ path: 'x', contents: '' }], objectVersions: [{ id: '', version: '' }] },
      { files: [{ path: 'p'.repeat(200), contents: 'c'.repeat(70_000), mode: 0o600 }, { path: 'y', contents: new Uint8Array(130), mode: 0 }], objectVersions: [{ id: 'i'.repeat(129), version: 'v' }] },
    ];
    for (const value of results) {
      const r = normalizeMountResult(value);
      const encoded = pb.MountResponse.encode({
        objectVersion: r.objectVersions,
        files: r.files.map((f) => ({ path: f.path, mode: f.mode ?? 420, contents: f.contents })),
        error: { code: '' },
      }).finish();
      expect(encodedResultSize(r, 420)).toBe(encoded.length);
    }
  });

  test('the fake provider as a plugin answers as the FakeProvider does', async () => {
    const [provider] = await instantiatePlugin(fakePlugin);
    const plugin = new PluginProviderTransport({ plugin: { name: fakePlugin.name, version: fakePlugin.version }, provider: provider! });
    const fake = new FakeProviderTransport(new FakeProvider());
    expect(plugin.providerName).toBe(fake.providerName);
    for (const objects of [
      '- foo\n- objectName: bar\n  value: hello\n',
      '["foo", {"objectName": "fookey"}]',
      'array:\n  - |\n    objectName: foo\n    objectVersion: ""\n  - |\n    objectName: fookey\n',
    ]) {
      const request = mountRequest({ objects });
      expect(readable(await plugin.mount(request, opts()))).toEqual(readable(await fake.mount(request, opts())));
    }
  });
});

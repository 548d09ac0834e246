import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import type { MountRequest, MountResponse } from '../../core/ports/provider.js';
import { CSIDriverProviderClient } from '../../proto/gen/service.js';
import { CsiGrpcTransport } from '../../transports/csi-grpc/transport.js';
import { PluginProviderTransport } from '../../transports/in-process/plugin-transport.js';
import fakePlugin from '../examples/fake/src/index.js';
import { instantiatePlugin } from '../sdk/src/define.js';
import { ProviderError, RemoteSecretStoreFetchFailed, SecretProviderClassMisconfigured } from '../sdk/src/errors.js';
import type { MountRequest as PluginMountRequest, MountResult } from '../sdk/src/types.js';
import { serveCsiProvider, type CsiProviderServer } from './csi-server.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ssc-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function request(parameters: Record<string, string>): MountRequest {
  return {
    attributes: { ...parameters, 'csi.storage.k8s.io/pod.namespace': 'default', 'csi.storage.k8s.io/serviceAccount.name': 'default' },
    secrets: {},
    targetPath: '/mnt/secrets-store',
    permission: '420',
    currentObjectVersions: [],
  };
}
const opts = (ms = 5000, signal = new AbortController().signal) => ({ signal, deadline: Date.now() + ms });
const readable = (r: MountResponse) => ({
  files: r.files.map((f) => ({ path: f.path, mode: f.mode, contents: Buffer.from(f.contents).toString() })),
  objectVersions: r.objectVersions,
});

async function serve(mount: (r: PluginMountRequest) => MountResult | Promise<MountResult>) {
  const inProcess = new PluginProviderTransport({ plugin: { name: 'p', version: '1.2.3' }, provider: { name: 'acme', mount } });
  const server = await serveCsiProvider({ socketPath: join(dir, 'acme.sock'), transport: inProcess });
  const client = new CsiGrpcTransport({ providerName: 'acme', socketPath: server.socketPath, retry: { maxAttempts: 1 } });
  return { inProcess, server, client };
}

async function closeAll(s: { server: CsiProviderServer; client: CsiGrpcTransport }) {
  await s.client.close();
  await s.server.stop(100);
}

describe('serveCsiProvider', () => {
  test('the fake plugin over gRPC answers exactly as in-process', async () => {
    const [provider] = await instantiatePlugin(fakePlugin);
    const s = await serve((r) => provider!.mount(r));
    try {
      for (const objects of ['- foo\n- objectName: bar\n  value: hello\n', '["a/b", "c"]']) {
        const viaGrpc = await s.client.mount(request({ objects }), opts());
        expect(readable(viaGrpc)).toEqual(readable(await s.inProcess.mount(request({ objects }), opts())));
      }
      await expect(s.client.version(opts())).resolves.toEqual({ version: 'v1alpha1', runtimeName: 'p', runtimeVersion: '1.2.3' });
    } finally {
      await closeAll(s);
    }
  });

  test('typed errors become the gRPC status the plugin chose; untyped ones Unknown', async () => {
    const s = await serve((r) => {
      const kind = r.attributes.get('fail');
      if (kind === 'misconfigured') throw new SecretProviderClassMisconfigured('objects is not set');
      if (kind === 'notfound') throw new RemoteSecretStoreFetchFailed('object "x" not found');
      if (kind === 'denied') throw new ProviderError('the store denied access', { code: 'PermissionDenied' });
      if (kind === 'bug') throw new TypeError('x is undefined');
      if (kind === 'unsafe') return { files: [{ path: '../x', contents: '' }], objectVersions: [{ id: 'a', version: '1' }] };
      return { files: [], objectVersions: [] };
    });
    try {
      const message = async (fail: string) => (await s.client.mount(request({ fail }), opts()).catch((e: Error) => e)) as Error;
      expect((await message('misconfigured')).message).toBe('rpc error: code = InvalidArgument desc = objects is not set');
      expect((await message('notfound')).message).toBe('rpc error: code = NotFound desc = object "x" not found');
      expect((await message('denied')).message).toBe('rpc error: code = PermissionDenied desc = the store denied access');
      expect((await message('bug')).message).toBe('rpc error: code = Unknown desc = provider "acme" (plugin "p" 1.2.3) failed: TypeError: x is undefined');
      expect((await message('unsafe')).message).toBe('rpc error: code = Unknown desc = provider returned an unsafe file path "../x": contains a ".." element');
      expect((await message('empty')).message).toBe('rpc error: code = Unknown desc = missing object versions');
    } finally {
      await closeAll(s);
    }
  });

  test('the caller\'s deadline reaches the plugin, and its cancellation aborts the plugin\'s signal', async () => {
    let seen: PluginMountRequest | undefined;
    let onAborted: () => void = () => {};
    const aborted = new Promise<void>((resolve) => { onAborted = resolve; });
    const s = await serve((r) => {
      seen = r;
      r.signal.addEventListener('abort', () => onAborted());
      return new Promise<MountResult>(() => {});
    });
    try {
      const before = Date.now();
      const err = (await s.client.mount(request({}), opts(300)).catch((e: Error) => e)) as Error;
      expect(err.message).toBe('rpc error: code = DeadlineExceeded desc = context deadline exceeded');
      expect(seen!.deadline).toBeGreaterThanOrEqual(before + 200);
      expect(seen!.deadline).toBeLessThanOrEqual(before + 400);
      await aborted;
    } finally {
      await closeAll(s);
    }
  });

  test('malformed JSON attributes are InvalidArgument without echoing them, and a foreign :authority is refused', async () => {
    const s = await serve(() => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] }));
    const raw = new CSIDriverProviderClient(`unix://${s.server.socketPath}`, credentials.createInsecure());
    const rawOther = new CSIDriverProviderClient(`unix://${s.server.socketPath}`, credentials.createInsecure(), { 'grpc.default_authority': 'evil' });
    try {
      const call = (client: CSIDriverProviderClient, attributes: string) =>
        new Promise<{ code?: number; details?: string }>((resolve) => {
          client.mount({ attributes, secrets: '{}', targetPath: '/t', permission: '420', currentObjectVersion: [] }, new Metadata(), (err) => resolve(err ?? {}));
        });
      expect(await call(raw, '{"token": secret-jwt')).toMatchObject({ code: 3, details: 'failed to unmarshal attributes' });
      expect(await call(raw, '{"n": 1}')).toMatchObject({ code: 3, details: 'failed to unmarshal attributes: non-string value' });
      expect(await call(rawOther, '{}')).toMatchObject({ code: 16, details: 'invalid :authority "evil", want "localhost"' });
    } finally {
      raw.close();
      rawOther.close();
      await closeAll(s);
    }
  });

  test('a stale socket is replaced, anything else at the path is refused', async () => {
    const first = await serve(() => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] }));
    await first.client.close();
    await first.server.stop(100);
    // grpc-js unlinks its socket on shutdown; a crashed server leaves it. Either way a new server binds.
    const second = await serve(() => ({ files: [], objectVersions: [{ id: 'b', version: '1' }] }));
    await expect(second.client.mount(request({}), opts())).resolves.toMatchObject({ objectVersions: [{ id: 'b', version: '1' }] });
    await closeAll(second);
    writeFileSync(join(dir, 'file.sock'), 'not a socket');
    const inProcess = new PluginProviderTransport({ plugin: { name: 'p', version: '1' }, provider: { name: 'x', mount: () => ({ files: [], objectVersions: [] }) } });
    await expect(serveCsiProvider({ socketPath: join(dir, 'file.sock'), transport: inProcess })).rejects.toThrow(/it exists and is not a socket/);
  });
});

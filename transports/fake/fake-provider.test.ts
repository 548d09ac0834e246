import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as pb from '../../proto/gen/service.js';
import { Status } from '../csi-grpc/status.js';
import { startControlServer } from './control-http.js';
import { FakeProvider, FakeRpcError } from './fake-provider.js';
import { startFakeProviderServer } from './grpc-server.js';
import { objectValue, parseObjects } from './objects.js';

const signal = new AbortController().signal;

function wire(attributes: Record<string, string>, overrides: Partial<pb.MountRequest> = {}): pb.MountRequest {
  return {
    attributes: JSON.stringify(attributes),
    secrets: '{}',
    targetPath: '/mnt/secrets-store',
    permission: '420',
    currentObjectVersion: [],
    ...overrides,
  };
}

describe('parseObjects', () => {
  it('reads YAML lists, JSON lists and the e2e-provider form', () => {
    expect(parseObjects('- a\n- objectName: b\n  value: v\n')).toEqual([
      { objectName: 'a' },
      { objectName: 'b', value: 'v' },
    ]);
    expect(parseObjects('["a", {"objectName": "b"}]')).toEqual([{ objectName: 'a' }, { objectName: 'b' }]);
    expect(parseObjects('array:\n  - |\n    objectName: a\n    objectVersion: ""\n')).toEqual([{ objectName: 'a' }]);
  });

  it('rejects other shapes without echoing the text', () => {
    expect(() => parseObjects('secret-ish: [')).toThrow('failed to parse objects as YAML');
    expect(() => parseObjects('just-a-name')).toThrow('objects must be a list or a map with an "array" list');
    expect(() => parseObjects('array: [1]')).toThrow('objects.array[0] is not a string');
    expect(() => parseObjects('- objectName: a\n  value: 3')).toThrow('object 0 has a value that is not a string');
  });

  it('derives deterministic values per version', () => {
    expect(objectValue({ objectName: 'a' }, 1)).toBe('a-value-v1');
    expect(objectValue({ objectName: 'a' }, 4)).toBe('a-value-v4');
    expect(objectValue({ objectName: 'a', value: 'x' }, 1)).toBe('x');
    expect(objectValue({ objectName: 'a', value: 'x' }, 2)).toBe('x-v2');
  });
});

describe('FakeProvider', () => {
  it('fails like upstream providers on undecodable fields', async () => {
    const fake = new FakeProvider();
    const err = (r: pb.MountRequest) => fake.mount(r, signal).catch((e: FakeRpcError) => [e.code, e.details]);
    await expect(err(wire({}, { attributes: 'not json' }))).resolves.toEqual([
      Status.UNKNOWN,
      'failed to unmarshal attributes',
    ]);
    await expect(err(wire({}, { secrets: '[]' }))).resolves.toEqual([
      Status.UNKNOWN,
      'failed to unmarshal secrets: not a JSON object',
    ]);
    await expect(err(wire({}, { attributes: '{"a": 1}' }))).resolves.toEqual([
      Status.UNKNOWN,
      'failed to unmarshal attributes: non-string value',
    ]);
    await expect(err(wire({ objects: '- a' }, { permission: '1000' }))).resolves.toEqual([
      Status.UNKNOWN,
      'failed to unmarshal file permission: not a mode 0..511',
    ]);
    expect(fake.mountCount).toBe(4);
  });

  it('setHang(false) releases waiting calls; reset() returns to a fresh fake', async () => {
    const fake = new FakeProvider({ providerName: 'p', tokenAudiences: ['a'] });
    fake.setTokenAudiences([]);
    fake.rotate();
    fake.setHang(true);
    const pending = fake.mount(wire({ objects: '- a' }), signal);
    await new Promise((r) => setTimeout(r, 20));
    fake.setHang(false);
    const response = await pending;
    expect(response.objectVersion).toEqual([{ id: 'secret/a', version: 'v2' }]);
    fake.setProviderErrorCode('E');
    fake.setError({ code: Status.INTERNAL, details: 'x' });
    fake.reset();
    expect(fake.mountCount).toBe(0);
    expect(fake.lastMount).toBeUndefined();
    const fresh = await fake.mount(wire({ objects: '- a' }), signal);
    expect(fresh).toEqual({
      objectVersion: [{ id: 'secret/a', version: 'v1' }],
      error: { code: '' },
      files: [{ path: 'a', mode: 420, contents: new TextEncoder().encode('a-value-v1') }],
    });
    expect(fake.version({ version: 'v1alpha1' })).toEqual({
      version: 'v1alpha1',
      runtimeName: 'fakeprovider',
      runtimeVersion: '0.0.10',
    });
  });
});

describe('startFakeProviderServer', () => {
  it('refuses to replace a path that is not a socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssc-'));
    try {
      writeFileSync(join(dir, 'fake.sock'), 'not a socket');
      await expect(startFakeProviderServer({ socketPath: join(dir, 'fake.sock') })).rejects.toThrow(
        'it exists and is not a socket',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('control endpoint', () => {
  it('steers the fake', async () => {
    const fake = new FakeProvider();
    const control = await startControlServer(fake, '127.0.0.1', 0);
    const url = `http://127.0.0.1:${control.port}`;
    const post = async (path: string) => (await fetch(`${url}${path}`, { method: 'POST' })).status;
    try {
      expect(await post('/rotate')).toBe(200);
      expect(await post('/provider-error-code?code=E9')).toBe(200);
      expect(await post('/validate-token-requests?audience=a,b')).toBe(200);
      const response = await fake.mount(wire({ objects: '- a' }), signal).catch((e: FakeRpcError) => e.details);
      expect(response).toBe('csi.storage.k8s.io/serviceAccount.tokens is not set');
      expect(await post('/validate-token-requests?audience=')).toBe(200);
      const ok = await fake.mount(wire({ objects: '- a' }), signal);
      expect(ok.error?.code).toBe('E9');
      expect(ok.objectVersion[0]!.version).toBe('v2');
      expect(await post(`/error?code=${Status.UNAVAILABLE}&details=down&times=1`)).toBe(200);
      await expect(fake.mount(wire({ objects: '- a' }), signal)).rejects.toMatchObject({ code: 14, details: 'down' });
      expect(await post('/reset')).toBe(200);
      expect(await post('/nope')).toBe(404);
      expect((await fetch(`${url}/rotate`)).status).toBe(405);
      expect(await (await fetch(`${url}/stats`)).json()).toEqual({ providerName: 'fake', mountCount: 0 });
    } finally {
      await control.close();
    }
  });
});

import { ProviderError } from '../../core/errors.js';
import { MOUNT_PERMISSION, MOUNT_TARGET_PATH } from '../../core/ports/provider.js';
import { goCodeName, rpcErrorMessage, Status } from './status.js';
import { checkFilePath, fromWireMountResponse, toWireMountRequest } from './wire.js';

describe('toWireMountRequest', () => {
  it('serialises attributes and secrets as JSON strings and copies the rest', () => {
    expect(
      toWireMountRequest({
        attributes: { objects: '- foo', 'csi.storage.k8s.io/pod.name': 'p' },
        secrets: {},
        targetPath: MOUNT_TARGET_PATH,
        permission: MOUNT_PERMISSION,
        currentObjectVersions: [{ id: 'secret/foo', version: 'v1' }],
      }),
    ).toEqual({
      attributes: '{"objects":"- foo","csi.storage.k8s.io/pod.name":"p"}',
      secrets: '{}',
      targetPath: '/mnt/secrets-store',
      permission: '420',
      currentObjectVersion: [{ id: 'secret/foo', version: 'v1' }],
    });
  });
});

describe('fromWireMountResponse', () => {
  const file = { path: 'foo', mode: 420, contents: new Uint8Array([1]) };
  const version = { id: 'secret/foo', version: 'v1' };

  it('maps files and versions', () => {
    expect(fromWireMountResponse({ objectVersion: [version], error: { code: '' }, files: [file] })).toEqual({
      files: [file],
      objectVersions: [version],
    });
    expect(fromWireMountResponse({ objectVersion: [version], error: undefined, files: [] }).files).toEqual([]);
  });

  it('checks the provider error code before the object versions, and both before the paths', () => {
    expect(() => fromWireMountResponse({ objectVersion: [], error: { code: 'E1' }, files: [] })).toThrow(
      'mount request failed with provider error code E1',
    );
    expect(() =>
      fromWireMountResponse({ objectVersion: [], error: undefined, files: [{ ...file, path: '/x' }] }),
    ).toThrow(new ProviderError('missing object versions'));
  });
});

describe('checkFilePath', () => {
  it.each(['foo', 'a/b/c', 'a..b', '..a', 'a/..b', './a', 'a//b', 'a/.'])('accepts %j', (path) => {
    expect(() => checkFilePath(path)).not.toThrow();
  });

  it.each([
    ['', 'empty path'],
    ['/abs', 'absolute path'],
    ['..', 'contains a ".." element'],
    ['../a', 'contains a ".." element'],
    ['a/..', 'contains a ".." element'],
    ['a/../b', 'contains a ".." element'],
    ['a\0b', 'contains a NUL byte'],
  ])('rejects %j (%s)', (path, why) => {
    expect(() => checkFilePath(path)).toThrow(
      new ProviderError(`provider returned an unsafe file path ${JSON.stringify(path)}: ${why}`),
    );
  });

  it('cuts very long paths in the message', () => {
    const path = `/${'x'.repeat(1000)}`;
    expect(() => checkFilePath(path)).toThrow(`"/${'x'.repeat(255)}...": absolute path`);
  });
});

describe('rpcErrorMessage', () => {
  it("uses gRPC-Go's format and names", () => {
    expect(rpcErrorMessage(Status.UNAVAILABLE, 'connection refused')).toBe(
      'rpc error: code = Unavailable desc = connection refused',
    );
    expect(goCodeName(Status.CANCELLED)).toBe('Canceled');
    expect(goCodeName(99)).toBe('Code(99)');
  });

  it('cuts long details', () => {
    expect(rpcErrorMessage(Status.UNKNOWN, 'd'.repeat(5000))).toHaveLength(
      'rpc error: code = Unknown desc = '.length + 1024 + 3,
    );
  });
});

/**
 * The generated code must speak the exact wire contract of secrets-store-csi-driver's provider/v1alpha1:
 * method paths and field numbers (checked on encoded bytes, so a renumbered field fails here).
 */
import {
  CSIDriverProviderService,
  File,
  MountRequest,
  MountResponse,
  ObjectVersion,
  VersionRequest,
  VersionResponse,
} from './index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** One length-delimited field: tag (field << 3 | 2), length, payload. */
const ld = (field: number, payload: string | Uint8Array): string => {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  return hex(new Uint8Array([(field << 3) | 2, body.length])) + hex(body);
};

describe('CSIDriverProvider v1alpha1 wire contract', () => {
  it('uses the upstream method paths', () => {
    expect(CSIDriverProviderService.version.path).toBe('/v1alpha1.CSIDriverProvider/Version');
    expect(CSIDriverProviderService.mount.path).toBe('/v1alpha1.CSIDriverProvider/Mount');
  });

  it('numbers VersionRequest / VersionResponse fields 1..3', () => {
    expect(hex(VersionRequest.encode({ version: 'v1alpha1' }).finish())).toBe(ld(1, 'v1alpha1'));
    expect(hex(VersionResponse.encode({ version: 'a', runtimeName: 'b', runtimeVersion: 'c' }).finish())).toBe(
      ld(1, 'a') + ld(2, 'b') + ld(3, 'c'),
    );
  });

  it('numbers MountRequest fields 1..5', () => {
    const ov = ObjectVersion.encode({ id: 'i', version: 'v' }).finish();
    expect(hex(ov)).toBe(ld(1, 'i') + ld(2, 'v'));
    const encoded = MountRequest.encode({
      attributes: '{}',
      secrets: 's',
      targetPath: '/t',
      permission: '420',
      currentObjectVersion: [{ id: 'i', version: 'v' }],
    }).finish();
    expect(hex(encoded)).toBe(ld(1, '{}') + ld(2, 's') + ld(3, '/t') + ld(4, '420') + ld(5, ov));
  });

  it('numbers MountResponse, File and Error fields', () => {
    const file = File.encode({ path: 'p', mode: 420, contents: new Uint8Array([7]) }).finish();
    // mode is field 2, varint 420 = 0xa4 0x03
    expect(hex(file)).toBe(ld(1, 'p') + '10a403' + ld(3, new Uint8Array([7])));
    const ov = ObjectVersion.encode({ id: 'i', version: 'v' }).finish();
    const encoded = MountResponse.encode({
      objectVersion: [{ id: 'i', version: 'v' }],
      error: { code: 'E' },
      files: [{ path: 'p', mode: 420, contents: new Uint8Array([7]) }],
    }).finish();
    expect(hex(encoded)).toBe(ld(1, ov) + ld(2, Buffer.from(ld(1, 'E'), 'hex')) + ld(3, file));
  });

  it('decodes an absent repeated object_version as an empty list', () => {
    expect(MountResponse.decode(new Uint8Array()).objectVersion).toEqual([]);
  });
});

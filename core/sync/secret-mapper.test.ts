import type { SecretObject } from '../api/types.js';
import { RemoteSecretStoreFetchFailed } from '../errors.js';
import type { ProviderFile } from '../ports/provider.js';
import { tlsFixtures } from './__tests__/tls-fixtures.js';
import { checkSecretSize, mapSecretData, MAX_SECRET_DATA_BYTES } from './secret-mapper.js';

const file = (path: string, contents: string | Uint8Array): ProviderFile => ({
  path, mode: 0o644, contents: typeof contents === 'string' ? Buffer.from(contents) : contents,
});
const opaque = (...data: [string, string][]): SecretObject => ({
  type: 'Opaque', data: data.map(([sourcePath, targetKey]) => ({ sourcePath, targetKey })),
});
const asText = (data: Record<string, Buffer>): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('latin1')]));

function mappingError(fn: () => unknown): RemoteSecretStoreFetchFailed {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RemoteSecretStoreFetchFailed);
    expect((err as RemoteSecretStoreFetchFailed).reason).toBe('RemoteSecretStoreFetchFailed');
    return err as RemoteSecretStoreFetchFailed;
  }
  throw new Error('expected RemoteSecretStoreFetchFailed');
}

describe('mapSecretData (upstream TestGetSecretData)', () => {
  test('source path not set', () => {
    expect(mappingError(() => mapSecretData([], opaque(['', 'bar']))).message).toBe('source path in secretObject.data is empty');
  });

  test('key not set', () => {
    expect(mappingError(() => mapSecretData([], opaque(['foo', '']))).message).toBe('target key in secretObject.data is empty');
  });

  test("file matching object doesn't exist in map", () => {
    expect(mappingError(() => mapSecretData([file('obj', 'test')], opaque(['foo', 'bar']))).message)
      .toBe('file matching sourcePath foo not found in the pod');
  });

  test('file matching object found in fs', () => {
    expect(asText(mapSecretData([file('foo', 'test')], opaque(['foo', 'bar'])))).toEqual({ bar: 'test' });
  });

  test('file matching object found in fs after trimming spaces in object name', () => {
    expect(asText(mapSecretData([file('foo', 'test')], opaque(['foo     ', 'bar'])))).toEqual({ bar: 'test' });
  });

  test('file matching object found in fs after trimming spaces in key', () => {
    expect(asText(mapSecretData([file('foo', 'test')], opaque(['foo     ', '   bar'])))).toEqual({ bar: 'test' });
  });
});

describe('mapSecretData details', () => {
  test('whitespace-only paths and keys count as empty', () => {
    expect(mappingError(() => mapSecretData([file('foo', 'x')], opaque([' \t', 'bar']))).message)
      .toBe('source path in secretObject.data is empty');
    expect(mappingError(() => mapSecretData([file('foo', 'x')], opaque(['foo', '  ']))).message)
      .toBe('target key in secretObject.data is empty');
  });

  test('later duplicate file path wins; unreferenced files are ignored; mode is ignored', () => {
    const files = [file('foo', 'first'), file('unused', 'zzz'), { path: 'foo', contents: Buffer.from('second') }];
    expect(asText(mapSecretData(files, opaque(['foo', 'a'], ['foo', 'b'])))).toEqual({ a: 'second', b: 'second' });
  });

  test('two entries with the same target key: the later wins', () => {
    const files = [file('x', '1'), file('y', '2')];
    expect(asText(mapSecretData(files, opaque(['x', 'k'], ['y', ' k'])))).toEqual({ k: '2' });
  });

  test('the first failing entry fails the whole mapping, in order', () => {
    const files = [file('a', '1')];
    expect(mappingError(() => mapSecretData(files, opaque(['a', 'k'], ['missing', 'm'], ['', 'n']))).message)
      .toBe('file matching sourcePath missing not found in the pod');
  });

  test('paths match exactly (no normalisation beyond trimming)', () => {
    expect(mappingError(() => mapSecretData([file('dir/foo', 'x')], opaque(['foo', 'k']))).message)
      .toBe('file matching sourcePath foo not found in the pod');
    expect(asText(mapSecretData([file('dir/foo', 'x')], opaque(['dir/foo', 'k'])))).toEqual({ k: 'x' });
  });

  test('values are Buffer copies of the provider bytes, binary-safe', () => {
    const raw = new Uint8Array([0, 255, 1, 128]);
    const data = mapSecretData([file('bin', raw)], opaque(['bin', 'k']));
    expect(Buffer.isBuffer(data.k)).toBe(true);
    expect([...(data.k as Buffer)]).toEqual([0, 255, 1, 128]);
    raw[0] = 9;
    expect(data.k?.[0]).toBe(0);
  });

  test('a __proto__ key is stored as data', () => {
    const data = mapSecretData([file('p', 'v')], opaque(['p', '__proto__']));
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(data['__proto__']?.toString()).toBe('v');
  });

  test('no entries: empty data', () => {
    expect(Object.keys(mapSecretData([file('a', '1')], { data: [] }))).toEqual([]);
  });

  test('non-TLS types are passed through untouched, even when the content is PEM', () => {
    const pem = tlsFixtures().rsa.key.pkcs8Pem;
    const data = mapSecretData([file('k', pem)], { type: 'kubernetes.io/ssh-auth', data: [{ sourcePath: 'k', targetKey: 'tls.key' }] });
    expect(data['tls.key']?.toString('latin1')).toBe(pem);
  });
});

describe('mapSecretData for kubernetes.io/tls', () => {
  const fx = tlsFixtures();
  const tls = (...data: [string, string][]): SecretObject => ({ ...opaque(...data), type: 'kubernetes.io/tls' });

  test('PEM bundle split into tls.crt and tls.key', () => {
    const files = [file('bundle', `${fx.rsa.pem}${fx.rsa.key.pkcs8Pem}`)];
    const data = asText(mapSecretData(files, tls(['bundle', 'tls.crt'], ['bundle', 'tls.key'])));
    expect(data).toEqual({ 'tls.crt': fx.rsa.pem, 'tls.key': fx.rsa.key.traditionalPem });
  });

  test('PFX file split into tls.crt and tls.key', () => {
    const files = [file('cert.pfx', fx.pfx.legacyRsa)];
    const data = asText(mapSecretData(files, tls(['cert.pfx', 'tls.crt'], ['cert.pfx', 'tls.key'])));
    expect(data).toEqual({ 'tls.crt': fx.rsa.pem, 'tls.key': fx.rsa.key.traditionalPem });
  });

  test('any other target key fails, wrapped', () => {
    const err = mappingError(() => mapSecretData([file('c', fx.rsa.pem)], tls(['c', 'ca.crt'])));
    expect(err.message).toBe("failed to get cert data for ca.crt: key 'ca.crt' is not supported. Only 'tls.key' and 'tls.crt' are supported");
  });

  test('TLS failures are wrapped with the key and never contain the file content', () => {
    const secretText = 'this-is-the-secret-value-1234567890';
    const err = mappingError(() => mapSecretData([file('k', secretText)], tls(['k', 'tls.key'])));
    expect(err.message).toMatch(/^failed to get cert data for tls\.key: the data is neither PEM nor a PKCS#12 archive/);
    expect(err.message).not.toContain(secretText);

    const junkKey = `${fx.rsa.pem}-----BEGIN PRIVATE KEY-----\n${Buffer.from(secretText).toString('base64')}\n-----END PRIVATE KEY-----\n`;
    const err2 = mappingError(() => mapSecretData([file('k', junkKey)], tls(['k', 'tls.key'])));
    expect(err2.message).toBe('failed to get cert data for tls.key: PEM block 2 (PRIVATE KEY) is not a valid PKCS#1, PKCS#8 or SEC1 private key');
    expect(err2.message).not.toContain(Buffer.from(secretText).toString('base64'));
  });

  test('our fix: nothing parseable as a key fails instead of producing an empty PRIVATE KEY block', () => {
    const files = [file('k', `${fx.rsa.pem}-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n`)];
    expect(mappingError(() => mapSecretData(files, tls(['k', 'tls.key']))).message)
      .toBe('failed to get cert data for tls.key: PEM block 2 (PRIVATE KEY) is not a valid PKCS#1, PKCS#8 or SEC1 private key');
  });
});

describe('Secret size limit (beyond upstream)', () => {
  test('exactly 1 MiB of keys plus values passes; one byte more fails, naming sizes only', () => {
    expect(MAX_SECRET_DATA_BYTES).toBe(1048576);
    const key = 'k';
    const exact = Buffer.alloc(MAX_SECRET_DATA_BYTES - key.length, 0x61);
    expect(mapSecretData([file('f', exact)], opaque(['f', key])).k?.length).toBe(exact.length);

    const over = Buffer.alloc(MAX_SECRET_DATA_BYTES - key.length + 1, 0x61);
    const err = mappingError(() => mapSecretData([file('f', over)], opaque(['f', key])));
    expect(err.message).toBe('secret data is 1048577 bytes (keys plus values), over the Kubernetes Secret limit of 1048576 bytes');
  });

  test('sizes add up across keys, and key lengths count', () => {
    const half = Buffer.alloc(MAX_SECRET_DATA_BYTES / 2, 0x62);
    const err = mappingError(() => mapSecretData([file('f', half)], opaque(['f', 'a'], ['f', 'b'])));
    expect(err.message).toContain('secret data is 1048578 bytes');
  });

  test('checkSecretSize counts UTF-8 bytes of keys', () => {
    expect(() => checkSecretSize({ 'é': Buffer.alloc(MAX_SECRET_DATA_BYTES - 2) })).not.toThrow();
    expect(() => checkSecretSize({ 'é': Buffer.alloc(MAX_SECRET_DATA_BYTES - 1) })).toThrow(RemoteSecretStoreFetchFailed);
  });
});

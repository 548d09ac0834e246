import forge from 'node-forge';
import { hugeIterationArchive, tlsFixtures } from './__tests__/tls-fixtures.js';
import { MAX_PKCS12_ITERATIONS, Pkcs12Error, readPkcs12 } from './pkcs12.js';

const fx = tlsFixtures();

function pkcs12Error(fn: () => unknown): Pkcs12Error {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Pkcs12Error);
    return err as Pkcs12Error;
  }
  throw new Error('expected a Pkcs12Error');
}

/** An archive written by node-forge (plain certificate bags, RSA key) with the given password. */
function forgeArchive(password: string | null, options: Record<string, unknown> = {}): Buffer {
  const key = forge.pki.privateKeyFromPem(fx.rsa.key.traditionalPem as string);
  const cert = forge.pki.certificateFromPem(fx.rsa.pem);
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, cert, password as string, { algorithm: '3des', ...options });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

describe('readPkcs12', () => {
  test('openssl legacy archive: one certificate byte-exact, one PKCS#8 key', () => {
    const out = readPkcs12(fx.pfx.legacyRsa);
    expect(out.certificates).toHaveLength(1);
    expect(out.certificates[0]?.equals(fx.rsa.der)).toBe(true);
    expect(out.privateKeys).toHaveLength(1);
    expect(out.privateKeys[0]?.equals(fx.rsa.key.key.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
  });

  test('accepts a Uint8Array view into a larger buffer', () => {
    const padded = Buffer.concat([Buffer.from('xxxx'), fx.pfx.modernEc, Buffer.from('yyyy')]);
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 4, fx.pfx.modernEc.length);
    expect(readPkcs12(view).certificates[0]?.equals(fx.ec.der)).toBe(true);
  });

  test('empty-string password archive with a 3DES shrouded key (node-forge writer)', () => {
    const out = readPkcs12(forgeArchive(''));
    expect(out.certificates[0]?.equals(fx.rsa.der)).toBe(true);
    expect(out.privateKeys).toHaveLength(1);
  });

  test('"no password" archive: MAC under the absent password, unencrypted key bag', () => {
    const out = readPkcs12(forgeArchive(null, { useMac: true }));
    expect(out.certificates[0]?.equals(fx.rsa.der)).toBe(true);
    expect(out.privateKeys[0]?.equals(fx.rsa.key.key.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
  });

  test('wrong password is reported as such', () => {
    expect(pkcs12Error(() => readPkcs12(forgeArchive('pw'))).message)
      .toBe('PKCS#12 integrity check failed: the archive is not protected by an empty password');
  });

  test('no MAC and a key encrypted under another password fails', () => {
    const err = pkcs12Error(() => readPkcs12(forgeArchive('pw', { useMac: false })));
    expect(err.message).toBe('cannot decrypt the shrouded key: wrong password or corrupted data');
  });

  test('hostile iteration counts are refused before any key derivation', () => {
    const archive = hugeIterationArchive();
    expect(MAX_PKCS12_ITERATIONS).toBe(1_000_000);
    const started = performance.now();
    const err = pkcs12Error(() => readPkcs12(archive));
    expect(err.message).toBe('shrouded key iteration count 1000001 is outside 1..1000000');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test.each([
    ['empty input', Buffer.alloc(0), 'PKCS#12 data is empty'],
    ['truncated DER', fx.pfx.modernRsa.subarray(0, 100), /^malformed PFX: /],
    ['trailing bytes', Buffer.concat([fx.pfx.modernRsa, Buffer.from([0])]), 'malformed PFX: Unparsed DER bytes remain after ASN.1 parsing.'],
    ['a certificate is not an archive', fx.rsa.der, 'malformed PFX version'],
    ['random bytes', Buffer.from('0123456789abcdef'), /^malformed PFX: /],
  ])('%s fails with Pkcs12Error', (_name, input, message) => {
    const err = pkcs12Error(() => readPkcs12(input));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
  });
});

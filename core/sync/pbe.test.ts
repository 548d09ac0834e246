import { createCipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { parseDer } from './der.js';
import { bmpPassword, MAX_PBE_ITERATIONS, PbeError, pbeDecrypt, pkcs12Kdf, type Pkcs12KdfHash } from './pbe.js';

const forgeMd: Record<Pkcs12KdfHash, () => forge.md.MessageDigest> = {
  sha1: () => forge.md.sha1.create(),
  sha224: () => forge.md.sha512.sha224.create() as unknown as forge.md.MessageDigest,
  sha256: () => forge.md.sha256.create(),
  sha384: () => forge.md.sha384.create(),
  sha512: () => forge.md.sha512.create(),
};

/** DER of `SEQUENCE { OID, params }` built with forge, for feeding `pbeDecrypt`. */
function algorithm(oid: string, params: forge.asn1.Asn1): forge.asn1.Asn1 {
  const { Class, Type } = forge.asn1;
  const seq = forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [
    forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(oid).getBytes()), params,
  ]);
  return parseDer(Buffer.from(forge.asn1.toDer(seq).getBytes(), 'binary'), 'test');
}
const { Class, Type } = forge.asn1;
const octets = (b: Buffer) => forge.asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, b.toString('binary'));
const int = (n: number) => forge.asn1.integerToDer(n).getBytes();
const integer = (n: number) => forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, int(n));
const seq = (...items: forge.asn1.Asn1[]) => forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const oidNode = (oid: string) => forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(oid).getBytes());

describe('bmpPassword', () => {
  test('UTF-16BE with a two-byte terminator; null is empty', () => {
    expect(bmpPassword('').toString('hex')).toBe('0000');
    expect(bmpPassword('ab').toString('hex')).toBe('006100620000');
    expect(bmpPassword(null).length).toBe(0);
  });
});

describe('pkcs12Kdf agrees with node-forge\'s independent implementation', () => {
  test.each([
    ['sha1', '', 1, 2048, 24],
    ['sha1', '', 2, 2048, 8],
    ['sha1', 'pässword', 3, 1, 20],
    ['sha1', null, 1, 3, 5],
    ['sha256', '', 3, 2048, 32],
    ['sha256', 'x', 1, 10, 100],
    ['sha512', '', 3, 7, 64],
    ['sha384', 'longer password than one block of sixty-four bytes, for the fill logic', 1, 2, 130],
  ] as const)('%s password=%j id=%i iterations=%i length=%i', (hash, password, id, iterations, length) => {
    const salt = randomBytes(8);
    const ours = pkcs12Kdf(hash, bmpPassword(password), salt, id, iterations, length);
    const theirs = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt.toString('binary')), id, iterations, length, forgeMd[hash]());
    expect(ours.toString('hex')).toBe(forge.util.bytesToHex(theirs.getBytes()));
    expect(ours.length).toBe(length);
  });
});

describe('pbeDecrypt', () => {
  const plaintext = Buffer.from('the private key info bytes');

  test('PKCS#12 PBE with 3DES (encrypted with node-forge)', () => {
    const salt = randomBytes(8);
    const params = seq(octets(salt), integer(2048));
    const oid = '1.2.840.113549.1.12.1.3';
    // Encrypt with forge's own KDF and 3DES, independently of the code under test.
    const fkey = forge.pkcs12.generateKey('', forge.util.createBuffer(salt.toString('binary')), 1, 2048, 24);
    const fiv = forge.pkcs12.generateKey('', forge.util.createBuffer(salt.toString('binary')), 2, 2048, 8);
    const cipher = forge.cipher.createCipher('3DES-CBC', fkey);
    cipher.start({ iv: fiv });
    cipher.update(forge.util.createBuffer(plaintext.toString('binary')));
    cipher.finish();
    const encrypted = Buffer.from(cipher.output.getBytes(), 'binary');
    expect(pbeDecrypt(algorithm(oid, params), encrypted, '', 'test').equals(plaintext)).toBe(true);
    expect(() => pbeDecrypt(algorithm(oid, params), encrypted, 'wrong', 'test')).toThrow(PbeError);
  });

  test('PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC (encrypted with node:crypto)', () => {
    const salt = randomBytes(16);
    const iv = randomBytes(16);
    const key = pbkdf2Sync('', salt, 1000, 32, 'sha256');
    const c = createCipheriv('aes-256-cbc', key, iv);
    const encrypted = Buffer.concat([c.update(plaintext), c.final()]);
    const params = seq(
      seq(oidNode('1.2.840.113549.1.5.12'), seq(octets(salt), integer(1000), seq(oidNode('1.2.840.113549.2.9')))),
      seq(oidNode('2.16.840.1.101.3.4.1.42'), octets(iv)),
    );
    expect(pbeDecrypt(algorithm('1.2.840.113549.1.5.13', params), encrypted, '', 'test').equals(plaintext)).toBe(true);
    // A null password is also the empty PBKDF2 password.
    expect(pbeDecrypt(algorithm('1.2.840.113549.1.5.13', params), encrypted, null, 'test').equals(plaintext)).toBe(true);
  });

  test('iteration counts are checked before deriving', () => {
    const params = seq(octets(randomBytes(8)), integer(MAX_PBE_ITERATIONS + 1));
    expect(() => pbeDecrypt(algorithm('1.2.840.113549.1.12.1.3', params), Buffer.alloc(16), '', 'test'))
      .toThrow('test iteration count 1000001 is outside 1..1000000');
    const zero = seq(octets(randomBytes(8)), integer(0));
    expect(() => pbeDecrypt(algorithm('1.2.840.113549.1.12.1.3', zero), Buffer.alloc(16), '', 'test'))
      .toThrow('test iteration count 0 is outside 1..1000000');
  });

  test('unsupported schemes are named by OID', () => {
    const params = seq(octets(randomBytes(8)), integer(1));
    expect(() => pbeDecrypt(algorithm('1.2.840.113549.1.12.1.1', params), Buffer.alloc(16), '', 'test'))
      .toThrow('unsupported test encryption algorithm 1.2.840.113549.1.12.1.1');
  });
});

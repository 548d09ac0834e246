/**
 * Password-based decryption as used inside PKCS#12 archives, on Node's native hashes and ciphers (node-forge's
 * pure-JS key derivation took ~50 ms per derivation, several hundred ms per archive, blocking the event loop).
 *
 * Supported: PKCS#12 PBE (RFC 7292 App. C) with SHA-1 and 3-key or 2-key 3DES, or 128/40-bit RC2 (RC2 through
 * node-forge, since OpenSSL 3 keeps it in the legacy provider); PBES2 (RFC 8018) with PBKDF2 (HMAC-SHA1/224/256/
 * 384/512) and AES-128/192/256-CBC or 3DES-CBC. RC4 variants and other schemes fail with `PbeError`.
 *
 * Edge cases:
 * - The password `null` means "no password" (an empty byte string); `''` is the BMP encoding `00 00` for PKCS#12
 *   KDF and the empty string for PBKDF2, as OpenSSL and Go treat them.
 * - Iteration counts outside 1..`MAX_PBE_ITERATIONS` are refused before any derivation.
 * - A padding failure after decryption means a wrong password or corrupted data; it is reported as such.
 */
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';
import forge from 'node-forge';
import { children, child, integer, octetString, oid, type Asn1 } from './der.js';

/** Encryption that cannot be undone with the given password, or an unsupported scheme. */
export class PbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PbeError';
  }
}

/** Upper bound for iteration counts (OpenSSL and Windows use 2048, some tools 100 000 or more). */
export const MAX_PBE_ITERATIONS = 1_000_000;

export type Pkcs12KdfHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
const HASH_SIZES: Record<Pkcs12KdfHash, { u: number; v: number }> = {
  sha1: { u: 20, v: 64 },
  sha224: { u: 28, v: 64 },
  sha256: { u: 32, v: 64 },
  sha384: { u: 48, v: 128 },
  sha512: { u: 64, v: 128 },
};

/** The PKCS#12 password encoding: UTF-16BE plus a two-byte terminator; `null` is the empty byte string. */
export function bmpPassword(password: string | null): Buffer {
  if (password === null) return Buffer.alloc(0);
  const out = Buffer.alloc(password.length * 2 + 2);
  for (let i = 0; i < password.length; i++) out.writeUInt16BE(password.charCodeAt(i), i * 2);
  return out;
}

/** RFC 7292 Appendix B.2 key derivation. `id`: 1 = key, 2 = IV, 3 = MAC key. */
export function pkcs12Kdf(
  hash: Pkcs12KdfHash, password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, length: number,
): Buffer {
  checkIterations(iterations, 'key derivation');
  const { u, v } = HASH_SIZES[hash];
  const fill = (src: Buffer): Buffer => {
    const out = Buffer.alloc(src.length === 0 ? 0 : v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(salt), fill(password)]);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < length; produced += u) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let n = 1; n < iterations; n++) a = createHash(hash).update(a).digest();
    blocks.push(a);
    if (produced + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v) for every v-byte block of I, where B is A repeated to v bytes.
    const b = Buffer.alloc(v);
    for (let k = 0; k < v; k++) b[k] = a[k % u] as number;
    for (let off = 0; off < i.length; off += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (i[off + k] as number) + (b[k] as number) + carry;
        i[off + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, length);
}

const PKCS12_PBE: Record<string, { cipher: string; keyLength: number; rc2Bits?: number }> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16, rc2Bits: 128 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5, rc2Bits: 40 },
};
const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const PBKDF2_PRFS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const PBES2_CIPHERS: Record<string, { cipher: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { cipher: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { cipher: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { cipher: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { cipher: 'des-ede3-cbc', keyLength: 24 },
};

/** Decrypts `encrypted` under the AlgorithmIdentifier `algorithm` (a `SEQUENCE { OID, params }` node). */
export function pbeDecrypt(algorithm: Asn1, encrypted: Buffer, password: string | null, what: string): Buffer {
  const parts = children(algorithm, `${what} algorithm`, 2);
  const algOid = oid(parts[0], `${what} algorithm`);
  const params = child(parts, 1, `${what} algorithm parameters`);
  const pkcs12 = PKCS12_PBE[algOid];
  if (pkcs12 !== undefined) {
    const [saltNode, iterNode] = children(params, `${what} PBE parameters`, 2);
    const salt = octetString(saltNode, `${what} PBE salt`);
    const iterations = integer(iterNode, `${what} PBE iterations`);
    checkIterations(iterations, what);
    const pass = bmpPassword(password);
    const key = pkcs12Kdf('sha1', pass, salt, 1, iterations, pkcs12.keyLength);
    const iv = pkcs12Kdf('sha1', pass, salt, 2, iterations, 8);
    return pkcs12.rc2Bits !== undefined
      ? rc2Decrypt(key, pkcs12.rc2Bits, iv, encrypted, what)
      : nativeDecrypt(pkcs12.cipher, key, iv, encrypted, what);
  }
  if (algOid === PBES2) {
    const [kdf, scheme] = children(params, `${what} PBES2 parameters`, 2);
    const [kdfOid, kdfParams] = children(kdf, `${what} PBES2 key derivation`, 2);
    const kdfName = oid(kdfOid, `${what} PBES2 key derivation`);
    if (kdfName !== PBKDF2) throw new PbeError(`unsupported ${what} key derivation ${kdfName}`);
    const pbkdf2 = children(kdfParams, `${what} PBKDF2 parameters`, 2);
    const salt = octetString(pbkdf2[0], `${what} PBKDF2 salt`);
    const iterations = integer(pbkdf2[1], `${what} PBKDF2 iterations`);
    checkIterations(iterations, what);
    // Optional keyLength INTEGER, then optional prf AlgorithmIdentifier (default HMAC-SHA1).
    const prfNode = pbkdf2.slice(2).find((n) => n.constructed);
    const prfOid = prfNode === undefined ? '1.2.840.113549.2.7' : oid(children(prfNode, `${what} PBKDF2 PRF`, 1)[0], `${what} PBKDF2 PRF`);
    const prf = PBKDF2_PRFS[prfOid];
    if (prf === undefined) throw new PbeError(`unsupported ${what} PBKDF2 PRF ${prfOid}`);
    const [schemeOid, ivNode] = children(scheme, `${what} PBES2 encryption scheme`, 2);
    const schemeName = oid(schemeOid, `${what} PBES2 encryption scheme`);
    const cipher = PBES2_CIPHERS[schemeName];
    if (cipher === undefined) throw new PbeError(`unsupported ${what} encryption scheme ${schemeName}`);
    const iv = octetString(ivNode, `${what} PBES2 IV`);
    const key = pbkdf2Sync(Buffer.from(password ?? '', 'utf8'), salt, iterations, cipher.keyLength, prf);
    return nativeDecrypt(cipher.cipher, key, iv, encrypted, what);
  }
  throw new PbeError(`unsupported ${what} encryption algorithm ${algOid}`);
}

export function checkIterations(iterations: number, what: string): void {
  if (!(iterations >= 1 && iterations <= MAX_PBE_ITERATIONS)) {
    const shown = Number.isFinite(iterations) ? ` ${iterations}` : '';
    throw new PbeError(`${what} iteration count${shown} is outside 1..${MAX_PBE_ITERATIONS}`);
  }
}

function nativeDecrypt(cipher: string, key: Buffer, iv: Buffer, encrypted: Buffer, what: string): Buffer {
  try {
    const decipher = createDecipheriv(cipher, key, iv);
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  } catch {
    throw new PbeError(`cannot decrypt the ${what}: wrong password or corrupted data`);
  }
}

function rc2Decrypt(key: Buffer, bits: number, iv: Buffer, encrypted: Buffer, what: string): Buffer {
  if (iv.length !== 8) throw new PbeError(`malformed ${what} RC2 IV`);
  const decipher = forge.rc2.createDecryptionCipher(key.toString('binary'), bits);
  decipher.start(iv.toString('binary'));
  decipher.update(forge.util.createBuffer(encrypted.toString('binary')));
  if (!decipher.finish()) throw new PbeError(`cannot decrypt the ${what}: wrong password or corrupted data`);
  return Buffer.from(decipher.output.getBytes(), 'binary');
}

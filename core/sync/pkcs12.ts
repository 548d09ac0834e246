/**
 * Reads a PKCS#12 (PFX) archive protected by the empty password, as upstream does with Go's
 * `pkcs12.ToPEM(data, "")`, and returns the raw DER of its certificates and private keys.
 *
 * The bag walk is done here (with node-forge's ASN.1 reader, see der.ts, and native crypto, see pbe.ts) rather
 * than with `forge.pkcs12.pkcs12FromAsn1`, so that certificates come back byte-for-byte (forge re-encodes the
 * certificates it understands and cannot parse EC ones) and key derivation is fast.
 *
 * Edge cases:
 * - "Empty password" is tried as the two-zero-byte BMP string first and then as no password at all, like Go's
 *   reader; the integrity MAC decides which one the archive uses. Without a MAC the BMP empty string is used.
 * - Both Windows / Key Vault archives (RC2-40 certificates, 3DES keys, SHA-1 MAC) and OpenSSL 3 defaults (PBES2
 *   AES-256-CBC, SHA-256 MAC) are read; Go's reader only knew the former.
 * - Archives in public-key integrity mode, with a MAC that does not verify, or using an unsupported cipher or MAC
 *   algorithm (for example PBMAC1) fail with `Pkcs12Error`.
 * - Iteration counts above `MAX_PKCS12_ITERATIONS` are refused before any key derivation, so a hostile archive
 *   cannot stall the controller.
 * - CRL, secret, SDSI-certificate and nested safe-contents bags are ignored; certificates and keys are returned
 *   in bag order.
 * - Messages name structures and algorithm OIDs only, never content.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { children, child, DerError, explicitContent, integer, octetString, oid, parseDer, shortText, toDer, type Asn1 } from './der.js';
import { bmpPassword, checkIterations, MAX_PBE_ITERATIONS, PbeError, pbeDecrypt, pkcs12Kdf, type Pkcs12KdfHash } from './pbe.js';

/** Malformed, unsupported or password-protected PKCS#12 data. */
export class Pkcs12Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs12Error';
  }
}

export interface Pkcs12Contents {
  /** DER-encoded X.509 certificates, in bag order. */
  certificates: Buffer[];
  /** DER-encoded, decrypted PKCS#8 PrivateKeyInfo structures, in bag order. */
  privateKeys: Buffer[];
}

export const MAX_PKCS12_ITERATIONS = MAX_PBE_ITERATIONS;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
} as const;

const MAC_DIGESTS: Record<string, { hash: Pkcs12KdfHash; keyBytes: number }> = {
  '1.3.14.3.2.26': { hash: 'sha1', keyBytes: 20 },
  '2.16.840.1.101.3.4.2.4': { hash: 'sha224', keyBytes: 28 },
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', keyBytes: 32 },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', keyBytes: 48 },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', keyBytes: 64 },
};

/** Parses `der` with the empty password. Throws `Pkcs12Error`. */
export function readPkcs12(der: Uint8Array): Pkcs12Contents {
  try {
    return readPfx(der);
  } catch (err) {
    if (err instanceof Pkcs12Error) throw err;
    if (err instanceof DerError || err instanceof PbeError) throw new Pkcs12Error(err.message);
    throw new Pkcs12Error(`malformed PKCS#12 data: ${shortText(err)}`);
  }
}

function readPfx(der: Uint8Array): Pkcs12Contents {
  if (der.byteLength === 0) throw new Pkcs12Error('PKCS#12 data is empty');
  const pfx = children(parseDer(der, 'PFX'), 'PFX', 2);
  if (integer(pfx[0], 'PFX version') !== 3) throw new Pkcs12Error('unsupported PKCS#12 version (want 3)');
  const authSafe = children(pfx[1], 'PFX authSafe', 2);
  if (oid(authSafe[0], 'authSafe contentType') !== OID.data) {
    throw new Pkcs12Error('PKCS#12 archives in public-key integrity mode are not supported');
  }
  const authSafeBytes = octetString(explicitContent(authSafe[1], 'authSafe content'), 'authSafe content');
  const password = pfx[2] === undefined ? '' : verifiedPassword(pfx[2], authSafeBytes);

  const result: Pkcs12Contents = { certificates: [], privateKeys: [] };
  for (const contentInfo of children(parseDer(authSafeBytes, 'AuthenticatedSafe'), 'AuthenticatedSafe', 0)) {
    const [type, content] = children(contentInfo, 'ContentInfo', 2);
    const contentType = oid(type, 'ContentInfo contentType');
    if (contentType === OID.data) {
      const safeContents = octetString(explicitContent(content, 'ContentInfo content'), 'SafeContents');
      collectBags(parseDer(safeContents, 'SafeContents'), password, result);
    } else if (contentType === OID.encryptedData) {
      const safeContents = decryptEncryptedData(explicitContent(content, 'EncryptedData'), password);
      collectBags(parseDecrypted(safeContents, 'certificate bag'), password, result);
    } else {
      throw new Pkcs12Error(`unsupported PKCS#12 ContentInfo type ${contentType}`);
    }
  }
  return result;
}

/** Verifies the integrity MAC with the BMP empty password, then with no password; returns the one that matches. */
function verifiedPassword(macData: Asn1, authSafeBytes: Buffer): string | null {
  const mac = children(macData, 'MacData', 2);
  const digestInfo = children(mac[0], 'MAC DigestInfo', 2);
  const algOid = oid(children(digestInfo[0], 'MAC algorithm', 1)[0], 'MAC algorithm');
  const digest = MAC_DIGESTS[algOid];
  if (digest === undefined) throw new Pkcs12Error(`unsupported PKCS#12 MAC algorithm ${algOid}`);
  const iterations = mac[2] === undefined ? 1 : integer(mac[2], 'MAC iterations');
  checkIterations(iterations, 'MAC');
  const salt = octetString(child(mac, 1, 'MAC salt'), 'MAC salt');
  const expected = octetString(digestInfo[1], 'MAC digest');
  for (const password of ['', null]) {
    const key = pkcs12Kdf(digest.hash, bmpPassword(password), salt, 3, iterations, digest.keyBytes);
    const actual = createHmac(digest.hash, key).update(authSafeBytes).digest();
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return password;
  }
  throw new Pkcs12Error('PKCS#12 integrity check failed: the archive is not protected by an empty password');
}

function collectBags(safeContents: Asn1, password: string | null, out: Pkcs12Contents): void {
  for (const bag of children(safeContents, 'SafeContents', 0)) {
    const [bagId, bagValue] = children(bag, 'SafeBag', 2);
    const type = oid(bagId, 'SafeBag type');
    if (type === OID.certBag) {
      const [certId, certValue] = children(explicitContent(bagValue, 'CertBag'), 'CertBag', 2);
      if (oid(certId, 'CertBag type') !== OID.x509Certificate) continue; // SDSI certificates
      out.certificates.push(octetString(explicitContent(certValue, 'CertBag value'), 'CertBag value'));
    } else if (type === OID.keyBag) {
      out.privateKeys.push(toDer(explicitContent(bagValue, 'KeyBag')));
    } else if (type === OID.pkcs8ShroudedKeyBag) {
      const [algorithm, encrypted] = children(explicitContent(bagValue, 'shrouded key bag'), 'EncryptedPrivateKeyInfo', 2);
      const key = pbeDecrypt(algorithm as Asn1, octetString(encrypted, 'encrypted private key'), password, 'shrouded key');
      parseDecrypted(key, 'shrouded key');
      out.privateKeys.push(key);
    }
  }
}

function decryptEncryptedData(encryptedData: Asn1, password: string | null): Buffer {
  const encryptedContentInfo = child(children(encryptedData, 'EncryptedData', 2), 1, 'EncryptedContentInfo');
  const [, algorithm, encrypted] = children(encryptedContentInfo, 'EncryptedContentInfo', 3);
  return pbeDecrypt(algorithm as Asn1, octetString(encrypted, 'encrypted content'), password, 'certificate bag');
}

/**
 * Decrypted bytes must be DER: with a wrong password, CBC padding still checks out about once in 256 tries, and
 * the garbage is caught here instead.
 */
function parseDecrypted(bytes: Buffer, what: string): Asn1 {
  try {
    return parseDer(bytes, what);
  } catch (err) {
    if (err instanceof DerError) throw new PbeError(`cannot decrypt the ${what}: wrong password or corrupted data`);
    throw err;
  }
}

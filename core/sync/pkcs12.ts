/**
 * Reads a PKCS#12 (PFX) archive protected by the empty password, as upstream does with Go's
 * `pkcs12.ToPEM(data, "")`, and returns the raw DER of its certificates and private keys.
 *
 * node-forge supplies the ASN.1 reader and the password-based ciphers (PKCS#12 PBE with 3DES or 40-bit RC2, as
 * Windows and Azure Key Vault produce, and PBES2 with AES, as OpenSSL 3 produces by default). The bag walk is
 * done here rather than with `forge.pkcs12.pkcs12FromAsn1` so that certificates come back byte-for-byte (forge
 * re-encodes the certificates it understands and cannot parse EC ones at all).
 *
 * Edge cases:
 * - "Empty password" is tried as the two-zero-byte BMP string first and then as no password at all, like Go's
 *   reader; the integrity MAC decides which one the archive uses.
 * - Archives in public-key integrity mode, without a MAC that verifies, or using a cipher or MAC algorithm forge
 *   lacks (for example PBMAC1) fail with `Pkcs12Error`.
 * - Iteration counts above `MAX_PKCS12_ITERATIONS` are refused before any key derivation, so a hostile archive
 *   cannot stall the controller.
 * - CRL, secret and nested safe-contents bags are ignored; certificates are returned in bag order.
 * - Messages name structures and algorithm OIDs only, never content.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import forge from 'node-forge';

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

/** Upper bound for MAC and encryption iteration counts (OpenSSL and Windows use 2048, some tools 100 000+). */
export const MAX_PKCS12_ITERATIONS = 1_000_000;

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

const MAC_DIGESTS: Record<string, { node: string; forge: () => forge.md.MessageDigest; keyBytes: number }> = {
  '1.3.14.3.2.26': { node: 'sha1', forge: () => forge.md.sha1.create(), keyBytes: 20 },
  '2.16.840.1.101.3.4.2.1': { node: 'sha256', forge: () => forge.md.sha256.create(), keyBytes: 32 },
  '2.16.840.1.101.3.4.2.2': { node: 'sha384', forge: () => forge.md.sha384.create(), keyBytes: 48 },
  '2.16.840.1.101.3.4.2.3': { node: 'sha512', forge: () => forge.md.sha512.create(), keyBytes: 64 },
};

/** The parts of forge's PBE API that its type declarations leave out. */
interface ForgePbe {
  getCipher(oid: string, params: forge.asn1.Asn1, password: string | null): forge.cipher.BlockCipher;
}
interface ForgePki {
  pbe: ForgePbe;
  decryptPrivateKeyInfo(obj: forge.asn1.Asn1, password: string | null): forge.asn1.Asn1 | null;
}
const pki = forge.pki as unknown as ForgePki;

type Asn1 = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

/** Parses `der` with the empty password. Throws `Pkcs12Error`. */
export function readPkcs12(der: Uint8Array): Pkcs12Contents {
  try {
    return readPfx(der);
  } catch (err) {
    if (err instanceof Pkcs12Error) throw err;
    // forge's messages are fixed strings about structure ("Too few bytes to parse DER.") and never quote data.
    throw new Pkcs12Error(`malformed PKCS#12 data: ${shortText(err)}`);
  }
}

function readPfx(der: Uint8Array): Pkcs12Contents {
  if (der.byteLength === 0) throw new Pkcs12Error('PKCS#12 data is empty');
  const pfx = parseDer(Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('binary'), 'PFX');
  const [version, authSafe, macData] = children(pfx, 'PFX', 2);
  if (readSmallInt(version as Asn1, 'PFX version') !== 3) throw new Pkcs12Error('unsupported PKCS#12 version (want 3)');
  const [contentType, explicitContent] = children(authSafe as Asn1, 'PFX authSafe', 1);
  if (readOid(contentType as Asn1, 'authSafe contentType') !== OID.data) {
    throw new Pkcs12Error('PKCS#12 archives in public-key integrity mode are not supported');
  }
  const authSafeBytes = octetString(firstChild(explicitContent, 'authSafe content'), 'authSafe content');

  const password = macData === undefined ? '' : verifiedPassword(macData, authSafeBytes);

  const result: Pkcs12Contents = { certificates: [], privateKeys: [] };
  const contentInfos = parseDer(authSafeBytes, 'AuthenticatedSafe');
  for (const contentInfo of children(contentInfos, 'AuthenticatedSafe', 0)) {
    const [type, content] = children(contentInfo, 'ContentInfo', 1);
    const oid = readOid(type as Asn1, 'ContentInfo contentType');
    if (oid === OID.data) {
      collectBags(parseDer(octetString(firstChild(content, 'ContentInfo content'), 'SafeContents'), 'SafeContents'), password, result);
    } else if (oid === OID.encryptedData) {
      collectBags(parseDer(decryptEncryptedData(firstChild(content, 'EncryptedData'), password), 'SafeContents'), password, result);
    } else {
      throw new Pkcs12Error(`unsupported PKCS#12 ContentInfo type ${oid}`);
    }
  }
  return result;
}

/** Verifies the integrity MAC with the BMP empty password, then with no password; returns the one that matches. */
function verifiedPassword(macData: Asn1, authSafeBytes: string): string | null {
  const [digestInfo, saltNode, iterNode] = children(macData, 'MacData', 2);
  const [algorithm, digestNode] = children(digestInfo as Asn1, 'MAC DigestInfo', 2);
  const [algOid] = children(algorithm as Asn1, 'MAC algorithm', 1);
  const oid = readOid(algOid as Asn1, 'MAC algorithm');
  const digest = MAC_DIGESTS[oid];
  if (digest === undefined) throw new Pkcs12Error(`unsupported PKCS#12 MAC algorithm ${oid}`);
  const iterations = iterNode === undefined ? 1 : readSmallInt(iterNode, 'MAC iterations');
  checkIterations(iterations, 'MAC');
  const salt = octetString(saltNode as Asn1, 'MAC salt');
  const expected = Buffer.from(octetString(digestNode as Asn1, 'MAC digest'), 'binary');
  const message = Buffer.from(authSafeBytes, 'binary');
  for (const password of ['', null]) {
    const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(salt), 3, iterations, digest.keyBytes, digest.forge());
    const actual = createHmac(digest.node, Buffer.from(key.getBytes(), 'binary')).update(message).digest();
    if (actual.length === expected.length && timingSafeEqual(actual, expected)) return password;
  }
  throw new Pkcs12Error('PKCS#12 integrity check failed: the archive is not protected by an empty password');
}

function collectBags(safeContents: Asn1, password: string | null, out: Pkcs12Contents): void {
  for (const bag of children(safeContents, 'SafeContents', 0)) {
    const [bagId, bagValue] = children(bag, 'SafeBag', 2);
    const oid = readOid(bagId as Asn1, 'SafeBag type');
    const value = firstChild(bagValue, 'SafeBag value');
    if (oid === OID.certBag) {
      const [certId, certValue] = children(value, 'CertBag', 2);
      if (readOid(certId as Asn1, 'CertBag type') !== OID.x509Certificate) continue; // SDSI certificates
      out.certificates.push(Buffer.from(octetString(firstChild(certValue, 'CertBag value'), 'CertBag value'), 'binary'));
    } else if (oid === OID.keyBag) {
      out.privateKeys.push(Buffer.from(forge.asn1.toDer(value).getBytes(), 'binary'));
    } else if (oid === OID.pkcs8ShroudedKeyBag) {
      checkCipherIterations(value, 'shrouded key');
      const decrypted = pki.decryptPrivateKeyInfo(value, password);
      if (decrypted === null) throw new Pkcs12Error('cannot decrypt the PKCS#12 private key with an empty password');
      out.privateKeys.push(Buffer.from(forge.asn1.toDer(decrypted).getBytes(), 'binary'));
    }
  }
}

function decryptEncryptedData(encryptedData: Asn1, password: string | null): string {
  const [, encryptedContentInfo] = children(encryptedData, 'EncryptedData', 2);
  const [, algorithm, encrypted] = children(encryptedContentInfo as Asn1, 'EncryptedContentInfo', 3);
  const [algOid, params] = children(algorithm as Asn1, 'content encryption algorithm', 2);
  const oid = readOid(algOid as Asn1, 'content encryption algorithm');
  checkIterationsOf(oid, params as Asn1, 'certificate bag');
  const cipher = pki.pbe.getCipher(oid, params as Asn1, password);
  cipher.update(forge.util.createBuffer(octetString(encrypted as Asn1, 'encrypted content')));
  if (!cipher.finish()) throw new Pkcs12Error('cannot decrypt PKCS#12 content with an empty password');
  return cipher.output.getBytes();
}

/** EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }. */
function checkCipherIterations(encryptedPrivateKeyInfo: Asn1, what: string): void {
  const [algorithm] = children(encryptedPrivateKeyInfo, 'EncryptedPrivateKeyInfo', 2);
  const [algOid, params] = children(algorithm as Asn1, 'key encryption algorithm', 2);
  checkIterationsOf(readOid(algOid as Asn1, 'key encryption algorithm'), params as Asn1, what);
}

/** Reads the iteration count of PKCS#12 PBE params `{salt, iterations}` or PBES2 params with PBKDF2. */
function checkIterationsOf(oid: string, params: Asn1, what: string): void {
  let iterNode: Asn1 | undefined;
  if (oid === OID.pbes2) {
    const [kdf] = children(params, 'PBES2 parameters', 2);
    const [kdfOid, kdfParams] = children(kdf as Asn1, 'PBES2 key derivation', 2);
    if (readOid(kdfOid as Asn1, 'PBES2 key derivation') !== OID.pbkdf2) return; // forge rejects it with its own error
    iterNode = children(kdfParams as Asn1, 'PBKDF2 parameters', 2)[1];
  } else if (Array.isArray(params.value)) {
    iterNode = params.value[1];
  }
  if (iterNode !== undefined) checkIterations(readSmallInt(iterNode, `${what} iterations`), what);
}

function checkIterations(iterations: number, what: string): void {
  if (!(iterations >= 1 && iterations <= MAX_PKCS12_ITERATIONS)) {
    const shown = Number.isFinite(iterations) ? ` ${iterations}` : '';
    throw new Pkcs12Error(`PKCS#12 ${what} iteration count${shown} is outside 1..${MAX_PKCS12_ITERATIONS}`);
  }
}

// ---- tiny ASN.1 helpers over forge's tree ----

function parseDer(bytes: string, what: string): Asn1 {
  try {
    return forge.asn1.fromDer(bytes, { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean);
  } catch (err) {
    throw new Pkcs12Error(`malformed PKCS#12 ${what}: ${shortText(err)}`);
  }
}

/** The children of a constructed node, requiring at least `min` of them. */
function children(node: Asn1 | undefined, what: string, min: number): Asn1[] {
  if (node === undefined || !node.constructed || !Array.isArray(node.value) || node.value.length < min) {
    throw new Pkcs12Error(`malformed PKCS#12 ${what}`);
  }
  return node.value;
}

/** The single child of an explicit context tag (`[0] EXPLICIT`). */
function firstChild(node: Asn1 | undefined, what: string): Asn1 {
  if (node === undefined || node.tagClass !== Class.CONTEXT_SPECIFIC) throw new Pkcs12Error(`malformed PKCS#12 ${what}`);
  return children(node, what, 1)[0] as Asn1;
}

/** OCTET STRING contents (or `[0] IMPLICIT OCTET STRING`), joining BER constructed segments. */
function octetString(node: Asn1, what: string): string {
  const isOctet = node.tagClass === Class.UNIVERSAL ? node.type === Type.OCTETSTRING : node.tagClass === Class.CONTEXT_SPECIFIC;
  if (!isOctet) throw new Pkcs12Error(`malformed PKCS#12 ${what}`);
  if (typeof node.value === 'string') return node.value;
  return node.value.map((segment) => octetString(segment, what)).join('');
}

function readOid(node: Asn1, what: string): string {
  if (node.tagClass !== Class.UNIVERSAL || node.type !== Type.OID || typeof node.value !== 'string') {
    throw new Pkcs12Error(`malformed PKCS#12 ${what}`);
  }
  return forge.asn1.derToOid(node.value);
}

function readSmallInt(node: Asn1, what: string): number {
  if (node.tagClass !== Class.UNIVERSAL || node.type !== Type.INTEGER || typeof node.value !== 'string') {
    throw new Pkcs12Error(`malformed PKCS#12 ${what}`);
  }
  const bytes = Buffer.from(node.value, 'binary');
  if (bytes.length === 0 || (bytes[0] as number) & 0x80) return -1; // negative: rejected by callers
  const firstNonZero = bytes.findIndex((b) => b !== 0);
  const significant = firstNonZero === -1 ? bytes.subarray(bytes.length) : bytes.subarray(firstNonZero);
  if (significant.length > 6) return Number.POSITIVE_INFINITY; // beyond 2^48: rejected by callers
  return significant.length === 0 ? 0 : significant.readUIntBE(0, significant.length);
}

function shortText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

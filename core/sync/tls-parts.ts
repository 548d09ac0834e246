/**
 * The `kubernetes.io/tls` special case (upstream `GetCertPart`): turns a provider file holding PEM or a PKCS#12
 * archive into the `tls.crt` or `tls.key` value of a TLS Secret.
 *
 * - `tls.crt`: every `CERTIFICATE` PEM block, re-encoded and concatenated in input order; content with no PEM
 *   `BEGIN` line at all is read as PKCS#12 with the empty password and all of its certificates are emitted.
 * - `tls.key`: the last PEM block that is not a `CERTIFICATE` (or, for binary content, the last private key of the
 *   PKCS#12 archive), normalised: RSA (PKCS#1 or PKCS#8) becomes PKCS#1 `RSA PRIVATE KEY`, ECDSA (SEC1 or PKCS#8)
 *   becomes SEC1 `EC PRIVATE KEY`; any other key type fails with upstream's "unknown private key type" message.
 *
 * Deliberate differences from upstream, all failing loudly where upstream wrote a useless value:
 * - Nothing parseable as a key gives an error (upstream emitted an empty `PRIVATE KEY` block).
 * - PEM text without any certificate, or an archive without one, fails (upstream wrote an empty `tls.crt`).
 * - Every certificate must parse as X.509; broken PEM (bad base64, a missing END line) and encrypted keys fail
 *   with a message naming the block's position and label.
 * - PEM headers (such as the `localKeyId` that Go's PKCS#12 reader adds) are not copied to the output, because
 *   OpenSSL-based consumers refuse certificate blocks carrying them.
 * - PKCS#12 archives using PBES2/AES (OpenSSL 3's default) are read too; Go's reader only knew 3DES and RC2.
 *
 * All failures are `CertDataError`; messages never contain key or certificate material.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { decodePemBlocks, encodePem, looksLikePem, PemFormatError, type PemBlock } from './pem.js';
import { Pkcs12Error, readPkcs12 } from './pkcs12.js';

export const SECRET_TYPE_TLS = 'kubernetes.io/tls';
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_PRIVATE_KEY_KEY = 'tls.key';

export const UNKNOWN_KEY_TYPE_MESSAGE =
  'unknown private key type found while getting key. Only rsa and ecdsa are supported';

/** A TLS file that cannot be turned into `tls.crt` / `tls.key`. */
export class CertDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CertDataError';
  }
}

const CERTIFICATE_LABEL = 'CERTIFICATE';

/** The `tls.crt` or `tls.key` value for `content`; any other key fails as upstream does. */
export function getCertPart(content: Uint8Array, key: string): Buffer {
  if (key === TLS_PRIVATE_KEY_KEY) return extractPrivateKey(content);
  if (key === TLS_CERT_KEY) return extractCertificates(content);
  throw new CertDataError(`key '${key}' is not supported. Only 'tls.key' and 'tls.crt' are supported`);
}

/** All certificates in `content` (PEM, else PKCS#12) as concatenated header-less PEM blocks. */
export function extractCertificates(content: Uint8Array): Buffer {
  let ders: Buffer[];
  if (looksLikePem(content)) {
    const blocks = readPem(content);
    const certs = blocks.map((block, i) => ({ block, position: i + 1 })).filter((b) => b.block.label === CERTIFICATE_LABEL);
    if (certs.length === 0) throw new CertDataError('no CERTIFICATE block found in the PEM data');
    for (const { block, position } of certs) checkCertificate(block.bytes, `PEM block ${position} (CERTIFICATE)`);
    ders = certs.map((c) => c.block.bytes);
  } else {
    ders = readArchive(content).certificates;
    if (ders.length === 0) throw new CertDataError('the PKCS#12 archive contains no certificate');
    ders.forEach((der, i) => checkCertificate(der, `PKCS#12 certificate ${i + 1}`));
  }
  return Buffer.from(ders.map((der) => encodePem(CERTIFICATE_LABEL, der)).join(''), 'latin1');
}

/** The private key in `content` (last non-certificate PEM block, else PKCS#12), normalised to PKCS#1 or SEC1 PEM. */
export function extractPrivateKey(content: Uint8Array): Buffer {
  if (looksLikePem(content)) {
    const blocks = readPem(content);
    let position = blocks.length;
    while (position > 0 && (blocks[position - 1] as PemBlock).label === CERTIFICATE_LABEL) position--;
    if (position === 0) throw new CertDataError('no private key found in the PEM data (it holds only certificates)');
    const block = blocks[position - 1] as PemBlock;
    const origin = `PEM block ${position} (${block.label})`;
    if (block.label.includes('ENCRYPTED') || (block.headers['Proc-Type'] ?? '').includes('ENCRYPTED')) {
      throw new CertDataError(`${origin} is an encrypted private key; only unencrypted keys are supported`);
    }
    return normalisePrivateKey(block.bytes, origin);
  }
  const keys = readArchive(content).privateKeys;
  const last = keys[keys.length - 1];
  if (last === undefined) throw new CertDataError('no private key found in the PKCS#12 archive');
  return normalisePrivateKey(last, 'the PKCS#12 private key');
}

/**
 * Re-encodes a DER private key (PKCS#1, PKCS#8 or SEC1, whatever its PEM label claimed) as PKCS#1 for RSA or
 * SEC1 for ECDSA. `origin` names the source in error messages.
 */
export function normalisePrivateKey(der: Uint8Array, origin = 'the private key'): Buffer {
  const key = parsePrivateKey(der, origin);
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return Buffer.from(key.export({ type: 'pkcs1', format: 'pem' }) as string, 'latin1');
    case 'ec':
      return Buffer.from(key.export({ type: 'sec1', format: 'pem' }) as string, 'latin1');
    default:
      throw new CertDataError(UNKNOWN_KEY_TYPE_MESSAGE);
  }
}

function parsePrivateKey(der: Uint8Array, origin: string): KeyObject {
  const key = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  // PKCS#8 decoding is strict. The 'pkcs1' decoder of OpenSSL 3 accepts any type-specific private key
  // (RSAPrivateKey, ECPrivateKey, DSA...), which covers PKCS#1 and SEC1; the key type is checked afterwards.
  for (const type of ['pkcs8', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key, format: 'der', type });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') {
        throw new CertDataError(`${origin} is an encrypted private key; only unencrypted keys are supported`);
      }
    }
  }
  throw new CertDataError(`${origin} is not a valid PKCS#1, PKCS#8 or SEC1 private key`);
}

function checkCertificate(der: Buffer, origin: string): void {
  try {
    new X509Certificate(der);
  } catch {
    throw new CertDataError(`${origin} is not a valid X.509 certificate`);
  }
}

function readPem(content: Uint8Array): PemBlock[] {
  try {
    return decodePemBlocks(content);
  } catch (err) {
    if (err instanceof PemFormatError) throw new CertDataError(`malformed PEM data: ${err.message}`);
    throw err;
  }
}

function readArchive(content: Uint8Array): ReturnType<typeof readPkcs12> {
  try {
    return readPkcs12(content);
  } catch (err) {
    if (err instanceof Pkcs12Error) {
      throw new CertDataError(`the data is neither PEM nor a PKCS#12 archive readable with an empty password: ${err.message}`);
    }
    throw err;
  }
}

import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { tlsFixtures } from './__tests__/tls-fixtures.js';
import { encodePem } from './pem.js';
import {
  CertDataError, extractCertificates, extractPrivateKey, getCertPart, normalisePrivateKey, UNKNOWN_KEY_TYPE_MESSAGE,
} from './tls-parts.js';

const fx = tlsFixtures();
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The private key in `pem` matches the certificate's public key (an independent check of the key material). */
function keyMatches(pem: Buffer, cert: X509Certificate): boolean {
  return cert.checkPrivateKey(createPrivateKey(pem));
}

function certDataError(fn: () => unknown): CertDataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertDataError);
    return err as CertDataError;
  }
  throw new Error('expected a CertDataError');
}

describe('getCertPart (upstream TestGetCert)', () => {
  test('Get cert PFX: the certificate of a PKCS#12 archive, as PEM', () => {
    const out = getCertPart(fx.pfx.legacyRsa, 'tls.crt');
    expect(out.toString('latin1')).toBe(fx.rsa.pem);
  });

  test('Get cert PEM: only the CERTIFICATE block of a cert + key file', () => {
    const out = getCertPart(text(`\n${fx.rsa.pem}${fx.rsa.key.pkcs8Pem}`), 'tls.crt');
    expect(out.toString('latin1')).toBe(fx.rsa.pem);
  });

  test('Get key PEM: the PKCS#8 key of a cert + key file, re-emitted as PKCS#1', () => {
    const out = getCertPart(text(`\n${fx.rsa.pem}${fx.rsa.key.pkcs8Pem}`), 'tls.key');
    expect(out.toString('latin1')).toBe(fx.rsa.key.traditionalPem);
    expect(out.toString('latin1')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(keyMatches(out, fx.rsa.x509)).toBe(true);
  });

  test('Unsupported part type: upstream message', () => {
    const err = certDataError(() => getCertPart(text(fx.rsa.pem), 'key'));
    expect(err.message).toBe("key 'key' is not supported. Only 'tls.key' and 'tls.crt' are supported");
  });
});

describe('private key normalisation (upstream TestGetPrivateKey)', () => {
  test('RSA key in PFX (legacy RC2/3DES archive)', () => {
    const out = extractPrivateKey(fx.pfx.legacyRsa);
    expect(out.toString('latin1')).toBe(fx.rsa.key.traditionalPem);
    expect(keyMatches(out, fx.rsa.x509)).toBe(true);
  });

  test('RSA key (PKCS#8 -> PKCS#1)', () => {
    const out = extractPrivateKey(text(`\n${fx.rsa.pem}${fx.rsa.key.pkcs8Pem}`));
    expect(out.toString('latin1')).toBe(fx.rsa.key.traditionalPem);
  });

  test('EC key (PKCS#8 -> SEC1)', () => {
    const out = extractPrivateKey(text(`\n${fx.ec.pem}${fx.ec.key.pkcs8Pem}`));
    expect(out.toString('latin1')).toBe(fx.ec.key.traditionalPem);
    expect(out.toString('latin1')).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    expect(keyMatches(out, fx.ec.x509)).toBe(true);
  });

  test('RSA key already in PKCS#1 stays PKCS#1', () => {
    const input = `\n${fx.rsa.pem}${fx.rsa.key.traditionalPem}`;
    expect(extractPrivateKey(text(input)).toString('latin1')).toBe(fx.rsa.key.traditionalPem);
  });

  test('SEC1 EC key stays SEC1 (with `openssl ecparam -genkey` style EC PARAMETERS before it)', () => {
    const params = encodePem('EC PARAMETERS', Buffer.from('06082a8648ce3d030107', 'hex'));
    const out = extractPrivateKey(text(`${params}${fx.ec.key.traditionalPem}`));
    expect(out.toString('latin1')).toBe(fx.ec.key.traditionalPem);
  });

  test('the last non-certificate block wins', () => {
    const out = extractPrivateKey(text(`${fx.ec.key.pkcs8Pem}${fx.rsa.pem}${fx.rsa.key.pkcs8Pem}${fx.ca.pem}`));
    expect(keyMatches(out, fx.rsa.x509)).toBe(true);
  });

  test('the PEM label is not trusted: PKCS#1 bytes under a PRIVATE KEY label still normalise', () => {
    const der = fx.rsa.key.key.export({ type: 'pkcs1', format: 'der' });
    expect(extractPrivateKey(text(encodePem('PRIVATE KEY', der))).toString('latin1')).toBe(fx.rsa.key.traditionalPem);
  });

  test('other PKCS#8 key types fail with upstream message', () => {
    const err = certDataError(() => extractPrivateKey(text(fx.ed25519.pkcs8Pem)));
    expect(err.message).toBe(UNKNOWN_KEY_TYPE_MESSAGE);
  });

  test('normalisePrivateKey accepts raw DER in all three encodings', () => {
    const rsa = fx.rsa.key.key;
    const ec = fx.ec.key.key;
    expect(normalisePrivateKey(rsa.export({ type: 'pkcs8', format: 'der' })).toString()).toBe(fx.rsa.key.traditionalPem);
    expect(normalisePrivateKey(rsa.export({ type: 'pkcs1', format: 'der' })).toString()).toBe(fx.rsa.key.traditionalPem);
    expect(normalisePrivateKey(ec.export({ type: 'sec1', format: 'der' })).toString()).toBe(fx.ec.key.traditionalPem);
  });
});

describe('our fixes: fail loudly instead of writing empty or broken values', () => {
  test('a non-certificate block that is not a key fails (upstream wrote an empty PRIVATE KEY block)', () => {
    const junk = encodePem('PRIVATE KEY', Buffer.from('not a key at all'));
    const err = certDataError(() => extractPrivateKey(text(`${fx.rsa.pem}${junk}`)));
    expect(err.message).toBe('PEM block 2 (PRIVATE KEY) is not a valid PKCS#1, PKCS#8 or SEC1 private key');
  });

  test('a public key in place of the private key fails', () => {
    const pub = createPublicKey(fx.rsa.key.key).export({ type: 'spki', format: 'pem' }) as string;
    const err = certDataError(() => extractPrivateKey(text(`${fx.rsa.pem}${pub}`)));
    expect(err.message).toMatch(/PEM block 2 \(PUBLIC KEY\) is not a valid/);
  });

  test('PEM with certificates only has no key', () => {
    const err = certDataError(() => extractPrivateKey(text(`${fx.rsa.pem}${fx.ca.pem}`)));
    expect(err.message).toBe('no private key found in the PEM data (it holds only certificates)');
  });

  test('PEM without any certificate has no tls.crt (upstream wrote an empty value)', () => {
    const err = certDataError(() => extractCertificates(text(fx.rsa.key.pkcs8Pem)));
    expect(err.message).toBe('no CERTIFICATE block found in the PEM data');
  });

  test('encrypted keys are named as such', () => {
    const encrypted = fx.rsa.key.key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(certDataError(() => extractPrivateKey(text(encrypted))).message).toBe(
      'PEM block 1 (ENCRYPTED PRIVATE KEY) is an encrypted private key; only unencrypted keys are supported');
    const legacy = fx.rsa.key.key.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(legacy).toContain('Proc-Type: 4,ENCRYPTED');
    expect(certDataError(() => extractPrivateKey(text(legacy))).message).toBe(
      'PEM block 1 (RSA PRIVATE KEY) is an encrypted private key; only unencrypted keys are supported');
  });

  test('broken base64 in a certificate fails and does not echo the data', () => {
    const broken = fx.rsa.pem.replace(/\n([A-Za-z0-9+/]{10})/, '\n$1!!!!');
    const err = certDataError(() => extractCertificates(text(broken)));
    expect(err.message).toBe('malformed PEM data: PEM block 1 (CERTIFICATE) has an invalid base64 body');
  });

  test('a truncated PEM (no END line) fails', () => {
    const truncated = fx.rsa.pem + fx.rsa.key.pkcs8Pem.split('-----END')[0];
    const err = certDataError(() => extractPrivateKey(text(truncated)));
    expect(err.message).toBe('malformed PEM data: PEM block 2 has a BEGIN line without a matching END line');
  });

  test('a CERTIFICATE block that is not X.509 fails', () => {
    const fake = encodePem('CERTIFICATE', Buffer.from('3003020101', 'hex'));
    const err = certDataError(() => extractCertificates(text(`${fx.rsa.pem}${fake}`)));
    expect(err.message).toBe('PEM block 2 (CERTIFICATE) is not a valid X.509 certificate');
  });

  test('binary data that is not PKCS#12 fails with a clear message', () => {
    const err = certDataError(() => extractCertificates(Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02])));
    expect(err.message).toMatch(/^the data is neither PEM nor a PKCS#12 archive readable with an empty password: /);
    expect(certDataError(() => extractPrivateKey(Buffer.from('plain text secret value'))).message)
      .not.toContain('plain text secret value');
  });

  test('a password-protected archive fails', () => {
    const err = certDataError(() => extractCertificates(fx.pfx.passwordProtected));
    expect(err.message).toMatch(/integrity check failed: the archive is not protected by an empty password/);
  });

  test('an archive without a key cannot give tls.key', () => {
    expect(certDataError(() => extractPrivateKey(fx.pfx.certOnly)).message).toBe('no private key found in the PKCS#12 archive');
    expect(extractCertificates(fx.pfx.certOnly).toString('latin1')).toBe(fx.rsa.pem);
  });
});

describe('beyond upstream', () => {
  test('certificate chains keep their order; headers are dropped; text around blocks is ignored', () => {
    const withHeader = fx.rsa.pem.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nlocalKeyId: 01000000\n\n');
    const input = `Bag Attributes\n    friendlyName: x\n${withHeader}subject=/CN=ca.test\n${fx.ca.pem}`;
    expect(extractCertificates(text(input)).toString('latin1')).toBe(fx.rsa.pem + fx.ca.pem);
  });

  test('CRLF line endings are accepted', () => {
    const crlf = (fx.rsa.pem + fx.rsa.key.pkcs8Pem).replace(/\n/g, '\r\n');
    expect(extractCertificates(text(crlf)).toString('latin1')).toBe(fx.rsa.pem);
    expect(extractPrivateKey(text(crlf)).toString('latin1')).toBe(fx.rsa.key.traditionalPem);
  });

  test('OpenSSL 3 default archives (PBES2/AES, SHA-256 MAC) are read', () => {
    expect(extractCertificates(fx.pfx.modernRsa).toString('latin1')).toBe(fx.rsa.pem);
    expect(extractPrivateKey(fx.pfx.modernRsa).toString('latin1')).toBe(fx.rsa.key.traditionalPem);
  });

  test('EC key and EC certificate in PFX', () => {
    expect(extractCertificates(fx.pfx.modernEc).toString('latin1')).toBe(fx.ec.pem);
    const key = extractPrivateKey(fx.pfx.modernEc);
    expect(key.toString('latin1')).toBe(fx.ec.key.traditionalPem);
    expect(keyMatches(key, fx.ec.x509)).toBe(true);
  });

  test('PFX chain: every certificate, byte-exact, in bag order', () => {
    const out = extractCertificates(fx.pfx.withChain).toString('latin1');
    const blocks = out.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g) ?? [];
    expect(blocks).toHaveLength(2);
    expect(new Set(blocks)).toEqual(new Set([fx.rsa.pem, fx.ca.pem]));
  });

  test('archives without a MAC are read', () => {
    expect(extractCertificates(fx.pfx.noMac).toString('latin1')).toBe(fx.rsa.pem);
    expect(keyMatches(extractPrivateKey(fx.pfx.noMac), fx.rsa.x509)).toBe(true);
  });
});

/**
 * Test-time TLS material: keys from node:crypto, certificates and PKCS#12 archives from the openssl CLI (so the
 * archives are the ones real tools produce, including the legacy RC2/3DES format). Nothing is checked in.
 * Requires `openssl` (1.1 or 3.x) on PATH; fails loudly when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyFixture {
  key: KeyObject;
  /** PKCS#8 `PRIVATE KEY` PEM. */
  pkcs8Pem: string;
  /** PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` PEM (undefined for other key types). */
  traditionalPem?: string;
}

export interface CertFixture {
  key: KeyFixture;
  /** Header-less PEM as openssl writes it. */
  pem: string;
  der: Buffer;
  x509: X509Certificate;
}

export interface TlsFixtures {
  rsa: CertFixture;
  ec: CertFixture;
  /** A second RSA certificate, used as a chain member. */
  ca: CertFixture;
  ed25519: KeyFixture;
  pfx: {
    /** RSA key + cert, OpenSSL 3 defaults: PBES2/AES-256-CBC, SHA-256 MAC. */
    modernRsa: Buffer;
    /** RSA key + cert, `-legacy`: RC2-40 certificates, 3DES key, SHA-1 MAC (the Windows / Key Vault format). */
    legacyRsa: Buffer;
    /** EC key + cert. */
    modernEc: Buffer;
    /** RSA key + cert + the CA certificate as a second certificate bag. */
    withChain: Buffer;
    /** Certificate only (no key bag). */
    certOnly: Buffer;
    /** Protected by the password "hunter2". */
    passwordProtected: Buffer;
    /** No integrity MAC at all. */
    noMac: Buffer;
  };
}

let cached: TlsFixtures | undefined;
let hugeIterations: Buffer | undefined;

export function tlsFixtures(): TlsFixtures {
  cached ??= build();
  return cached;
}

/**
 * An archive whose key encryption uses 1 000 001 PBKDF2 iterations (above the reader's limit); built on demand
 * because openssl itself needs a noticeable fraction of a second for it. Certificates are left unencrypted.
 */
export function hugeIterationArchive(): Buffer {
  if (hugeIterations === undefined) {
    const fx = tlsFixtures();
    const dir = mkdtempSync(join(tmpdir(), 'ssc-tls-'));
    try {
      writeFileSync(join(dir, 'rsa.key'), fx.rsa.key.pkcs8Pem, { mode: 0o600 });
      writeFileSync(join(dir, 'rsa.crt'), fx.rsa.pem);
      const out = join(dir, 'huge.p12');
      openssl(['pkcs12', '-export', '-in', join(dir, 'rsa.crt'), '-inkey', join(dir, 'rsa.key'), '-out', out,
        '-passout', 'pass:', '-keypbe', 'AES-256-CBC', '-certpbe', 'NONE', '-macalg', 'sha256', '-iter', '1000001', '-nomaciter']);
      hugeIterations = readFileSync(out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return hugeIterations;
}

function build(): TlsFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'ssc-tls-'));
  try {
    const legacy = isOpenSsl3();
    const rsa = cert(dir, 'rsa', rsaKey(), 'rsa.test');
    const ec = cert(dir, 'ec', ecKey(), 'ec.test');
    const ca = cert(dir, 'ca', rsaKey(), 'ca.test');
    const ed = generateKeyPairSync('ed25519').privateKey;
    const pfx = (name: string, args: string[]): Buffer => {
      const out = join(dir, `${name}.p12`);
      openssl(['pkcs12', '-export', '-out', out, ...args]);
      return readFileSync(out);
    };
    const rsaArgs = ['-in', join(dir, 'rsa.crt'), '-inkey', join(dir, 'rsa.key')];
    return {
      rsa, ec, ca,
      ed25519: { key: ed, pkcs8Pem: ed.export({ type: 'pkcs8', format: 'pem' }) as string },
      pfx: {
        modernRsa: pfx('modern-rsa', [...rsaArgs, '-passout', 'pass:', ...MODERN]),
        legacyRsa: pfx('legacy-rsa', [...rsaArgs, '-passout', 'pass:', ...(legacy ? ['-legacy'] : [])]),
        modernEc: pfx('modern-ec', ['-in', join(dir, 'ec.crt'), '-inkey', join(dir, 'ec.key'), '-passout', 'pass:', ...MODERN]),
        withChain: pfx('chain', [...rsaArgs, '-certfile', join(dir, 'ca.crt'), '-passout', 'pass:', ...MODERN]),
        certOnly: pfx('cert-only', ['-in', join(dir, 'rsa.crt'), '-nokeys', '-passout', 'pass:', ...MODERN]),
        passwordProtected: pfx('password', [...rsaArgs, '-passout', 'pass:hunter2', ...MODERN]),
        noMac: pfx('nomac', [...rsaArgs, '-nomac', '-passout', 'pass:', ...MODERN]),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** OpenSSL 1.1 defaults to the legacy algorithms, so ask for AES explicitly there and everywhere. */
const MODERN = ['-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256'];

/** OpenSSL 3 needs `-legacy` for RC2/3DES archives; 1.1 produces them by default. */
function isOpenSsl3(): boolean {
  const version = openssl(['version']).toString();
  return /^OpenSSL 3\./.test(version);
}

function rsaKey(): KeyFixture {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return {
    key,
    pkcs8Pem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    traditionalPem: key.export({ type: 'pkcs1', format: 'pem' }) as string,
  };
}

function ecKey(): KeyFixture {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return {
    key,
    pkcs8Pem: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    traditionalPem: key.export({ type: 'sec1', format: 'pem' }) as string,
  };
}

function cert(dir: string, name: string, key: KeyFixture, cn: string): CertFixture {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  writeFileSync(keyPath, key.pkcs8Pem, { mode: 0o600 });
  openssl(['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${cn}`, '-days', '2', '-out', certPath]);
  const pem = readFileSync(certPath, 'latin1');
  const x509 = new X509Certificate(pem);
  return { key, pem, der: x509.raw, x509 };
}

function openssl(args: string[]): Buffer {
  try {
    return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed (the TLS tests need the openssl CLI on PATH): ${(err as Error).message}`);
  }
}

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError } from './errors.js';

/** Service-account signing key pair (PKCS#8 private, SPKI public), as kube-apiserver wants them. */
export function writeServiceAccountKeys(dir: string): { key: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = join(dir, 'sa.key');
  const pub = join(dir, 'sa.pub');
  writeFileSync(key, privateKey, { mode: 0o600 });
  writeFileSync(pub, publicKey);
  return { key, pub };
}

export function randomToken(): string {
  return randomBytes(24).toString('hex');
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new ClusterError('openssl is not installed; it is needed to mint client certificates');
    throw new ClusterError(`openssl ${args[0]} failed: ${e.stderr?.toString().trim().split('\n').pop() ?? String(err)}`);
  }
}

/** A CA for client-certificate authentication (`--client-ca-file`): CN is the user, O the groups. */
export class ClientCA {
  readonly certFile: string;
  private readonly keyFile: string;

  private readonly dir: string;
  private constructor(dir: string) {
    this.dir = dir;
    this.certFile = join(dir, 'client-ca.crt');
    this.keyFile = join(dir, 'client-ca.key');
  }

  /** Opens the CA kept in `dir` by an earlier `create`. */
  static open(dir: string): ClientCA {
    return new ClientCA(dir);
  }

  static create(dir: string): ClientCA {
    const ca = new ClientCA(dir);
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', ca.keyFile, '-out', ca.certFile, '-days', '7', '-subj', '/CN=secrets-sync-test-client-ca'], dir);
    return ca;
  }

  /** Mints a client certificate for `user` in `groups`; returns PEM cert and key. */
  issue(user: string, groups: string[] = []): { cert: string; key: string } {
    const work = mkdtempSync(join(this.dir, 'user-'));
    try {
      const esc = (s: string) => s.replace(/[\\/,+="<>;#]/g, (c) => `\\${c}`);
      const subj = `/CN=${esc(user)}` + groups.map((g) => `/O=${esc(g)}`).join('');
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', 'u.key', '-out', 'u.csr', '-subj', subj], work);
      writeFileSync(join(work, 'ext'), 'extendedKeyUsage=clientAuth\n');
      openssl(['x509', '-req', '-in', 'u.csr', '-CA', this.certFile, '-CAkey', this.keyFile, '-CAcreateserial',
        '-out', 'u.crt', '-days', '1', '-extfile', 'ext'], work);
      return { cert: readFileSync(join(work, 'u.crt'), 'utf8'), key: readFileSync(join(work, 'u.key'), 'utf8') };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
}

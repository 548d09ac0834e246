/**
 * A Vault dev server on a free loopback port (in-memory storage, unsealed, KV v2 mounted at `secret/`), and the
 * configuration the interop test needs: JWT auth that trusts the local API server's ServiceAccount signing key,
 * Kubernetes auth that asks the API server (TokenReview), and a read policy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort, logTail, startComponent, stopComponent, type Component } from '../cluster/processes.js';

export class VaultError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class VaultDevServer {
  readonly addr: string;
  readonly rootToken: string;
  private readonly component: Component;

  private constructor(addr: string, rootToken: string, component: Component) {
    this.addr = addr;
    this.rootToken = rootToken;
    this.component = component;
  }

  get logFile(): string {
    return this.component.logFile;
  }

  /** `vault server -dev` on 127.0.0.1:<free port>; resolves once /v1/sys/health says unsealed and active. */
  static async start(bin: string, workDir: string, pidFile: string, timeoutMs = 60_000): Promise<VaultDevServer> {
    const port = await freePort();
    const rootToken = `root-${randomBytes(12).toString('hex')}`;
    const addr = `http://127.0.0.1:${port}`;
    const component = startComponent('vault', 'env', [
      `HOME=${workDir}`, `VAULT_ADDR=${addr}`, 'VAULT_DISABLE_MLOCK=true', 'VAULT_LOG_LEVEL=info',
      bin, 'server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${rootToken}`, '-dev-no-store-token',
    ], join(workDir, 'vault.log'), pidFile);
    const server = new VaultDevServer(addr, rootToken, component);
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (component.exitCode() !== undefined) {
        throw new Error(`vault exited with code ${component.exitCode()} before it was ready: ${logTail(component.logFile, 3)}`);
      }
      const ok = await fetch(`${addr}/v1/sys/health`).then((r) => r.status === 200, () => false);
      if (ok) return server;
      if (Date.now() > end) {
        await server.stop();
        throw new Error(`vault was not ready after ${timeoutMs / 1000} s: ${logTail(component.logFile, 3)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** One Vault HTTP API call; `token` defaults to the root token. Throws VaultError on a non-2xx answer. */
  async api<T = Record<string, unknown>>(method: string, path: string, body?: unknown, token: string | null = this.rootToken): Promise<T> {
    const res = await fetch(`${this.addr}/v1/${path.replace(/^\/+/, '')}`, {
      method,
      headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let msg = text;
      try { msg = ((JSON.parse(text) as { errors?: string[] }).errors ?? [text]).join('; '); } catch { /* plain text */ }
      throw new VaultError(res.status, `vault ${method} /v1/${path}: ${res.status} ${msg}`);
    }
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Writes a KV v2 secret under the dev server's `secret/` mount; returns the new version. */
  async kvPut(path: string, data: Record<string, string>): Promise<number> {
    const r = await this.api<{ data: { version: number } }>('POST', `secret/data/${path}`, { data });
    return r.data.version;
  }

  /** Logs in at `auth/<mount>/login` with a ServiceAccount JWT; returns the client token. */
  async login(mount: string, role: string, jwt: string): Promise<string> {
    const r = await this.api<{ auth: { client_token: string } }>('POST', `auth/${mount}/login`, { role, jwt }, null);
    return r.auth.client_token;
  }

  async stop(): Promise<void> {
    await stopComponent(this.component, 5_000);
  }
}

export interface ApiServerTrust {
  /** The API server URL, also its ServiceAccount issuer (`--service-account-issuer`). */
  server: string;
  caFile: string;
  /** PEM public key that verifies ServiceAccount tokens (`<pkiDir>/sa.pub`). */
  saPublicKeyFile: string;
}

/** A policy that can read KV v2 data under `secret/data/<prefix>/*`. */
export async function writeReadPolicy(vault: VaultDevServer, name: string, prefix: string): Promise<void> {
  await vault.api('PUT', `sys/policies/acl/${name}`, { policy: `path "secret/data/${prefix}/*" {\n  capabilities = ["read"]\n}\n` });
}

/**
 * JWT auth at `auth/<mount>`: verifies ServiceAccount tokens offline with the API server's signing key and issuer,
 * so only the token's signature, issuer, audience and subject are checked (no call to the API server).
 */
export async function enableJwtAuth(vault: VaultDevServer, mount: string, trust: ApiServerTrust): Promise<void> {
  await vault.api('POST', `sys/auth/${mount}`, { type: 'jwt' });
  await vault.api('POST', `auth/${mount}/config`, {
    jwt_validation_pubkeys: [readFileSync(trust.saPublicKeyFile, 'utf8')],
    bound_issuer: trust.server,
  });
}

export async function jwtRole(vault: VaultDevServer, mount: string, role: string, o: { namespace: string; serviceAccount: string; audience: string; policy: string }): Promise<void> {
  await vault.api('POST', `auth/${mount}/role/${role}`, {
    role_type: 'jwt',
    bound_audiences: [o.audience],
    user_claim: 'sub',
    bound_subject: `system:serviceaccount:${o.namespace}:${o.serviceAccount}`,
    token_policies: [o.policy],
    token_ttl: '10m',
  });
}

/**
 * Kubernetes auth at `auth/<mount>`: Vault sends each login's token to the API server's TokenReview (as the
 * reviewer ServiceAccount, which needs system:auth-delegator), with the role's audience.
 */
export async function enableKubernetesAuth(vault: VaultDevServer, mount: string, trust: ApiServerTrust, reviewerJwt: string): Promise<void> {
  await vault.api('POST', `sys/auth/${mount}`, { type: 'kubernetes' });
  await vault.api('POST', `auth/${mount}/config`, {
    kubernetes_host: trust.server,
    kubernetes_ca_cert: readFileSync(trust.caFile, 'utf8'),
    token_reviewer_jwt: reviewerJwt,
    disable_local_ca_jwt: true,
  });
}

export async function kubernetesRole(vault: VaultDevServer, mount: string, role: string, o: { namespace: string; serviceAccount: string; audience: string; policy: string }): Promise<void> {
  await vault.api('POST', `auth/${mount}/role/${role}`, {
    bound_service_account_names: [o.serviceAccount],
    bound_service_account_namespaces: [o.namespace],
    audience: o.audience,
    token_policies: [o.policy],
    token_ttl: '10m',
  });
}

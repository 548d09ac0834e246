import type { RequestedToken, TokenRequester } from '../tokens/token-requester.js';
import { KubeApiError, type KubeHttp } from './http.js';

/** TokenRequest through the API server: one audience, the given lifetime, no boundObjectRef (upstream §3.4). */
export class KubeTokenRequester implements TokenRequester {
  constructor(private readonly http: KubeHttp) {}

  async request(namespace: string, serviceAccount: string, audience: string, expirationSeconds: number, signal: AbortSignal): Promise<RequestedToken> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
    try {
      const res = await this.http.request<{ status?: { token?: string; expirationTimestamp?: string } }>('POST', path, {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [audience], expirationSeconds } },
        signal,
      });
      if (!res?.status?.token || !res.status.expirationTimestamp) throw new Error('TokenRequest returned no token');
      return { token: res.status.token, expirationTimestamp: res.status.expirationTimestamp };
    } catch (err) {
      // The API server's message names the ServiceAccount and the reason, never a token.
      const text = err instanceof KubeApiError ? err.message : (err as Error).message;
      throw new Error(`failed to request a token for service account "${serviceAccount}" (audience "${audience}"): ${text}`, { cause: err });
    }
  }
}

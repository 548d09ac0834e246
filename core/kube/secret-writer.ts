import { ControllerPatchError } from '../errors.js';
import { FIELD_MANAGER, MANAGED_LABEL, SECRET_SYNC_API_VERSION } from '../api/types.js';
import type { DesiredSecret, SecretWriter } from '../ports/kube.js';
import { KubeApiError, type KubeHttp } from './http.js';

/** The server-side-apply body for a desired Secret (upstream §3.7): one owner reference, the managed label. */
export function applyBody(s: DesiredSecret): object {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data)) data[k] = v.toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...s.labels, [MANAGED_LABEL]: '' },
      annotations: { ...s.annotations },
      ownerReferences: [{ apiVersion: SECRET_SYNC_API_VERSION, kind: 'SecretSync', name: s.owner.name, uid: s.owner.uid }],
    },
    type: s.type,
    data,
  };
}

/**
 * Server-side apply of Secrets with field manager `secrets-store-sync-controller`. Keys, labels and annotations
 * no longer sent are removed. Unlike upstream it applies with force: the controller is the source of truth for
 * the fields it sends, so a value edited by hand (which moves that field to another manager) is taken back at
 * the next sync instead of failing with a conflict forever (docs/adr/0003). Fields it does not send are left
 * to their managers.
 */
export class KubeSecretWriter implements SecretWriter {
  constructor(private readonly http: KubeHttp) {}

  async apply(secret: DesiredSecret, signal?: AbortSignal): Promise<{ resourceVersion: string }> {
    const path = `/api/v1/namespaces/${encodeURIComponent(secret.namespace)}/secrets/${encodeURIComponent(secret.name)}`;
    try {
      const res = await this.http.request<{ metadata?: { resourceVersion?: string } }>('PATCH', path, {
        body: applyBody(secret),
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        signal,
      });
      // The response carries the Secret; only its resourceVersion is kept.
      return { resourceVersion: res?.metadata?.resourceVersion ?? '' };
    } catch (err) {
      const text = err instanceof KubeApiError ? err.message : (err as Error).message;
      throw new ControllerPatchError(`failed to patch secret "${secret.name}": ${text}`, { cause: err });
    }
  }
}

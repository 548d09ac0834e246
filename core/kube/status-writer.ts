import { SECRET_SYNC_API_VERSION, SECRET_SYNC_PLURAL, type SecretSync, type SecretSyncStatus } from '../api/types.js';
import type { StatusWriter } from '../ports/kube.js';
import { KubeApiError, type KubeHttp } from './http.js';

/** Writes SecretSync status through the status subresource with a merge patch (conditions sent whole). */
export class KubeStatusWriter implements StatusWriter {
  constructor(private readonly http: KubeHttp) {}

  async write(ss: SecretSync, status: SecretSyncStatus): Promise<void> {
    const path = `/apis/${SECRET_SYNC_API_VERSION}/namespaces/${encodeURIComponent(ss.metadata.namespace!)}/${SECRET_SYNC_PLURAL}/${encodeURIComponent(ss.metadata.name)}/status`;
    try {
      await this.http.request('PATCH', path, {
        body: { metadata: { uid: ss.metadata.uid }, status },
        contentType: 'application/merge-patch+json',
      });
    } catch (err) {
      // Deleted meanwhile (or re-created with another uid): nothing to report on.
      if (err instanceof KubeApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}

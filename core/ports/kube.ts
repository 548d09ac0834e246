import type { SecretProviderClass, SecretSync, SecretSyncStatus } from '../api/types.js';

/** The Secret the controller wants; applied whole with server-side apply. */
export interface DesiredSecret {
  namespace: string;
  name: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: Record<string, Buffer>;
  owner: { name: string; uid: string };
}

/**
 * Apply-only writer of Secrets. Never reads, lists, watches, updates (PUT) or deletes a Secret.
 * Rejects with `ControllerPatchError` carrying the API server's message (which never contains data values).
 * Resolves with the Secret's resourceVersion after the apply (unchanged when the apply was a no-op).
 */
export interface SecretWriter {
  apply(secret: DesiredSecret, signal?: AbortSignal): Promise<{ resourceVersion: string }>;
}
export const SecretWriter = Symbol('SecretWriter');

/** Writes SecretSync status. A NotFound (object deleted meanwhile) resolves quietly; other failures reject. */
export interface StatusWriter {
  write(ss: SecretSync, status: SecretSyncStatus): Promise<void>;
}
export const StatusWriter = Symbol('StatusWriter');

/** Kubernetes Events about a SecretSync. Best effort: failures are logged, never thrown. */
export interface EventRecorder {
  event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
export const EventRecorder = Symbol('EventRecorder');

/** Read access to the watch caches. */
export interface ObjectCache {
  getSecretSync(namespace: string, name: string): SecretSync | undefined;
  getSecretProviderClass(namespace: string, name: string): SecretProviderClass | undefined;
  listSecretSyncs(): SecretSync[];
  /** True once the initial lists have been received. */
  synced(): boolean;
}
export const ObjectCache = Symbol('ObjectCache');

/** The API objects the controller reads and writes (secret-sync.x-k8s.io/v1alpha1, secrets-store.csi.x-k8s.io/v1). */
export const SECRET_SYNC_GROUP = 'secret-sync.x-k8s.io';
export const SECRET_SYNC_VERSION = 'v1alpha1';
export const SECRET_SYNC_API_VERSION = `${SECRET_SYNC_GROUP}/${SECRET_SYNC_VERSION}`;
export const SECRET_SYNC_PLURAL = 'secretsyncs';
export const SPC_GROUP = 'secrets-store.csi.x-k8s.io';
export const SPC_VERSION = 'v1';
export const SPC_PLURAL = 'secretproviderclasses';

/** Label on every Secret the controller manages (value is the empty string). */
export const MANAGED_LABEL = 'secrets-store.sync.x-k8s.io';
export const RESERVED_PREFIX = 'secrets-store.sync.x-k8s.io';
export const FIELD_MANAGER = 'secrets-store-sync-controller';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface SecretObjectDatum {
  sourcePath: string;
  targetKey: string;
}

export interface SecretObject {
  type?: string;
  data: SecretObjectDatum[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface SecretSyncStatus {
  syncHash?: string;
  lastSuccessfulSyncTime?: string;
  conditions?: Condition[];
}

export interface SecretSync {
  apiVersion: typeof SECRET_SYNC_API_VERSION;
  kind: 'SecretSync';
  metadata: ObjectMeta;
  spec: {
    secretSyncControllerName?: string;
    secretProviderClassName: string;
    serviceAccountName: string;
    secretObject: SecretObject;
    forceSynchronization?: string;
  };
  status?: SecretSyncStatus;
}

export interface SecretProviderClass {
  apiVersion: string;
  kind: 'SecretProviderClass';
  metadata: ObjectMeta;
  spec: {
    provider?: string;
    parameters?: Record<string, string> | null;
    secretObjects?: unknown[];
  };
}

export const CONDITION_CREATED = 'SecretCreated';
export const CONDITION_UPDATED = 'SecretUpdated';

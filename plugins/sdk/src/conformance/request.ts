/** Builds provider requests the way the controller does, for plugin authors' own tests and the conformance kit. */
import {
  MountAttributes,
  POD_NAME_ATTRIBUTE,
  POD_NAMESPACE_ATTRIBUTE,
  POD_UID_ATTRIBUTE,
  SERVICE_ACCOUNT_NAME_ATTRIBUTE,
} from '../attributes.js';
import { silentPluginLogger } from '../define.js';
import { parseTokens, tokensAttributeValue } from '../tokens.js';
import type { MountRequest, ObjectVersion, PluginLogger } from '../types.js';

export interface TestRequestInit {
  /** SecretProviderClass `spec.parameters`. */
  parameters?: Record<string, string>;
  /** ServiceAccount tokens to send: audience -> JWT (they expire in 10 minutes). */
  tokens?: Record<string, string>;
  /** Default `default`. */
  namespace?: string;
  /** Default `default`. */
  serviceAccountName?: string;
  /** More attributes, as the CSI driver sends them (e.g. `csi.storage.k8s.io/ephemeral`). */
  extraAttributes?: Record<string, string>;
  secrets?: Record<string, string>;
  currentObjectVersions?: ObjectVersion[];
  /** Default: a signal that never aborts. */
  signal?: AbortSignal;
  /** Default 10 s from now. */
  deadline?: number;
  logger?: PluginLogger;
}

/** The attributes the controller sends for these parameters (pod and ServiceAccount keys set as it sets them). */
export function testAttributes(init: TestRequestInit = {}): Record<string, string> {
  return {
    ...(init.parameters ?? {}),
    ...(init.extraAttributes ?? {}),
    [POD_NAME_ATTRIBUTE]: 'secrets-store-sync-controller-0',
    [POD_UID_ATTRIBUTE]: '00000000-0000-4000-8000-000000000001',
    [POD_NAMESPACE_ATTRIBUTE]: init.namespace ?? 'default',
    [SERVICE_ACCOUNT_NAME_ATTRIBUTE]: init.serviceAccountName ?? 'default',
  };
}

/** A MountRequest as a provider receives it from the controller. */
export function testMountRequest(init: TestRequestInit = {}): MountRequest {
  const expires = new Date(Date.now() + 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const tokens = Object.fromEntries(
    Object.entries(init.tokens ?? {}).map(([aud, token]) => [aud, { token, expirationTimestamp: expires }]),
  );
  return {
    attributes: new MountAttributes(testAttributes(init)),
    secrets: Object.freeze({ ...(init.secrets ?? {}) }),
    tokens: parseTokens(Object.keys(tokens).length ? tokensAttributeValue(tokens) : undefined),
    currentObjectVersions: Object.freeze([...(init.currentObjectVersions ?? [])]),
    signal: init.signal ?? new AbortController().signal,
    deadline: init.deadline ?? Date.now() + 10_000,
    logger: init.logger ?? silentPluginLogger,
  };
}

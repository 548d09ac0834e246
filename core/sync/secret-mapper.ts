/**
 * Maps the provider's files to Secret data (upstream `GetSecretData`, spec §3.5).
 *
 * Edge cases:
 * - Files are indexed by exact `path`; a later file with the same path replaces an earlier one; `mode` is ignored;
 *   files that no entry references are ignored.
 * - Entries are processed in order; `sourcePath` and `targetKey` are trimmed first. An empty one, or a source
 *   path missing from the files, fails. Two entries with the same (trimmed) targetKey: the later wins (the CRD's
 *   list-map normally prevents this).
 * - For `kubernetes.io/tls`, each value goes through `getCertPart` (see tls-parts.ts); failures are wrapped as
 *   `failed to get cert data for <key>: <reason>`.
 * - Beyond upstream: the result may not exceed the Kubernetes Secret limit (sum of key and value byte lengths
 *   over 1 MiB), which the API server would otherwise reject with a less helpful error.
 * - The result has a null prototype, so a key such as `__proto__` is stored as data, not as a prototype.
 * - Values are copies: later changes to the provider's buffers do not affect them.
 * - Every failure is `RemoteSecretStoreFetchFailed`; messages carry paths, keys and sizes, never values.
 */
import type { SecretObject } from '../api/types.js';
import { RemoteSecretStoreFetchFailed } from '../errors.js';
import type { ProviderFile } from '../ports/provider.js';
import { CertDataError, getCertPart, SECRET_TYPE_TLS } from './tls-parts.js';

/** Kubernetes' `MaxSecretSize`: the API server rejects a Secret whose data keys plus values exceed it. */
export const MAX_SECRET_DATA_BYTES = 1024 * 1024;

export function mapSecretData(files: ProviderFile[], secretObject: SecretObject): Record<string, Buffer> {
  const byPath = new Map<string, Uint8Array>();
  for (const file of files) byPath.set(file.path, file.contents);

  const isTls = secretObject.type === SECRET_TYPE_TLS;
  const data = Object.create(null) as Record<string, Buffer>;
  for (const entry of secretObject.data ?? []) {
    const sourcePath = (entry.sourcePath ?? '').trim();
    const targetKey = (entry.targetKey ?? '').trim();
    if (sourcePath === '') throw new RemoteSecretStoreFetchFailed('source path in secretObject.data is empty');
    if (targetKey === '') throw new RemoteSecretStoreFetchFailed('target key in secretObject.data is empty');
    const contents = byPath.get(sourcePath);
    if (contents === undefined) {
      throw new RemoteSecretStoreFetchFailed(`file matching sourcePath ${sourcePath} not found in the pod`);
    }
    data[targetKey] = isTls ? tlsPart(contents, targetKey) : Buffer.from(contents);
  }
  checkSecretSize(data);
  return data;
}

/** Fails when the data would exceed the Kubernetes Secret size limit (keys and values, in bytes). */
export function checkSecretSize(data: Readonly<Record<string, Uint8Array>>): void {
  let total = 0;
  for (const key of Object.keys(data)) total += Buffer.byteLength(key, 'utf8') + (data[key] as Uint8Array).byteLength;
  if (total > MAX_SECRET_DATA_BYTES) {
    throw new RemoteSecretStoreFetchFailed(
      `secret data is ${total} bytes (keys plus values), over the Kubernetes Secret limit of ${MAX_SECRET_DATA_BYTES} bytes`,
    );
  }
}

function tlsPart(contents: Uint8Array, targetKey: string): Buffer {
  try {
    return getCertPart(contents, targetKey);
  } catch (err) {
    if (err instanceof CertDataError) {
      throw new RemoteSecretStoreFetchFailed(`failed to get cert data for ${targetKey}: ${err.message}`);
    }
    // Not expected (getCertPart only throws CertDataError); the text of an unknown error is withheld on purpose.
    throw new RemoteSecretStoreFetchFailed(`failed to get cert data for ${targetKey}: unexpected error while reading TLS data`);
  }
}

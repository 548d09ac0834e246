/**
 * Transport-neutral provider shapes <-> CSIDriverProvider v1alpha1 messages, with the checks every client of the
 * protocol makes on a Mount response (upstream provider_client.go, plus the driver's file-path rules).
 * Shared by the gRPC transport and the in-process fake so both report identical results.
 */
import { ProviderError } from '../../core/errors.js';
import type { MountRequest, MountResponse, ObjectVersion, ProviderFile, VersionInfo } from '../../core/ports/provider.js';
import type * as pb from '../../proto/gen/service.js';

/** The API version callers send in VersionRequest; the only one that exists. */
export const API_VERSION = 'v1alpha1';

/** Attributes and secrets become JSON object strings; the rest maps field by field. */
export function toWireMountRequest(request: MountRequest): pb.MountRequest {
  return {
    attributes: JSON.stringify(request.attributes),
    secrets: JSON.stringify(request.secrets),
    targetPath: request.targetPath,
    permission: request.permission,
    currentObjectVersion: request.currentObjectVersions.map((v) => ({ id: v.id, version: v.version })),
  };
}

/**
 * Checks in upstream's order: a provider error code, then missing object versions, then each file path.
 * Never resolves to a response with no object versions or an unsafe path.
 */
export function fromWireMountResponse(response: pb.MountResponse): MountResponse {
  const code = response.error?.code ?? '';
  if (code !== '') {
    throw new ProviderError(`mount request failed with provider error code ${code}`);
  }
  if (response.objectVersion.length === 0) {
    throw new ProviderError('missing object versions');
  }
  const files: ProviderFile[] = response.files.map((f) => {
    checkFilePath(f.path);
    return { path: f.path, mode: f.mode, contents: f.contents };
  });
  const objectVersions: ObjectVersion[] = response.objectVersion.map((v) => ({ id: v.id, version: v.version }));
  return { files, objectVersions };
}

export function fromWireVersionResponse(response: pb.VersionResponse): VersionInfo {
  return { version: response.version, runtimeName: response.runtimeName, runtimeVersion: response.runtimeVersion };
}

/**
 * A file path must be relative to the mount and stay inside it: not empty, no NUL byte, not absolute, and no
 * `..` element (which also covers a leading `..`). Throws a ProviderError naming the path.
 */
export function checkFilePath(path: string): void {
  const problem = filePathProblem(path);
  if (problem !== undefined) {
    throw new ProviderError(`provider returned an unsafe file path ${quotePath(path)}: ${problem}`);
  }
}

function filePathProblem(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/')) return 'absolute path';
  if (path.split('/').includes('..')) return 'contains a ".." element';
  return undefined;
}

/** JSON quoting shows control characters (a NUL as \u0000); very long paths are cut. */
function quotePath(path: string): string {
  const shown = path.length > 256 ? `${path.slice(0, 256)}...` : path;
  return JSON.stringify(shown);
}

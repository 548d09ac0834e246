/** `--endpoint unix:///provider/acme.sock` -> `/provider/acme.sock` (the CSI providers' flag format). */
import { resolve } from 'node:path';

export class EndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EndpointError';
  }
}

/** Unix-socket paths longer than this fail to bind on Linux (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

export function socketPathOf(endpoint: string, cwd = process.cwd()): string {
  const m = /^unix:\/\/(.+)$/.exec(endpoint.trim());
  if (!m) throw new EndpointError(`--endpoint "${endpoint}" must be unix://<socket path>, e.g. unix:///provider/acme.sock`);
  const path = resolve(cwd, m[1]!);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new EndpointError(`--endpoint socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
  }
  return path;
}

/**
 * What the controller accepts back from `mount`, checked the same way by the host and by the conformance kit:
 * files with safe relative paths, string or byte contents and modes 0..511, and a non-empty list of object
 * versions whose ids and versions are strings.
 */
import type { ObjectVersion } from './types.js';

export interface NormalizedFile {
  path: string;
  /** Undefined when the provider left it to the caller. */
  mode: number | undefined;
  contents: Uint8Array;
}

export interface NormalizedResult {
  files: NormalizedFile[];
  objectVersions: ObjectVersion[];
}

/** The result is malformed; the message says where (never what the contents are). */
export class InvalidMountResultError extends Error {
  /** The offending path, when the problem is an unsafe file path. */
  readonly unsafePath?: string;
  constructor(message: string, unsafePath?: string) {
    super(message);
    this.name = 'InvalidMountResultError';
    if (unsafePath !== undefined) this.unsafePath = unsafePath;
  }
}

/**
 * Why a file path is unsafe, or undefined: empty, a NUL byte, absolute, or a `..` element (the CSI driver's and the
 * controller's rule).
 */
export function filePathProblem(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'contains a NUL byte';
  if (path.startsWith('/')) return 'absolute path';
  if (path.split('/').includes('..')) return 'contains a ".." element';
  return undefined;
}

const encoder = new TextEncoder();

/**
 * Checks a value returned by `mount` and converts string contents to UTF-8 bytes. Throws InvalidMountResultError
 * for the first problem. An empty `objectVersions` is reported with upstream's words, "missing object versions".
 */
export function normalizeMountResult(value: unknown): NormalizedResult {
  if (typeof value !== 'object' || value === null) throw new InvalidMountResultError(`the result is ${describe(value)}, not an object`);
  const { files, objectVersions } = value as { files?: unknown; objectVersions?: unknown };
  if (!Array.isArray(files)) throw new InvalidMountResultError(`files is ${describe(files)}, not an array`);
  if (!Array.isArray(objectVersions)) throw new InvalidMountResultError(`objectVersions is ${describe(objectVersions)}, not an array`);
  const outFiles = files.map((f: unknown, i): NormalizedFile => {
    if (typeof f !== 'object' || f === null) throw new InvalidMountResultError(`files[${i}] is ${describe(f)}, not an object`);
    const { path, contents, mode } = f as { path?: unknown; contents?: unknown; mode?: unknown };
    if (typeof path !== 'string') throw new InvalidMountResultError(`files[${i}].path is ${describe(path)}, not a string`);
    const problem = filePathProblem(path);
    if (problem) throw new InvalidMountResultError(`unsafe file path ${quote(path)}: ${problem}`, path);
    let bytes: Uint8Array;
    if (typeof contents === 'string') bytes = encoder.encode(contents);
    else if (contents instanceof Uint8Array) bytes = contents;
    else throw new InvalidMountResultError(`files[${i}].contents (${quote(path)}) is ${describe(contents)}, not a string or Uint8Array`);
    if (mode !== undefined && (!Number.isInteger(mode) || (mode as number) < 0 || (mode as number) > 0o777)) {
      throw new InvalidMountResultError(`files[${i}].mode (${quote(path)}) must be an integer 0..511`);
    }
    return { path, mode: mode as number | undefined, contents: bytes };
  });
  if (objectVersions.length === 0) throw new InvalidMountResultError('missing object versions');
  const outVersions = objectVersions.map((v: unknown, i): ObjectVersion => {
    if (typeof v !== 'object' || v === null) throw new InvalidMountResultError(`objectVersions[${i}] is ${describe(v)}, not an object`);
    const { id, version } = v as { id?: unknown; version?: unknown };
    if (typeof id !== 'string') throw new InvalidMountResultError(`objectVersions[${i}].id is ${describe(id)}, not a string`);
    if (typeof version !== 'string') throw new InvalidMountResultError(`objectVersions[${i}].version is ${describe(version)}, not a string`);
    return { id, version };
  });
  return { files: outFiles, objectVersions: outVersions };
}

/**
 * The size in bytes of the result as a CSI `MountResponse` on the wire (what `--max-call-recv-msg-size` limits),
 * counting each file's mode as `defaultMode` when it has none.
 */
export function encodedResultSize(result: NormalizedResult, defaultMode = 0o644): number {
  let size = 0;
  for (const v of result.objectVersions) {
    size += field(stringField(v.id) + stringField(v.version));
  }
  for (const f of result.files) {
    const mode = f.mode ?? defaultMode;
    size += field(stringField(f.path) + (mode === 0 ? 0 : 1 + varintSize(mode)) + bytesField(f.contents.length));
  }
  return size + 2; // the empty `error` message
}

function field(length: number): number {
  return 1 + varintSize(length) + length;
}

function stringField(s: string): number {
  const n = encoder.encode(s).length;
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

function bytesField(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'bytes';
  const t = typeof value;
  return t === 'object' ? 'an object' : t === 'undefined' ? 'undefined' : `a ${t}`;
}

/** JSON quoting shows control characters; long paths are cut. */
function quote(path: string): string {
  return JSON.stringify(path.length > 256 ? `${path.slice(0, 256)}...` : path);
}

/**
 * One store = one provider. `mount` fetches every object of the `objects` parameter concurrently (GET
 * `<baseUrl><path>`), extracts the value and its version, and returns one file per object. Everything honours the
 * request's AbortSignal, so a deadline or a shutdown stops the HTTP calls at once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  defineProvider,
  ProviderError,
  RemoteSecretStoreFetchFailed,
  requireToken,
  type MountRequest,
  type MountResult,
  type ProviderDefinition,
  type SecretFile,
} from '@secrets-sync/plugin-sdk';
import { parseObjects, type ObjectSpec } from './objects.js';
import type { StoreOptions } from './options.js';

/** The fetch to use (tests may pass their own); defaults to the global one. */
export type Fetch = typeof fetch;

export function httpProvider(store: StoreOptions, fetchImpl: Fetch = fetch): ProviderDefinition {
  return defineProvider({
    name: store.name,
    async mount(request: MountRequest): Promise<MountResult> {
      request.signal.throwIfAborted();
      const objects = parseObjects(request.attributes.require('objects'));
      const headers = { Accept: 'application/json, */*', ...store.headers, ...(await authHeader(store, request)) };
      const base = baseUrl(store, request);
      const fetched = await Promise.all(objects.map((o) => fetchObject(o, base, headers, store, request.signal, fetchImpl)));
      return {
        files: fetched.map((f): SecretFile => ({ path: f.spec.objectName, contents: f.contents })),
        objectVersions: fetched.map((f) => ({ id: f.spec.objectName, version: f.version })),
      };
    },
  });
}

function baseUrl(store: StoreOptions, request: MountRequest): string {
  return store.baseUrl
    .replaceAll('{namespace}', encodeURIComponent(request.attributes.podNamespace))
    .replaceAll('{serviceAccount}', encodeURIComponent(request.attributes.serviceAccountName));
}

async function authHeader(store: StoreOptions, request: MountRequest): Promise<Record<string, string>> {
  switch (store.auth.kind) {
    case 'serviceAccountToken':
      return { Authorization: `Bearer ${requireToken(request.tokens, store.auth.audience).token}` };
    case 'bearerTokenFile': {
      let token: string;
      try {
        token = (await readFile(store.auth.path, { encoding: 'utf8', signal: request.signal })).trim();
      } catch (err) {
        if (request.signal.aborted) throw err;
        throw new ProviderError(`cannot read the bearer token file ${store.auth.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, {
          code: 'Unauthenticated',
        });
      }
      return { Authorization: `Bearer ${token}` };
    }
    default:
      return {};
  }
}

interface Fetched {
  spec: ObjectSpec;
  contents: Uint8Array;
  version: string;
}

async function fetchObject(
  spec: ObjectSpec,
  base: string,
  headers: Record<string, string>,
  store: StoreOptions,
  signal: AbortSignal,
  fetchImpl: Fetch,
): Promise<Fetched> {
  const url = new URL(spec.path, base);
  const what = `object "${spec.objectName}" (${url.pathname})`;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers, signal, redirect: 'error' });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ProviderError(`cannot reach the store for ${what}: ${cause}`, { code: 'Unavailable' });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw statusError(response.status, response.statusText, what);
  }
  const body = await readBody(response, store.maxObjectBytes, what);
  let value: Uint8Array = body;
  let doc: unknown;
  if (spec.field !== undefined || spec.versionField !== undefined) {
    try {
      doc = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new RemoteSecretStoreFetchFailed(`${what}: the store's answer is not JSON, but field/versionField need it`);
    }
  }
  if (spec.field !== undefined) {
    const found = lookup(doc, spec.field);
    if (found === undefined || found === null) throw new RemoteSecretStoreFetchFailed(`${what}: field "${spec.field}" is not in the answer`);
    value = new TextEncoder().encode(typeof found === 'string' ? found : JSON.stringify(found));
  }
  if (spec.encoding === 'base64') {
    const text = new TextDecoder().decode(value).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
      throw new RemoteSecretStoreFetchFailed(`${what}: the value is not valid base64`);
    }
    value = Buffer.from(text, 'base64');
  }
  return { spec, contents: value, version: versionOf(spec, doc, response, value) };
}

function statusError(status: number, statusText: string, what: string): Error {
  const answer = `the store answered ${status}${statusText ? ` ${statusText}` : ''} for ${what}`;
  if (status === 404) return new RemoteSecretStoreFetchFailed(answer, { code: 'NotFound' });
  if (status === 401) return new ProviderError(answer, { code: 'Unauthenticated' });
  if (status === 403) return new ProviderError(answer, { code: 'PermissionDenied' });
  if (status === 429 || status >= 500) return new ProviderError(answer, { code: 'Unavailable' });
  return new ProviderError(answer);
}

async function readBody(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderError(`${what} is ${declared} bytes, over the ${maxBytes}-byte limit`, { code: 'ResourceExhausted' });
  }
  const body = new Uint8Array(await response.arrayBuffer());
  if (body.length > maxBytes) throw new ProviderError(`${what} is ${body.length} bytes, over the ${maxBytes}-byte limit`, { code: 'ResourceExhausted' });
  return body;
}

/** `a.b.0.c` into parsed JSON. */
function lookup(doc: unknown, dotted: string): unknown {
  let cur: unknown = doc;
  for (const part of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function versionOf(spec: ObjectSpec, doc: unknown, response: Response, value: Uint8Array): string {
  if (spec.versionField !== undefined) {
    const v = lookup(doc, spec.versionField);
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    throw new RemoteSecretStoreFetchFailed(`object "${spec.objectName}": versionField "${spec.versionField}" is not in the answer`);
  }
  const etag = response.headers.get('etag');
  // The ETag names the whole answer: with `field` it may change when another field does (a harmless re-sync).
  if (etag) return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
  return `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`;
}

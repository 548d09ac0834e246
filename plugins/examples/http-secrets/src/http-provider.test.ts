import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instantiatePlugin, type ProviderDefinition } from '@secrets-sync/plugin-sdk';
import { conformanceChecks, testMountRequest } from '@secrets-sync/plugin-sdk/conformance';
import plugin from './index.js';

/** A tiny secret API: /v1/<namespace>/<name> answers {data: {value}, metadata: {version}}. */
const store: Record<string, { value: string; version: number }> = {
  'team-a/db': { value: 's3cr3t', version: 4 },
  'team-a/cert': { value: Buffer.from('binary\u0000data').toString('base64'), version: 1 },
  'default/db': { value: 'default-db', version: 1 },
};
const requests: { url: string; authorization?: string; tenant?: string }[] = [];

function handle(req: IncomingMessage, res: ServerResponse): void {
  requests.push({ url: req.url ?? '', authorization: req.headers.authorization, tenant: req.headers['x-tenant'] as string | undefined });
  if (req.url === '/v1/hang/never') return; // never answers
  if (req.url === '/v1/raw/plain') {
    res.writeHead(200, { 'content-type': 'text/plain', etag: 'W/"abc"' }).end('plain text secret');
    return;
  }
  if (req.headers.authorization !== 'Bearer good-token') {
    res.writeHead(req.headers.authorization ? 403 : 401).end();
    return;
  }
  const key = (req.url ?? '').replace(/^\/v1\//, '');
  const item = store[key];
  if (!item) {
    res.writeHead(404).end('{"error": "not found"}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { value: item.value }, metadata: { version: item.version } }));
}

// Started before the tests are collected: the conformance checks are built from options that name its URL.
const server: Server = createServer(handle);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const options = () => ({
  stores: [
    { name: 'inhouse', baseUrl: `${baseUrl}{namespace}/`, auth: { serviceAccountToken: { audience: 'store.example' } }, headers: { 'X-Tenant': 'acme' } },
    { name: 'raw', baseUrl: `${baseUrl}` },
  ],
});
async function providers(): Promise<Record<string, ProviderDefinition>> {
  return Object.fromEntries((await instantiatePlugin(plugin, { options: options() })).map((p) => [p.name, p]));
}
const objects = '- objectName: password\n  path: db\n  field: data.value\n  versionField: metadata.version\n';

describe('conformance', () => {
  for (const check of conformanceChecks(plugin, {
    options: options(),
    provider: 'inhouse',
    parameters: { objects },
    tokens: { 'store.example': 'good-token' },
    namespace: 'team-a',
    misconfigured: [{ objects: '' }, { objects: '- objectName: x\n  path: ../../admin\n' }, { objects: '- objectName: x\n  colour: red\n' }],
    notFound: { objects: '- objectName: x\n  path: missing\n  field: data.value\n' },
  })) {
    test(check.name, () => check.run());
  }
});

describe('the HTTP provider', () => {
  test('fetches each object of the namespace with the ServiceAccount token, extracting field and version', async () => {
    const { inhouse } = await providers();
    requests.length = 0;
    const result = await inhouse!.mount(testMountRequest({
      namespace: 'team-a',
      tokens: { 'store.example': 'good-token' },
      parameters: { objects: `${objects}- objectName: tls/cert.der\n  path: cert\n  field: data.value\n  encoding: base64\n` },
    }));
    expect(result.files.map((f) => [f.path, Buffer.from(f.contents).toString()])).toEqual([['password', 's3cr3t'], ['tls/cert.der', 'binary\u0000data']]);
    expect(result.objectVersions).toEqual([{ id: 'password', version: '4' }, { id: 'tls/cert.der', version: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) }]);
    // (an aborted request of an earlier conformance check may still arrive, hence arrayContaining)
    expect(requests).toEqual(expect.arrayContaining([
      { url: '/v1/team-a/db', authorization: 'Bearer good-token', tenant: 'acme' },
      { url: '/v1/team-a/cert', authorization: 'Bearer good-token', tenant: 'acme' },
    ]));
  });

  test('the whole body is the value when no field is given, and the ETag the version', async () => {
    const { raw } = await providers();
    const result = await raw!.mount(testMountRequest({ parameters: { objects: '- objectName: p\n  path: raw/plain\n' } }));
    expect(Buffer.from(result.files[0]!.contents).toString()).toBe('plain text secret');
    expect(result.objectVersions).toEqual([{ id: 'p', version: 'abc' }]);
  });

  test('HTTP failures map to condition reasons and gRPC codes', async () => {
    const { inhouse } = await providers();
    const fail = (tokens: Record<string, string>, path: string) =>
      Promise.resolve().then(() => inhouse!.mount(testMountRequest({ namespace: 'team-a', tokens, parameters: { objects: `- objectName: x\n  path: ${path}\n` } })));
    await expect(fail({}, 'db')).rejects.toMatchObject({ reason: 'ProviderError', code: 'Unauthenticated', message: expect.stringContaining('no ServiceAccount token for audience "store.example"') });
    await expect(fail({ 'store.example': 'bad-token' }, 'db')).rejects.toMatchObject({
      reason: 'ProviderError', code: 'PermissionDenied', message: 'the store answered 403 Forbidden for object "x" (/v1/team-a/db)',
    });
    await expect(fail({ 'store.example': 'good-token' }, 'nope')).rejects.toMatchObject({
      reason: 'RemoteSecretStoreFetchFailed', code: 'NotFound', message: 'the store answered 404 Not Found for object "x" (/v1/team-a/nope)',
    });
  });

  test('an unreachable store is Unavailable; a deadline aborts the request', async () => {
    const [down] = await instantiatePlugin(plugin, { options: { name: 'down', baseUrl: 'http://127.0.0.1:1/' } });
    await expect(down!.mount(testMountRequest({ parameters: { objects: '- a' } }))).rejects.toMatchObject({ reason: 'ProviderError', code: 'Unavailable' });
    const { raw } = await providers();
    const abort = new AbortController();
    const pending = raw!.mount(testMountRequest({ signal: abort.signal, parameters: { objects: '- objectName: n\n  path: hang/never\n' } }));
    setTimeout(() => abort.abort(new DOMException('deadline', 'TimeoutError')), 50);
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  test('a bearer token file is read on every call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'http-provider-'));
    try {
      writeFileSync(join(dir, 'token'), 'good-token\n');
      const [p] = await instantiatePlugin(plugin, { options: { baseUrl: `${baseUrl}team-a/`, auth: { bearerTokenFile: join(dir, 'token') } } });
      expect(p!.name).toBe('http');
      const r = await p!.mount(testMountRequest({ parameters: { objects: '- objectName: db\n  field: data.value\n' } }));
      expect(Buffer.from(r.files[0]!.contents).toString()).toBe('s3cr3t');
      rmSync(join(dir, 'token'));
      await expect(Promise.resolve().then(() => p!.mount(testMountRequest({ parameters: { objects: '- db' } })))).rejects.toMatchObject({
        code: 'Unauthenticated', message: `cannot read the bearer token file ${join(dir, 'token')}: ENOENT`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    [undefined, 'no options: give at least baseUrl'],
    [{ baseUrl: 'ftp://x/' }, 'baseUrl must be http or https'],
    [{ baseUrl: 'https://x/?token=1' }, 'must not have a query or fragment'],
    [{ baseUrl: 'https://x/', auth: { kerberos: {} } }, 'auth has an unknown kind "kerberos"'],
    [{ baseUrl: 'https://x/', name: 'bad name' }, 'name must match'],
    [{ stores: [{ baseUrl: 'https://x/' }, { baseUrl: 'https://y/' }] }, 'store name "http" is used twice'],
  ])('bad options %j are rejected at start-up', async (raw, message) => {
    await expect(instantiatePlugin(plugin, { options: raw })).rejects.toThrow(message);
  });
});

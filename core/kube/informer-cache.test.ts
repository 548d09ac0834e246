/**
 * KubeHttp and InformerCache against a small fake API server (plain HTTP): JSON requests and Status errors,
 * token files re-read per request, NDJSON watches, paginated lists, and relists after 410 Gone that report
 * what changed while the watch was down (deletions included).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SecretSync } from '../api/types.js';
import { silentLogger } from '../ports/observability.js';
import { loadKubeAccess } from './access.js';
import { KubeApiError, KubeHttp } from './http.js';
import { InformerCache } from './informer-cache.js';

const SS_PATH = '/apis/secret-sync.x-k8s.io/v1alpha1/secretsyncs';
const SPC_PATH = '/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses';

type Obj = { metadata: { name: string; namespace: string; resourceVersion: string; generation?: number } };
const ss = (name: string, rv: number): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: String(rv), generation: 1 } });

/** A fake API server: list (paginated) and watch of two resources; tests push watch lines and control 410s. */
class FakeApi {
  server!: Server;
  url = '';
  objects = new Map<string, Obj[]>([[SS_PATH, []], [SPC_PATH, []]]);
  rv = 100;
  watches: { path: string; rv: string; res: ServerResponse }[] = [];
  requests: { method: string; url: string; auth?: string; body: string }[] = [];
  lists = 0;
  pageSize?: number;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += String(c);
    const u = new URL(req.url!, 'http://x');
    this.requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
    if (u.pathname === '/fail') {
      res.writeHead(422, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 422, reason: 'Invalid', message: 'spec.x: Invalid value' }));
      return;
    }
    if (u.pathname === '/echo') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, contentType: req.headers['content-type'], body: body ? JSON.parse(body) : null }));
      return;
    }
    const items = this.objects.get(u.pathname);
    if (!items) { res.writeHead(404); res.end('{"message":"not found"}'); return; }
    if (u.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      this.watches.push({ path: u.pathname, rv: u.searchParams.get('resourceVersion') ?? '', res });
      return;
    }
    this.lists++;
    const start = Number(u.searchParams.get('continue') ?? 0);
    const limit = this.pageSize ?? Number(u.searchParams.get('limit') ?? 1e9);
    const page = items.slice(start, start + limit);
    const cont = start + limit < items.length ? String(start + limit) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: { resourceVersion: String(this.rv), ...(cont ? { continue: cont } : {}) }, items: page }));
  }

  send(path: string, event: object): void {
    for (const w of this.watches) if (w.path === path && !w.res.writableEnded) w.res.write(JSON.stringify(event) + '\n');
  }

  endWatches(path: string): void {
    for (const w of this.watches) if (w.path === path) w.res.end();
    this.watches = this.watches.filter((w) => w.path !== path);
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let api: FakeApi;
let dir: string;
beforeEach(async () => {
  api = new FakeApi();
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'ssc-http-'));
});
afterEach(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('KubeHttp', () => {
  test('JSON requests with query and content type; Status errors become KubeApiError', async () => {
    const http = new KubeHttp({ server: `${api.url}/`, token: 'tok' });
    const r = await http.request<{ method: string; contentType: string; body: unknown }>('PATCH', '/echo', {
      body: { a: 1 }, contentType: 'application/apply-patch+yaml', query: { fieldManager: 'm', force: 'true', skip: undefined },
    });
    expect(r).toEqual({ method: 'PATCH', contentType: 'application/apply-patch+yaml', body: { a: 1 } });
    expect(api.requests[0]).toMatchObject({ url: '/echo?fieldManager=m&force=true', auth: 'Bearer tok' });
    const err = await http.request('POST', '/fail', { body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ code: 422, reason: 'Invalid', message: 'spec.x: Invalid value' });
    http.close();
  });

  test('a token file is re-read once a minute (rotated in-cluster tokens)', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'one\n');
    let now = 1_000_000;
    const http = new KubeHttp({ server: api.url, tokenFile }, { now: () => now });
    await http.request('GET', '/echo');
    writeFileSync(tokenFile, 'two');
    now += 59_000;
    await http.request('GET', '/echo');
    now += 1_000;
    await http.request('GET', '/echo');
    expect(api.requests.map((r) => r.auth)).toEqual(['Bearer one', 'Bearer one', 'Bearer two']);
    http.close();
  });

  test('dynamic (exec) credentials are asked for every request', async () => {
    let n = 0;
    const http = new KubeHttp({ server: api.url, token: 'ignored', credentials: async () => ({ headers: { Authorization: `Bearer exec-${++n}` } }) });
    await http.request('GET', '/echo');
    await http.request('GET', '/echo');
    expect(api.requests.map((r) => r.auth)).toEqual(['Bearer exec-1', 'Bearer exec-2']);
    http.close();
  });

  test('an exec user (kubeconfig) authenticates through lazily loaded client-node', async () => {
    const kc = join(dir, 'kubeconfig');
    const cred = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } });
    writeFileSync(kc, stringify({
      'current-context': 'x', contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], clusters: [{ name: 'c', cluster: { server: api.url } }],
      users: [{ name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', `console.log(${JSON.stringify(cred)})`], interactiveMode: 'Never' } } }],
    }));
    const http = new KubeHttp(loadKubeAccess({ kubeconfig: kc, env: {} }));
    await http.request('GET', '/echo');
    expect(api.requests.map((r) => r.auth)).toEqual(['Bearer from-exec']);
    http.close();
  });

  test('watch streams NDJSON events; an ERROR event rejects with its Status; abort resolves', async () => {
    const http = new KubeHttp({ server: api.url });
    const seen: string[] = [];
    let opened = false;
    const abort = new AbortController();
    const w = http.watch<Obj>(SS_PATH, { resourceVersion: '5' }, (e) => seen.push(`${e.type}:${e.object.metadata.name}`), abort.signal, { onOpen: () => { opened = true; } });
    await until(() => api.watches.length === 1);
    expect(api.watches[0].rv).toBe('5');
    api.send(SS_PATH, { type: 'ADDED', object: ss('a', 6) });
    api.send(SS_PATH, { type: 'MODIFIED', object: ss('a', 7) });
    await until(() => seen.length === 2);
    expect(opened).toBe(true);
    abort.abort();
    await expect(w).resolves.toBeUndefined();
    expect(seen).toEqual(['ADDED:a', 'MODIFIED:a']);

    const w2 = http.watch(SS_PATH, {}, () => undefined);
    await until(() => api.watches.length === 2);
    api.send(SS_PATH, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } });
    await expect(w2).rejects.toMatchObject({ code: 410, message: 'too old resource version' });
    await expect(http.watch('/nowhere', {}, () => undefined)).rejects.toMatchObject({ code: 404 });
    http.close();
  });
});

describe('InformerCache', () => {
  function cache(http: KubeHttp) {
    const events: string[] = [];
    const c = new InformerCache(http, {
      secretSync: (e, o, old) => events.push(`ss ${e} ${o.metadata.name}@${o.metadata.resourceVersion}${old ? ` old@${old.metadata.resourceVersion}` : ''}`),
      secretProviderClass: (e, o) => events.push(`spc ${e} ${o.metadata.name}`),
    }, silentLogger);
    return { c, events };
  }

  test('paginated list, then watch from its resourceVersion; adds, updates with the old object, deletes', async () => {
    api.objects.set(SS_PATH, [ss('a', 1), ss('b', 2), ss('c', 3)]);
    api.pageSize = 2;
    const http = new KubeHttp({ server: api.url });
    const { c, events } = cache(http);
    expect(c.synced()).toBe(false);
    await c.start();
    expect(c.synced()).toBe(true);
    expect(api.lists).toBe(3); // 2 pages of SecretSyncs + 1 of SPCs
    expect(c.listSecretSyncs().map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c']);
    await until(() => api.watches.length === 2);
    expect(api.watches.every((w) => w.rv === '100')).toBe(true);
    expect(api.requests.find((r) => r.url.includes('watch=true'))?.url).toContain('allowWatchBookmarks=true');

    api.send(SS_PATH, { type: 'MODIFIED', object: ss('a', 101) });
    api.send(SS_PATH, { type: 'DELETED', object: ss('b', 102) });
    api.send(SS_PATH, { type: 'ADDED', object: ss('d', 103) });
    api.send(SS_PATH, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '150' } } });
    api.send(SPC_PATH, { type: 'ADDED', object: { metadata: { name: 'spc', namespace: 'ns', resourceVersion: '104' } } });
    await until(() => events.length === 7);
    expect(events).toEqual([
      'ss add a@1', 'ss add b@2', 'ss add c@3',
      'ss update a@101 old@1', 'ss delete b@2', 'ss add d@103', 'spc add spc',
    ]);
    expect(c.getSecretSync('ns', 'a')?.metadata.resourceVersion).toBe('101');
    expect(c.getSecretSync('ns', 'b')).toBeUndefined();
    expect(c.getSecretProviderClass('ns', 'spc')).toBeDefined();

    // The server ends the watch (its timeout): re-watched from the last resourceVersion (the bookmark), no relist.
    const lists = api.lists;
    api.endWatches(SS_PATH);
    await until(() => api.watches.some((w) => w.path === SS_PATH));
    expect(api.watches.find((w) => w.path === SS_PATH)?.rv).toBe('150');
    expect(api.lists).toBe(lists);
    await c.stop();
    http.close();
  });

  test('410 Gone: relists and reports the differences, deletions made while disconnected included', async () => {
    api.objects.set(SS_PATH, [ss('keep', 1), ss('change', 2), ss('gone', 3)] as never);
    const http = new KubeHttp({ server: api.url });
    const { c, events } = cache(http);
    await c.start();
    await until(() => api.watches.length === 2);
    events.length = 0;
    api.objects.set(SS_PATH, [ss('keep', 1), ss('change', 20), ss('new', 21)]);
    api.rv = 200;
    api.send(SS_PATH, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 100 (150)' } });
    await until(() => events.length === 3);
    expect(events.sort()).toEqual(['ss add new@21', 'ss delete gone@3', 'ss update change@20 old@2']);
    await until(() => api.watches.some((w) => w.path === SS_PATH && w.rv === '200'));
    expect(c.listSecretSyncs().map((o: SecretSync) => o.metadata.name).sort()).toEqual(['change', 'keep', 'new']);
    await c.stop();
    http.close();
  });

  test('a broken connection relists with backoff; start() waits for the first list and stop() ends the wait', async () => {
    const http = new KubeHttp({ server: api.url });
    const { c, events } = cache(http);
    api.objects.delete(SS_PATH); // 404 until the "CRD" exists
    const started = c.start();
    await until(() => api.requests.length >= 2);
    expect(c.synced()).toBe(false);
    api.objects.set(SS_PATH, [ss('x', 1)]);
    await started; // retried after 0.5 s (then 1 s ...)
    expect(c.synced()).toBe(true);
    await until(() => api.watches.length === 2);
    events.length = 0;
    api.objects.set(SS_PATH, []);
    for (const w of api.watches) if (w.path === SS_PATH) w.res.destroy(); // connection reset
    await until(() => events.length === 1);
    expect(events).toEqual(['ss delete x@1']);
    await c.stop();

    const never = cache(http).c;
    api.objects.delete(SPC_PATH);
    const p = never.start();
    await new Promise((r) => setTimeout(r, 50));
    await never.stop();
    await expect(p).resolves.toBeUndefined();
    expect(never.synced()).toBe(false);
    http.close();
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { ProviderError } from '../../core/errors.js';
import { CSIDriverProviderClient, type VersionResponse } from '../../proto/gen/service.js';
import { callOptions, failure, mountRequest, readable } from '../contract.js';
import { FakeProvider } from '../fake/fake-provider.js';
import { type FakeProviderServer, startFakeProviderServer } from '../fake/grpc-server.js';
import { CsiSocketTransportFactory, type CsiSocketTransportFactoryOptions } from './factory.js';
import { Status } from './status.js';
import type { TransportLogger } from './transport.js';

const objects = '- foo';
let dir: string;
const servers: FakeProviderServer[] = [];
const factories: CsiSocketTransportFactory[] = [];
let warnings: { fields: Record<string, unknown>; message: string }[];
const logger: TransportLogger = { warn: (fields, message) => warnings.push({ fields, message }) };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssc-'));
  warnings = [];
});

afterEach(async () => {
  await Promise.all(factories.splice(0).map((f) => f.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop(50)));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(provider: FakeProvider): Promise<FakeProviderServer> {
  const server = await startFakeProviderServer({ socketPath: join(dir, `${provider.providerName}.sock`), provider });
  servers.push(server);
  return server;
}

function factory(options: Partial<CsiSocketTransportFactoryOptions> = {}): CsiSocketTransportFactory {
  const f = new CsiSocketTransportFactory({
    providerVolume: dir,
    logger,
    retry: { initialBackoffMs: 20, maxBackoffMs: 50 },
    ...options,
  });
  factories.push(f);
  return f;
}

function transportFor(f: CsiSocketTransportFactory, name = 'fake') {
  const t = f.forSocket(name);
  if (!t) throw new Error(`no socket for ${name}`);
  return t;
}

describe('CsiSocketTransportFactory', () => {
  it('returns undefined when the socket does not exist or the name is invalid', async () => {
    const f = factory();
    expect(f.forSocket('missing')).toBeUndefined();
    await serve(new FakeProvider({ providerName: 'fake' }));
    expect(f.forSocket('../fake')).toBeUndefined();
    expect(f.forSocket('a'.repeat(31))).toBeUndefined();
  });

  it('reuses one transport per provider socket', async () => {
    await serve(new FakeProvider());
    const f = factory();
    const t = transportFor(f);
    expect(f.forSocket('fake')).toBe(t);
    expect(t.kind).toBe('csi-grpc');
    expect(t.socketPath).toBe(join(dir, 'fake.sock'));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => t.mount(mountRequest({ objects }), callOptions())),
    );
    expect(results).toHaveLength(20);
  });
});

describe('CsiGrpcTransport', () => {
  it('sends :authority localhost; the fake server rejects any other authority', async () => {
    await serve(new FakeProvider());
    await expect(transportFor(factory()).checkHealth()).resolves.toEqual({
      version: 'v1alpha1',
      runtimeName: 'fakeprovider',
      runtimeVersion: '0.0.10',
    });
    const client = new CSIDriverProviderClient(`unix://${join(dir, 'fake.sock')}`, credentials.createInsecure(), {
      'grpc.default_authority': 'evil.example',
    });
    const err = await new Promise<{ code?: number; details?: string }>((resolve) =>
      client.version({ version: 'v1alpha1' }, (e: { code?: number; details?: string } | null, _r: VersionResponse) =>
        resolve(e ?? {}),
      ),
    );
    client.close();
    expect(err.code).toBe(Status.UNAUTHENTICATED);
    expect(err.details).toBe('invalid :authority "evil.example", want "localhost"');
  });

  it('fails when the provider is killed mid-call, then recovers when it restarts on the same path', async () => {
    const first = new FakeProvider();
    first.setHang(true);
    const server = await serve(first);
    const t = transportFor(factory());
    const pending = failure(t.mount(mountRequest({ objects }), callOptions()));
    await waitFor(() => first.mountCount === 1);
    server.kill();
    const err = await pending;
    expect(err.reason).toBe('ProviderError');
    expect(err.message).toMatch(/^rpc error: code = (Unavailable|Canceled|Internal) desc = /);

    const second = new FakeProvider();
    second.rotate();
    await serve(second);
    const response = await t.mount(mountRequest({ objects }), callOptions());
    expect(readable(response)).toEqual({
      files: [{ path: 'foo', mode: 420, contents: 'foo-value-v2' }],
      objectVersions: [{ id: 'secret/foo', version: 'v2' }],
    });
  });

  it('reconnects when the socket file is replaced by a new provider', async () => {
    const server = await serve(new FakeProvider());
    const f = factory();
    const t = transportFor(f);
    await t.mount(mountRequest({ objects }), callOptions());
    await server.stop(50);
    expect(f.forSocket('fake')).toBeUndefined();
    await expect(t.mount(mountRequest({ objects }), callOptions())).rejects.toThrow(
      `rpc error: code = Unavailable desc = provider socket ${join(dir, 'fake.sock')} does not exist`,
    );
    const replacement = new FakeProvider();
    replacement.rotate();
    await serve(replacement);
    expect(f.forSocket('fake')).toBe(t);
    const response = await t.mount(mountRequest({ objects }), callOptions());
    expect(response.objectVersions).toEqual([{ id: 'secret/foo', version: 'v2' }]);
  });

  it('a hanging provider hits the deadline while another provider still answers', async () => {
    const slow = new FakeProvider({ providerName: 'slow' });
    slow.setHang(true);
    await serve(slow);
    await serve(new FakeProvider({ providerName: 'quick' }));
    const f = factory();
    const started = Date.now();
    let quickDoneAt = 0;
    const [slowErr] = await Promise.all([
      failure(transportFor(f, 'slow').mount(mountRequest({ objects }), callOptions(800))),
      transportFor(f, 'quick')
        .mount(mountRequest({ objects }), callOptions())
        .then(() => (quickDoneAt = Date.now())),
    ]);
    expect(slowErr.message).toBe('rpc error: code = DeadlineExceeded desc = context deadline exceeded');
    expect(quickDoneAt - started).toBeLessThan(700);
    expect(Date.now() - started).toBeGreaterThanOrEqual(750);
  });

  it('applies providerTimeoutMs when the call carries no deadline', async () => {
    const fake = new FakeProvider();
    fake.setHang(true);
    await serve(fake);
    const t = transportFor(factory({ providerTimeoutMs: 300 }));
    const err = await failure(t.mount(mountRequest({ objects }), { signal: new AbortController().signal }));
    expect(err.message).toBe('rpc error: code = DeadlineExceeded desc = context deadline exceeded');
  });

  it('reports an oversized response with the flag to raise', async () => {
    const fake = new FakeProvider();
    fake.setFiles([{ path: 'big', contents: 'x'.repeat(100_000) }]);
    await serve(fake);
    const t = transportFor(factory({ maxCallRecvMsgSize: 64 * 1024 }));
    const err = await failure(t.mount(mountRequest({ objects }), callOptions()));
    expect(err).toEqual({
      name: 'ProviderError',
      reason: 'ProviderError',
      message: 'provider response exceeds the max receive size of 65536 bytes; raise --max-call-recv-msg-size',
    });
    expect(warnings.map((w) => w.message)).toContain(
      'provider response exceeds the max receive size; raise --max-call-recv-msg-size',
    );
  });

  it('warns about responses above 1 MiB and still returns them', async () => {
    const fake = new FakeProvider();
    fake.setFiles([{ path: 'big', contents: new Uint8Array(1536 * 1024).fill(65) }]);
    await serve(fake);
    const response = await transportFor(factory()).mount(mountRequest({ objects }), callOptions());
    expect(response.files[0]!.contents).toHaveLength(1536 * 1024);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toBe('provider response is larger than 1 MiB');
    expect(warnings[0]!.fields.bytes).toBeGreaterThan(1536 * 1024);
  });

  it('retries UNAVAILABLE up to 3 attempts', async () => {
    const fake = new FakeProvider();
    await serve(fake);
    const t = transportFor(factory());
    fake.setError({ code: Status.UNAVAILABLE, details: 'backend restarting' }, { times: 2 });
    await expect(t.mount(mountRequest({ objects }), callOptions())).resolves.toBeDefined();
    expect(fake.mountCount).toBe(3);

    fake.setError({ code: Status.UNAVAILABLE, details: 'backend down' });
    const err = await failure(t.mount(mountRequest({ objects }), callOptions()));
    expect(err.message).toBe('rpc error: code = Unavailable desc = backend down');
    expect(fake.mountCount).toBe(6);

    fake.setError({ code: Status.INTERNAL, details: 'boom' });
    await failure(t.mount(mountRequest({ objects }), callOptions()));
    expect(fake.mountCount).toBe(7);
  });

  it('does not retry when the backoff would pass the deadline', async () => {
    const fake = new FakeProvider();
    fake.setError({ code: Status.UNAVAILABLE, details: 'down' });
    await serve(fake);
    const t = transportFor(factory({ retry: { initialBackoffMs: 1000 } }));
    const started = Date.now();
    await failure(t.mount(mountRequest({ objects }), callOptions(500)));
    expect(fake.mountCount).toBe(1);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('abort during the retry backoff ends the call', async () => {
    const fake = new FakeProvider();
    fake.setError({ code: Status.UNAVAILABLE, details: 'down' });
    await serve(fake);
    const t = transportFor(factory({ retry: { initialBackoffMs: 5000 } }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await failure(t.mount(mountRequest({ objects }), callOptions(20_000, controller.signal)));
    expect(err.message).toBe('rpc error: code = Canceled desc = context canceled');
    expect(fake.mountCount).toBe(1);
  });

  it('checkHealth fails with a ProviderError when the provider is gone', async () => {
    const server = await serve(new FakeProvider());
    const t = transportFor(factory());
    await t.checkHealth();
    server.kill();
    await expect(t.checkHealth()).rejects.toBeInstanceOf(ProviderError);
  });

  it('rejects calls after close()', async () => {
    await serve(new FakeProvider());
    const t = transportFor(factory());
    await t.close();
    await expect(t.mount(mountRequest({ objects }), callOptions())).rejects.toThrow(
      'provider "fake" transport is closed',
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

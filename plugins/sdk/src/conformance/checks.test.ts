import { definePlugin } from '../define.js';
import { ProviderError, RemoteSecretStoreFetchFailed } from '../errors.js';
import type { MountRequest, MountResult, ProviderDefinition } from '../types.js';
import { assertConformance, conformanceChecks, runConformance, type ConformanceOptions } from './checks.js';
import { testMountRequest } from './request.js';

/** A well-behaved in-memory store: objects "a", "b"; anything else is not found. */
const store: Record<string, string> = { a: 'alpha', b: 'beta' };

async function goodMount(request: MountRequest): Promise<MountResult> {
  request.signal.throwIfAborted();
  const names = request.attributes.require('objects').split(',').map((s) => s.trim());
  await new Promise((resolve, reject) => {
    const t = setTimeout(resolve, 5);
    request.signal.addEventListener('abort', () => {
      clearTimeout(t);
      reject(request.signal.reason);
    }, { once: true });
  });
  for (const n of names) if (!(n in store)) throw new RemoteSecretStoreFetchFailed(`object "${n}" not found`);
  return { files: names.map((n) => ({ path: n, contents: store[n]! })), objectVersions: names.map((n) => ({ id: n, version: '1' })) };
}

const good: ProviderDefinition = { name: 'good', mount: goodMount, close: () => undefined };
const options: ConformanceOptions = {
  parameters: { objects: 'a, b' },
  misconfigured: [{ objects: ' ' }],
  notFound: { objects: 'zzz' },
  timeoutMs: 500,
  abortGraceMs: 100,
};

function pluginWith(mount: ProviderDefinition['mount']) {
  return definePlugin({ name: 'p', version: '1.0.0', providers: [{ name: 'bad', mount }] });
}

async function failedChecks(plugin: unknown, o: Partial<ConformanceOptions> = {}): Promise<Record<string, string>> {
  const report = await runConformance(plugin, { ...options, ...o });
  return Object.fromEntries(report.failed.map((f) => [f.name.replace(/^bad: /, ''), f.message]));
}

describe('conformance kit', () => {
  test('a well-behaved plugin passes every check, usable as Jest tests', async () => {
    const plugin = definePlugin({ name: 'good-plugin', version: '1.2.3', providers: [good] });
    const checks = conformanceChecks(plugin, options);
    expect(checks.map((c) => c.name)).toEqual([
      'plugin: made with definePlugin() for this SDK major',
      'plugin: options are accepted and providers have valid, unique names',
      'good: name matches ^[a-zA-Z0-9_-]{1,30}$',
      'good: mount returns safe file paths and non-empty object versions',
      "good: attributes: unknown parameters and the CSI driver's extra attributes are tolerated",
      'good: object versions: stable across identical mounts, currentObjectVersions accepted',
      'good: concurrent mounts are independent',
      'good: errors: empty parameters fail with a typed error (or succeed)',
      'good: errors: misconfigured parameters #1 fail with SecretProviderClassMisconfigured',
      'good: errors: a missing object fails with RemoteSecretStoreFetchFailed',
      'good: cancellation: an already aborted signal rejects promptly',
      'good: cancellation: aborting during the call settles it promptly',
      'good: close() resolves (when defined)',
    ]);
    for (const c of checks) await c.run();
    await expect(assertConformance(plugin, options)).resolves.toBeUndefined();
  });

  test('a value that is not a plugin fails the first check', async () => {
    const report = await runConformance({ name: 'x', version: '1.0.0', providers: [good] }, options);
    expect(report.failed[0]).toEqual({
      name: 'plugin: made with definePlugin() for this SDK major',
      message: 'the value is not a plugin: default-export definePlugin({ name, version, providers })',
    });
  });

  test('a plugin for another SDK major or with a non-semver version fails', async () => {
    const other = { ...definePlugin({ name: 'p', version: '1.0.0', providers: [good] }), sdkVersion: '2.0.0' };
    expect((await runConformance(other, options)).failed[0]!.message).toContain('built for plugin SDK 2.0.0');
    const loose = definePlugin({ name: 'p', version: 'latest', providers: [good] });
    expect((await runConformance(loose, options)).failed[0]!.message).toContain('is not semver');
  });

  test('untyped errors are flagged with what to throw instead', async () => {
    const failed = await failedChecks(pluginWith(async (r) => {
      if (!r.attributes.get('objects')?.trim()) throw new TypeError("Cannot read properties of undefined (reading 'split')");
      return goodMount(r);
    }));
    expect(failed['errors: empty parameters fail with a typed error (or succeed)']).toMatch(
      /^mount threw an untyped TypeError: Cannot read properties .*; throw ProviderError, RemoteSecretStoreFetchFailed or SecretProviderClassMisconfigured/,
    );
    expect(failed['errors: misconfigured parameters #1 fail with SecretProviderClassMisconfigured']).toContain('untyped TypeError');
  });

  test('the wrong reason is flagged', async () => {
    const failed = await failedChecks(pluginWith(async (r) => {
      if (r.attributes.get('objects') === 'zzz') throw new ProviderError('boom');
      return goodMount(r);
    }));
    expect(failed['errors: a missing object fails with RemoteSecretStoreFetchFailed']).toBe(
      'mount failed with ProviderError ("boom"); expected RemoteSecretStoreFetchFailed',
    );
  });

  test('an error message with a token in it is flagged', async () => {
    const failed = await failedChecks(
      pluginWith(async (r) => {
        if (r.attributes.get('objects') === 'zzz') throw new RemoteSecretStoreFetchFailed(`denied for ${r.tokens.vault?.token}`);
        return goodMount(r);
      }),
      { tokens: { vault: 'eyJhbGciOiJSUzI1NiJ9.secret' } },
    );
    expect(failed['errors: a missing object fails with RemoteSecretStoreFetchFailed']).toBe(
      'the error message contains the ServiceAccount token of audience "vault"',
    );
  });

  test('a provider that ignores its signal fails both cancellation checks', async () => {
    const failed = await failedChecks(pluginWith(() => new Promise<MountResult>(() => {})), { timeoutMs: 200, abortGraceMs: 50 });
    expect(failed['cancellation: an already aborted signal rejects promptly']).toBe(
      'mount did not settle within 50 ms of an aborted signal; check request.signal',
    );
    expect(failed['cancellation: aborting during the call settles it promptly']).toBe(
      'mount did not settle within 50 ms after its signal aborted; check request.signal',
    );
    expect(failed['mount returns safe file paths and non-empty object versions']).toBe('mount did not settle within 200 ms');
  });

  test('a provider that resolves although its signal was aborted is flagged', async () => {
    const failed = await failedChecks(pluginWith(async () => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] })));
    expect(failed['cancellation: an already aborted signal rejects promptly']).toContain('mount resolved although its signal was aborted');
  });

  test.each([
    [{ files: [{ path: '../x', contents: '' }], objectVersions: [{ id: 'a', version: '1' }] }, 'invalid result: unsafe file path "../x": contains a ".." element'],
    [{ files: [], objectVersions: [] }, 'invalid result: missing object versions'],
    [{ files: [{ path: 'x', contents: '1' }, { path: 'x', contents: '2' }], objectVersions: [{ id: 'a', version: '1' }] }, 'file path "x" is returned twice'],
    [{ files: [], objectVersions: [{ id: 'a', version: '1' }, { id: 'a', version: '2' }] }, 'object version id "a" is returned twice'],
    [{ files: [{ path: 'x', contents: 'y'.repeat(5000) }], objectVersions: [{ id: 'a', version: '1' }] }, 'over the 2048-byte limit'],
  ])('a bad result is flagged (%#)', async (result, message) => {
    const failed = await failedChecks(pluginWith(async (r) => {
      r.signal.throwIfAborted();
      return result;
    }), { maxResponseBytes: 2048 });
    expect(failed['mount returns safe file paths and non-empty object versions']).toContain(message);
  });

  test('versions that change on every read are flagged unless stableVersions is off', async () => {
    let n = 0;
    const plugin = pluginWith(async (r) => {
      r.signal.throwIfAborted();
      return { files: [{ path: 'a', contents: 'x' }], objectVersions: [{ id: 'a', version: String(++n) }] };
    });
    expect((await failedChecks(plugin))['object versions: stable across identical mounts, currentObjectVersions accepted']).toContain(
      'two identical mounts returned different object versions',
    );
    expect((await failedChecks(plugin, { stableVersions: false }))['object versions: stable across identical mounts, currentObjectVersions accepted']).toBeUndefined();
  });

  test('providers from a factory are checked after the factory ran, and options reach it', async () => {
    const plugin = definePlugin({
      name: 'p',
      version: '1.0.0',
      options: (raw) => raw as { name: string },
      providers: ({ options: o }) => [{ ...good, name: o.name }],
    });
    const checks = conformanceChecks(plugin, { ...options, options: { name: 'fromopts' } });
    expect(checks.map((c) => c.name).at(-1)).toBe('providers: every provider passes the checks (factory)');
    for (const c of checks) await c.run();
    const broken = definePlugin({ name: 'p', version: '1.0.0', providers: () => [{ ...good, mount: async () => ({ files: [], objectVersions: [] }) }] });
    const aggregated = conformanceChecks(broken, options).at(-1)!;
    await expect(aggregated.run()).rejects.toThrow('good: mount returns safe file paths and non-empty object versions: invalid result: missing object versions');
    const report = await runConformance(broken, options);
    expect(report.failed.map((f) => f.name)).toEqual(expect.arrayContaining(['good: mount returns safe file paths and non-empty object versions']));
    expect(report.passed).toContain('plugin: options are accepted and providers have valid, unique names');
    const named = conformanceChecks(broken, { ...options, provider: 'good' }).map((c) => c.name);
    expect(named).toContain('good: concurrent mounts are independent');
  });

  test('testMountRequest builds what the controller sends', () => {
    const r = testMountRequest({ parameters: { objects: 'a' }, tokens: { aud: 'jwt' }, namespace: 'ns1', serviceAccountName: 'sa1' });
    expect(r.attributes.parameters).toEqual({ objects: 'a' });
    expect(r.attributes.podNamespace).toBe('ns1');
    expect(r.attributes.serviceAccountName).toBe('sa1');
    expect(r.tokens.aud!.token).toBe('jwt');
    expect(r.tokens.aud!.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(r.signal.aborted).toBe(false);
  });
});

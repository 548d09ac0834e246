import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/config.js';
import { silentLogger } from '../../core/ports/observability.js';
import { CsiGrpcTransport } from '../../transports/csi-grpc/transport.js';
import { socketPathOf } from './endpoint.js';
import { parseServeProviderArgs, startProviderBridge } from './serve-provider.js';

describe('serve-provider flags', () => {
  test('parses the flags with defaults', () => {
    expect(parseServeProviderArgs(['--plugin', './p', '--name=acme', '--endpoint', 'unix:///tmp/acme.sock', '--provider-timeout=5s'])).toEqual({
      plugin: './p', name: 'acme', endpoint: 'unix:///tmp/acme.sock', pluginConfigFile: undefined,
      maxCallRecvMsgSize: 4194304, providerTimeoutMs: 5000, logLevel: 'info',
    });
  });

  test.each([
    [[], 'serve-provider needs --plugin <package or path>'],
    [['--plugin', 'a', '--plugin', 'b'], '--plugin is given 2 times; serve-provider serves one provider of one plugin'],
    [['--plugin', 'a', '--kubeconfig', 'x'], 'unknown flag --kubeconfig for serve-provider'],
    [['--plugin', 'a', 'extra'], 'unexpected argument "extra"'],
    [['--plugin'], 'flag --plugin needs a value'],
    [['--plugin', 'a', '--max-call-recv-msg-size', '10'], '--max-call-recv-msg-size must be an integer >= 1024'],
    [['--plugin', 'a', '--log-level', 'loud'], '--log-level must be debug, info, warn or error'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseServeProviderArgs(argv)).toThrow(ConfigError);
    expect(() => parseServeProviderArgs(argv)).toThrow(message);
  });

  test('endpoints are unix:// paths of a bindable length', () => {
    expect(socketPathOf('unix:///provider/acme.sock')).toBe('/provider/acme.sock');
    expect(socketPathOf('unix://run/acme.sock', '/var')).toBe('/var/run/acme.sock');
    expect(() => socketPathOf('tcp://127.0.0.1:9000')).toThrow('must be unix://<socket path>');
    expect(() => socketPathOf(`unix:///${'x'.repeat(120)}.sock`)).toThrow('longer than 107 bytes');
  });
});

describe('startProviderBridge', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssc-'));
    writeFileSync(
      join(dir, 'plugin.mjs'),
      [
        "const provider = (name) => ({ name, mount: () => ({ files: [{ path: name, contents: 'from ' + name }], objectVersions: [{ id: name, version: '1' }] }) });",
        "export default { [Symbol.for('secrets-sync.plugin')]: true, name: 'two', version: '1.0.0', sdkVersion: '1.0.0', providers: [provider('one'), provider('two')] };",
      ].join('\n'),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const args = (extra: Partial<ReturnType<typeof parseServeProviderArgs>>) => ({
    plugin: './plugin.mjs', maxCallRecvMsgSize: 4194304, providerTimeoutMs: 30_000, logLevel: 'info', ...extra,
  });

  test('serves the chosen provider on the endpoint', async () => {
    const bridge = await startProviderBridge(args({ name: 'two', endpoint: `unix://${dir}/two.sock` }), silentLogger, dir);
    const client = new CsiGrpcTransport({ providerName: 'two', socketPath: `${dir}/two.sock` });
    try {
      const r = await client.mount(
        { attributes: {}, secrets: {}, targetPath: '/t', permission: '420', currentObjectVersions: [] },
        { signal: new AbortController().signal, deadline: Date.now() + 5000 },
      );
      expect(Buffer.from(r.files[0]!.contents).toString()).toBe('from two');
    } finally {
      await client.close();
      await bridge.close();
    }
  });

  test('a plugin with several providers needs --name, and an unknown --name lists them', async () => {
    await expect(startProviderBridge(args({}), silentLogger, dir)).rejects.toThrow('plugin "two" has 2 providers (one, two): choose one with --name');
    await expect(startProviderBridge(args({ name: 'three' }), silentLogger, dir)).rejects.toThrow('plugin "two" has no provider "three" (it has: one, two)');
  });

  test('a plugin that fails to load is a start-up error naming it', async () => {
    await expect(startProviderBridge(args({ plugin: './missing.mjs' }), silentLogger, dir)).rejects.toThrow(
      `cannot load plugins: plugin "./missing.mjs": ${dir}/missing.mjs does not exist`,
    );
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mock from 'mock-fs';
import type { Logger } from '../../core/ports/observability.js';
import { definePlugin } from '../sdk/src/define.js';
import { PluginConfigError } from '../sdk/src/errors.js';
import type { Plugin, ProviderDefinition } from '../sdk/src/types.js';
import { parsePluginConfig } from './config-file.js';
import { loadPlugins, PluginStartupError, type LoadPluginsOptions } from './loader.js';

afterEach(() => mock.restore());

interface Line { level: string; fields: object; msg: string }
function capturingLogger(lines: Line[] = []): Logger & { lines: Line[] } {
  const make = (bindings: object): Logger => ({
    debug: (f, m) => lines.push({ level: 'debug', fields: { ...bindings, ...f }, msg: m }),
    info: (f, m) => lines.push({ level: 'info', fields: { ...bindings, ...f }, msg: m }),
    warn: (f, m) => lines.push({ level: 'warn', fields: { ...bindings, ...f }, msg: m }),
    error: (f, m) => lines.push({ level: 'error', fields: { ...bindings, ...f }, msg: m }),
    child: (b) => make({ ...bindings, ...b }),
  });
  return Object.assign(make({}), { lines });
}

const provider = (name: string, extra: Partial<ProviderDefinition> = {}): ProviderDefinition => ({
  name,
  mount: () => ({ files: [], objectVersions: [{ id: name, version: '1' }] }),
  ...extra,
});

/** Plugin packages under /plugins/<dir>/index.js (mock-fs), imported from `modules` instead of disk. */
async function load(modules: Record<string, unknown>, o: Partial<LoadPluginsOptions> = {}) {
  mock(Object.fromEntries(Object.keys(modules).map((dir) => [`/plugins/${dir}/index.js`, ''])));
  try {
    return await loadPlugins({
      specs: Object.keys(modules).map((dir) => `./${dir}`),
      cwd: '/plugins',
      importer: async (entry) => {
        const dir = entry.split('/')[2]!;
        const m = modules[dir];
        if (m instanceof Error) throw m;
        if (m === 'hang') return new Promise(() => {});
        return m;
      },
      timeoutMs: 200,
      ...o,
    });
  } finally {
    mock.restore();
  }
}

async function startupError(promise: Promise<unknown>): Promise<PluginStartupError> {
  const err = await promise.then(() => { throw new Error('expected a start-up error'); }, (e: unknown) => e);
  expect(err).toBeInstanceOf(PluginStartupError);
  return err as PluginStartupError;
}

const acme = definePlugin({ name: 'acme', version: '1.0.0', providers: [provider('acme')] });

describe('loadPlugins', () => {
  test('loads the default export, hands it its options from --plugin-config and logs it', async () => {
    const logger = capturingLogger();
    const configurable = definePlugin({
      name: 'configurable',
      version: '2.0.0',
      options: (raw) => raw as { names: string[] },
      providers: ({ options, logger: pluginLogger }) => {
        pluginLogger.info({}, 'factory ran');
        return options.names.map((n) => provider(n));
      },
    });
    const config = parsePluginConfig('plugins:\n  configurable:\n    options:\n      names: [one, two]\n', 'plugins.yaml');
    const loaded = await load({ acme: { default: acme }, conf: { default: configurable } }, { config, logger });
    expect(loaded.map((l) => [l.spec, l.entry, l.plugin.name, l.providers.map((p) => p.name)])).toEqual([
      ['./acme', '/plugins/acme/index.js', 'acme', ['acme']],
      ['./conf', '/plugins/conf/index.js', 'configurable', ['one', 'two']],
    ]);
    expect(logger.lines).toContainEqual({ level: 'info', fields: { plugin: 'configurable' }, msg: 'factory ran' });
    expect(logger.lines.filter((l) => l.msg === 'plugin loaded').map((l) => l.fields)).toEqual([
      { plugin: 'acme', version: '1.0.0', sdkVersion: '1.0.0', entry: '/plugins/acme/index.js', providers: ['acme'] },
      { plugin: 'configurable', version: '2.0.0', sdkVersion: '1.0.0', entry: '/plugins/conf/index.js', providers: ['one', 'two'] },
    ]);
  });

  test('options may be keyed by the --plugin value; a `plugin` export and a CommonJS default work too', async () => {
    const seen: unknown[] = [];
    const p = definePlugin({ name: 'p', version: '1.0.0', providers: ({ options }) => { seen.push(options); return [provider('p')]; } });
    const cjs = definePlugin({ name: 'cjs', version: '1.0.0', providers: [provider('cjs')] });
    const config = parsePluginConfig('plugins:\n  ./named:\n    options: {x: 1}\n');
    const loaded = await load({ named: { plugin: p }, cjs: { default: { default: cjs } } }, { config });
    expect(loaded.map((l) => l.plugin.name)).toEqual(['p', 'cjs']);
    expect(seen).toEqual([{ x: 1 }]);
  });

  test('a plugin built for a newer SDK minor loads with a warning', async () => {
    const logger = capturingLogger();
    const newer = { ...acme, sdkVersion: '1.9.0' };
    await load({ newer: { default: newer } }, { logger });
    expect(logger.lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: expect.stringContaining('built for plugin SDK 1.9.0, newer than') }));
  });

  test.each([
    ['another SDK major', { default: { ...acme, sdkVersion: '2.0.0' } },
      'plugin "./x": cannot load: it was built for plugin SDK 2.0.0 (major 2), this controller supports SDK 1.x (1.0.0); rebuild it against @secrets-sync/plugin-sdk 1.x'],
    ['no plugin export', { default: { name: 'x' }, helper: 1 },
      'plugin "./x": /plugins/x/index.js does not export a plugin: make its default export definePlugin({ name, version, providers }) from @secrets-sync/plugin-sdk (found a default export of type object; exports: default, helper)'],
    ['an import that throws', new SyntaxError("Unexpected token '}'"), "plugin \"./x\": cannot import /plugins/x/index.js: SyntaxError: Unexpected token '}'"],
    ['an import that never finishes', 'hang', 'plugin "./x": importing /plugins/x/index.js did not finish within 200 ms'],
    ['a malformed plugin', { default: { ...acme, providers: [provider('bad name')] } }, 'plugin "./x": malformed plugin: provider 0 has an invalid name "bad name": it must match ^[a-zA-Z0-9_-]{1,30}$'],
    ['a factory that throws', { default: definePlugin({ name: 'x', version: '1.0.0', providers: () => { throw new Error('no credentials'); } }) },
      'plugin "./x": its providers factory failed: Error: no credentials'],
    ['a factory that never finishes', { default: definePlugin({ name: 'x', version: '1.0.0', providers: () => new Promise(() => {}) }) },
      'plugin "./x": its providers factory did not finish within 200 ms'],
    ['rejected options', { default: definePlugin({ name: 'x', version: '1.0.0', options: () => { throw new PluginConfigError('baseUrl is required'); }, providers: [provider('x')] }) },
      'plugin "./x": invalid options: baseUrl is required (no --plugin-config given)'],
  ])('%s is a start-up error naming the plugin', async (_what, mod, message) => {
    const err = await startupError(load({ x: mod }));
    expect(err.message).toBe(`cannot load plugins: ${message}`);
    expect(err.failures).toHaveLength(1);
  });

  test('a missing plugin names what was looked for', async () => {
    const err = await startupError(loadPlugins({ specs: ['@acme/not-there'], cwd: '/', timeoutMs: 100 }));
    expect(err.message).toMatch(/^cannot load plugins: plugin "@acme\/not-there": package "@acme\/not-there" is not installed/);
  });

  test('duplicates and unmatched config entries are reported together, and loaded providers are closed', async () => {
    let closed = 0;
    const a = definePlugin({ name: 'a', version: '1.0.0', providers: [provider('shared', { close: () => { closed++; } })] });
    const b = definePlugin({ name: 'b', version: '1.0.0', providers: [provider('shared')] });
    const a2 = definePlugin({ name: 'a', version: '1.0.0', providers: [provider('other')] });
    const config = parsePluginConfig('plugins:\n  typo-plugin:\n    options: {}\n', 'plugins.yaml');
    const err = await startupError(load({ a: { default: a }, b: { default: b }, a2: { default: a2 } }, { config }));
    expect(err.failures.map((f) => f.message)).toEqual([
      'plugin "./b": provider "shared" is also provided by plugin "./a"',
      'plugin "./a2": its name "a" is also the name of plugin "./a"',
      '--plugin-config plugins.yaml: plugins."typo-plugin" matches no plugin given with --plugin',
    ]);
    expect(err.message).toMatch(/^cannot load plugins \(3 problems\):\n {2}- plugin "\.\/b"/);
    expect(closed).toBe(1);
  });

  test('a config entry for a plugin that failed to load is not reported as unmatched', async () => {
    const picky = definePlugin({ name: 'picky', version: '1.0.0', options: () => { throw new PluginConfigError('dir is required'); }, providers: [provider('picky')] });
    const config = parsePluginConfig('plugins:\n  picky:\n    options: {directory: /tmp}\n', 'p.yaml');
    const err = await startupError(load({ picky: { default: picky } }, { config }));
    expect(err.failures.map((f) => f.message)).toEqual(['plugin "./picky": invalid options: dir is required (from p.yaml)']);
  });

  test('the same --plugin twice is an error', async () => {
    mock({ '/plugins/acme/index.js': '' });
    const err = await startupError(loadPlugins({ specs: ['./acme', './acme'], cwd: '/plugins', importer: async () => ({ default: acme }) }));
    expect(err.message).toBe('cannot load plugins: plugin "./acme": is given twice');
  });

  test('imports a real module file and recognises a plugin made by another copy of the SDK', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plugin-'));
    try {
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'hand-made', type: 'module', main: 'plugin.js' }));
      writeFileSync(
        join(dir, 'plugin.js'),
        [
          'export default {',
          "  [Symbol.for('secrets-sync.plugin')]: true,",
          "  name: 'hand-made', version: '0.0.1', sdkVersion: '1.0.0',",
          "  providers: [{ name: 'hand', mount: () => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] }) }],",
          '};',
        ].join('\n'),
      );
      const [loaded] = await loadPlugins({ specs: [dir] });
      expect(loaded!.plugin.name).toBe('hand-made');
      expect((loaded!.plugin as Plugin).providers).toHaveLength(1);
      expect(loaded!.providers.map((p) => p.name)).toEqual(['hand']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

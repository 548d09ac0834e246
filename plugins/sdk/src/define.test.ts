import { definePlugin, instantiatePlugin, isPlugin, PluginDefinitionError, pluginSpecProblem } from './define.js';
import { PluginConfigError } from './errors.js';
import { PLUGIN_BRAND, type ProviderDefinition } from './types.js';
import { SDK_VERSION } from './version.js';

const provider: ProviderDefinition = { name: 'acme', mount: () => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] }) };

describe('definePlugin', () => {
  test('stamps the SDK version and the brand, and freezes the plugin', () => {
    const plugin = definePlugin({ name: 'acme-plugin', version: '1.0.0', providers: [provider] });
    expect(plugin.sdkVersion).toBe(SDK_VERSION);
    expect(plugin[PLUGIN_BRAND]).toBe(true);
    expect(isPlugin(plugin)).toBe(true);
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(isPlugin({ name: 'x', version: '1', providers: [] })).toBe(false);
  });

  test.each([
    [{ version: '1.0.0', providers: [provider] }, 'name must be a non-empty string'],
    [{ name: 'p', providers: [provider] }, 'plugin "p": version must be a non-empty string'],
    [{ name: 'p', version: '1.0.0', providers: 'acme' }, 'providers must be an array of providers or a function'],
    [{ name: 'p', version: '1.0.0', providers: [] }, 'the plugin has no providers'],
    [{ name: 'p', version: '1.0.0', providers: [{ name: 'bad name!', mount() {} }] }, 'provider 0 has an invalid name "bad name!"'],
    [{ name: 'p', version: '1.0.0', providers: [{ name: '', mount() {} }] }, 'provider 0 has an invalid name ""'],
    [{ name: 'p', version: '1.0.0', providers: [{ name: 'a'.repeat(31), mount() {} }] }, 'invalid name'],
    [{ name: 'p', version: '1.0.0', providers: [provider, provider] }, 'provider name "acme" is used twice'],
    [{ name: 'p', version: '1.0.0', providers: [{ name: 'acme' }] }, 'provider "acme" has no mount() function'],
    [{ name: 'p', version: '1.0.0', options: {}, providers: [provider] }, 'options must be a function'],
  ])('rejects a malformed spec %#', (spec, message) => {
    expect(pluginSpecProblem(spec)).toContain(message);
    expect(() => definePlugin(spec as never)).toThrow(PluginDefinitionError);
  });
});

describe('instantiatePlugin', () => {
  test('returns a static provider list', async () => {
    const plugin = definePlugin({ name: 'p', version: '1.0.0', providers: [provider] });
    expect((await instantiatePlugin(plugin)).map((p) => p.name)).toEqual(['acme']);
  });

  test('parses the options and hands them to the providers factory', async () => {
    const plugin = definePlugin({
      name: 'p',
      version: '1.0.0',
      options: (raw) => {
        if (typeof raw !== 'object' || raw === null || !('names' in raw)) throw new PluginConfigError('names is required');
        return raw as { names: string[] };
      },
      providers: async ({ options, hostSdkVersion }) => {
        expect(hostSdkVersion).toBe(SDK_VERSION);
        return options.names.map((name) => ({ ...provider, name }));
      },
    });
    expect((await instantiatePlugin(plugin, { options: { names: ['a', 'b'] } })).map((p) => p.name)).toEqual(['a', 'b']);
    await expect(instantiatePlugin(plugin, {})).rejects.toThrow('invalid options: names is required');
  });

  test('an options parser that throws something else is still a PluginConfigError', async () => {
    const plugin = definePlugin({ name: 'p', version: '1.0.0', options: () => { throw new TypeError('boom'); }, providers: [provider] });
    await expect(instantiatePlugin(plugin)).rejects.toThrow('invalid options: the options parser threw TypeError: boom');
  });

  test('a factory that returns a bad list is a PluginDefinitionError', async () => {
    const dup = definePlugin({ name: 'p', version: '1.0.0', providers: () => [provider, provider] });
    await expect(instantiatePlugin(dup)).rejects.toThrow(PluginDefinitionError);
    const notArray = definePlugin({ name: 'p', version: '1.0.0', providers: () => 'x' as never });
    await expect(instantiatePlugin(notArray)).rejects.toThrow('the providers factory did not return an array');
  });
});

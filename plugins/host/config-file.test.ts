import mock from 'mock-fs';
import { loadPluginConfigFile, parsePluginConfig, PluginConfigFileError } from './config-file.js';

afterEach(() => mock.restore());

describe('--plugin-config', () => {
  test('reads per-plugin options from YAML', () => {
    mock({
      '/etc/secrets-sync/plugins.yaml': [
        'plugins:',
        '  secrets-sync-provider-http:',
        '    options:',
        '      baseUrl: https://secrets.example/',
        '      headers: { X-Tenant: acme }',
        '  ./local-plugin:',
        '  no-options: {}',
      ].join('\n'),
    });
    const file = loadPluginConfigFile('/etc/secrets-sync/plugins.yaml');
    expect(file.path).toBe('/etc/secrets-sync/plugins.yaml');
    expect([...file.plugins.entries()]).toEqual([
      ['secrets-sync-provider-http', { options: { baseUrl: 'https://secrets.example/', headers: { 'X-Tenant': 'acme' } } }],
      ['./local-plugin', { options: undefined }],
      ['no-options', { options: undefined }],
    ]);
  });

  test('reads JSON by extension, and YAML accepts JSON too', () => {
    mock({
      '/c/plugins.json': '{"plugins": {"fake": {"options": {"name": "fake2"}}}}',
      '/c/plugins.yml': '{"plugins": {"fake": {"options": {"name": "fake3"}}}}',
    });
    expect(loadPluginConfigFile('/c/plugins.json').plugins.get('fake')).toEqual({ options: { name: 'fake2' } });
    expect(loadPluginConfigFile('/c/plugins.yml').plugins.get('fake')).toEqual({ options: { name: 'fake3' } });
  });

  test('an empty file has no entries', () => {
    mock({ '/c/empty.yaml': '' });
    expect(loadPluginConfigFile('/c/empty.yaml').plugins.size).toBe(0);
  });

  test.each([
    ['/c/missing.yaml', '--plugin-config /c/missing.yaml: file not found'],
    ['/c/bad.json', '--plugin-config /c/bad.json: not valid JSON'],
    ['/c/bad.yaml', '--plugin-config /c/bad.yaml: not valid YAML at line'],
  ])('%s gives a clear error without echoing the file', (path, message) => {
    mock({ '/c/bad.json': '{"plugins": {"x": {"options": {"password": hunter2}}}}', '/c/bad.yaml': 'plugins:\n  x: [hunter2\n' });
    let err: unknown;
    try {
      loadPluginConfigFile(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginConfigFileError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('hunter2');
  });

  test.each([
    ['- a\n- b\n', 'the top level must be a mapping with a "plugins" key'],
    ['plugin:\n  x: {}\n', 'unknown top-level key "plugin" (only "plugins" is allowed)'],
    ['plugins: [a, b]\n', '"plugins" must be a mapping from plugin name to its settings'],
    ['plugins:\n  x: 5\n', 'plugins."x" must be a mapping (with an "options" key)'],
    ['plugins:\n  x:\n    option: {}\n', 'plugins."x" has an unknown key "option" (only "options" is allowed)'],
  ])('rejects a malformed file: %j', (text, message) => {
    expect(() => parsePluginConfig(text, 'p.yaml')).toThrow(`--plugin-config p.yaml: ${message}`);
  });
});

import mock from 'mock-fs';
import { isPathSpec, PluginResolveError, resolvePluginSpec, splitPackageSpec } from './resolve.js';

afterEach(() => mock.restore());

const pkg = (doc: object) => JSON.stringify(doc);

describe('resolvePluginSpec (discovery)', () => {
  test('a path to a package directory follows "exports" (node/import/default conditions, in key order)', () => {
    mock({
      '/work/my-plugin/package.json': pkg({ name: 'my-plugin', version: '1.2.0', exports: { '.': { types: './dist/index.d.ts', require: './dist/index.cjs', import: './dist/index.js' } } }),
      '/work/my-plugin/dist/index.js': 'export default {}',
      '/work/my-plugin/dist/index.cjs': '',
    });
    expect(resolvePluginSpec('./my-plugin', { cwd: '/work' })).toEqual({
      spec: './my-plugin',
      entry: '/work/my-plugin/dist/index.js',
      packageDir: '/work/my-plugin',
      packageName: 'my-plugin',
      packageVersion: '1.2.0',
    });
    expect(resolvePluginSpec('/work/my-plugin').entry).toBe('/work/my-plugin/dist/index.js');
  });

  test('"exports" as a string, "main" with a missing extension, and index.js as the last resort', () => {
    mock({
      '/p/a/package.json': pkg({ exports: './lib/main.mjs' }),
      '/p/a/lib/main.mjs': '',
      '/p/b/package.json': pkg({ main: 'lib/entry' }),
      '/p/b/lib/entry.js': '',
      '/p/c/package.json': pkg({ name: 'c' }),
      '/p/c/index.js': '',
      '/p/d/index.js': '',
    });
    expect(resolvePluginSpec('/p/a').entry).toBe('/p/a/lib/main.mjs');
    expect(resolvePluginSpec('/p/b').entry).toBe('/p/b/lib/entry.js');
    expect(resolvePluginSpec('/p/c').entry).toBe('/p/c/index.js');
    expect(resolvePluginSpec('/p/d')).toEqual({ spec: '/p/d', entry: '/p/d/index.js' });
  });

  test('a path to a module file is imported as is, with the nearest package.json for its name', () => {
    mock({ '/p/x/package.json': pkg({ name: 'x', version: '0.0.1' }), '/p/x/src/plugin.mjs': '' });
    expect(resolvePluginSpec('../x/src/plugin.mjs', { cwd: '/p/y' })).toMatchObject({ entry: '/p/x/src/plugin.mjs', packageName: 'x', packageVersion: '0.0.1' });
  });

  test('a package name is found in node_modules from cwd upwards, then in the search dirs', () => {
    mock({
      '/srv/app/node_modules/@acme/vault-plugin/package.json': pkg({ name: '@acme/vault-plugin', version: '3.0.0', exports: { '.': './index.js', './extra': { default: './extra.js' } } }),
      '/srv/app/node_modules/@acme/vault-plugin/index.js': '',
      '/srv/app/node_modules/@acme/vault-plugin/extra.js': '',
      '/opt/controller/node_modules/other-plugin/package.json': pkg({ name: 'other-plugin' }),
      '/opt/controller/node_modules/other-plugin/index.js': '',
      '/srv/app/deep/dir': {},
    });
    expect(resolvePluginSpec('@acme/vault-plugin', { cwd: '/srv/app/deep/dir' })).toMatchObject({
      entry: '/srv/app/node_modules/@acme/vault-plugin/index.js',
      packageName: '@acme/vault-plugin',
      packageVersion: '3.0.0',
    });
    expect(resolvePluginSpec('@acme/vault-plugin/extra', { cwd: '/srv/app' }).entry).toBe('/srv/app/node_modules/@acme/vault-plugin/extra.js');
    expect(resolvePluginSpec('other-plugin', { cwd: '/srv/app', searchDirs: ['/opt/controller/dist/plugins/host'] }).entry).toBe(
      '/opt/controller/node_modules/other-plugin/index.js',
    );
  });

  test.each([
    ['./missing', /^\/w\/missing does not exist$/],
    ['not-installed', /^package "not-installed" is not installed: no node_modules\/not-installed in \/w, \/; install it next to the controller \(npm install not-installed\) or pass a path$/],
    ['./unbuilt', /^the export "\." of \/w\/unbuilt points at \/w\/unbuilt\/dist\/index.js, which does not exist \(is the plugin built\?\)$/],
    ['./badjson', /^\/w\/badjson\/package.json is not valid: /],
    ['./cjs-only', /does not export "\." for import \(conditions node, import, default\)$/],
    ['./outside', /export target "\.\.\/x.js" must start with "\.\/"/],
    ['Not A Name!', /is neither a path nor an npm package name/],
    ['', /empty --plugin value/],
  ])('%j gives a clear error', (spec, message) => {
    mock({
      '/w/unbuilt/package.json': pkg({ exports: { '.': { import: './dist/index.js' } } }),
      '/w/badjson/package.json': '{ nope',
      '/w/cjs-only/package.json': pkg({ exports: { '.': { require: './index.cjs' } } }),
      '/w/outside/package.json': pkg({ exports: '../x.js' }),
    });
    let err: unknown;
    try {
      resolvePluginSpec(spec, { cwd: '/w' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PluginResolveError);
    expect((err as Error).message).toMatch(message);
  });

  test('spec kinds', () => {
    expect(isPathSpec('./a')).toBe(true);
    expect(isPathSpec('../a')).toBe(true);
    expect(isPathSpec('/a')).toBe(true);
    expect(isPathSpec('@scope/a')).toBe(false);
    expect(splitPackageSpec('@scope/a/b/c')).toEqual({ name: '@scope/a', subpath: './b/c' });
    expect(splitPackageSpec('a')).toEqual({ name: 'a', subpath: '.' });
  });
});

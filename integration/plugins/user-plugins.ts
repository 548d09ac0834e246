/**
 * Plugins written the way a user writes them: in a directory outside this repository, each a package with its own
 * package.json that depends on the SDK by a `file:` path, installed with `npm install`. Plain JavaScript (ESM),
 * so no build step stands between the test and the plugin.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SDK_DIR } from './cli.js';

export const ACME_AUDIENCE = 'acme.example';

function writePackage(dir: string, pkg: object, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

function npmInstall(dir: string): void {
  // npm resolves `file:` dependencies locally: nothing is fetched from a registry.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe', env: { ...process.env, NODE_OPTIONS: '' } });
}

/**
 * acme-secrets: provider `acme` reads `<dir>/<namespace>/<object>` from a directory store (option `dir`), versions
 * each object by a content hash, and, when option `audience` is set, adds a `whoami` file built from the claims of
 * the ServiceAccount token it got for that audience.
 */
const ACME_INDEX = `
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  definePlugin, PluginConfigError, RemoteSecretStoreFetchFailed, SecretProviderClassMisconfigured, requireToken,
} from '@secrets-sync/plugin-sdk';

function parseOptions(raw) {
  if (!raw || typeof raw.dir !== 'string') throw new PluginConfigError('dir is required');
  return { dir: raw.dir, audience: raw.audience };
}

export default definePlugin({
  name: 'acme-secrets',
  version: '1.0.0',
  options: parseOptions,
  providers: ({ options }) => [{
    name: 'acme',
    async mount({ attributes, tokens, signal }) {
      signal.throwIfAborted();
      const names = attributes.require('objects').split(',').map((s) => s.trim()).filter(Boolean);
      const files = [];
      const objectVersions = [];
      for (const name of names) {
        if (!/^[a-z0-9-]+$/.test(name)) throw new SecretProviderClassMisconfigured('object name "' + name + '" is invalid');
        let contents;
        try {
          contents = await readFile(join(options.dir, attributes.podNamespace, name), { signal });
        } catch (err) {
          if (err.code === 'ENOENT') throw new RemoteSecretStoreFetchFailed('object "' + name + '" not found for namespace ' + attributes.podNamespace);
          throw err;
        }
        files.push({ path: name, contents });
        objectVersions.push({ id: attributes.podNamespace + '/' + name, version: createHash('sha256').update(contents).digest('hex').slice(0, 12) });
      }
      if (options.audience) {
        const { token } = requireToken(tokens, options.audience);
        const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
        files.push({ path: 'whoami', contents: claims.sub + ' aud=' + [].concat(claims.aud).join(',') });
        objectVersions.push({ id: 'whoami', version: '1' });
      }
      return { files, objectVersions };
    },
  }],
});
`;

/** What the author runs in their own project: the SDK's conformance kit, no test framework needed. */
const ACME_CONFORMANCE = `
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '@secrets-sync/plugin-sdk/conformance';
import plugin from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'acme-store-'));
mkdirSync(join(dir, 'default'));
writeFileSync(join(dir, 'default', 'password'), 'p4ss');
const report = await runConformance(plugin, {
  options: { dir },
  parameters: { objects: 'password' },
  misconfigured: [{ objects: '' }, { objects: 'Bad Name' }],
  notFound: { objects: 'missing' },
});
console.log(JSON.stringify(report));
process.exit(report.failed.length === 0 ? 0 : 1);
`;

const FAULTY_INDEX = `
import { definePlugin } from '@secrets-sync/plugin-sdk';

const ok = (name) => ({ files: [{ path: name, contents: 'value of ' + name }], objectVersions: [{ id: name, version: '1' }] });

export default definePlugin({
  name: 'faulty-plugin',
  version: '1.0.0',
  providers: [
    { name: 'throws', mount() { throw new Error('kaboom'); } },
    { name: 'hangs', mount() { return new Promise(() => {}); } },
    { name: 'unsafe', async mount() { return { files: [{ path: '../../etc/passwd', contents: 'x' }], objectVersions: [{ id: 'a', version: '1' }] }; } },
    { name: 'oversized', async mount() { return { files: [{ path: 'big', contents: 'x'.repeat(200000) }], objectVersions: [{ id: 'big', version: '1' }] }; } },
    { name: 'garbage', async mount() { return 42; } },
    { name: 'strayreject', async mount() { Promise.reject(new Error('a promise nobody awaits')); return ok('stray'); } },
  ],
});
`;

/** A stand-in for a future SDK 2.0.0 (same package name), as a plugin built against it would carry. */
const SDK2_INDEX = `
export function definePlugin(spec) {
  return Object.freeze({ ...spec, sdkVersion: '2.0.0', [Symbol.for('secrets-sync.plugin')]: true });
}
`;

const SDK2_PLUGIN_INDEX = `
import { definePlugin } from '@secrets-sync/plugin-sdk';
export default definePlugin({
  name: 'future-plugin', version: '3.0.0',
  providers: [{ name: 'future', mount: () => ({ files: [], objectVersions: [{ id: 'a', version: '1' }] }) }],
});
`;

export interface UserPlugins {
  acme: string;
  faulty: string;
  sdk2: string;
  broken: string;
}

const dependsOnSdk = (sdk = `file:${SDK_DIR}`) => ({ dependencies: { '@secrets-sync/plugin-sdk': sdk } });

export function writeUserPlugins(root: string): UserPlugins {
  const p: UserPlugins = { acme: join(root, 'acme-plugin'), faulty: join(root, 'faulty-plugin'), sdk2: join(root, 'future-plugin'), broken: join(root, 'broken-plugin') };
  writePackage(p.acme, { name: 'acme-secrets', version: '1.0.0', type: 'module', main: 'index.js', scripts: { conformance: 'node conformance.mjs' }, ...dependsOnSdk() }, {
    'index.js': ACME_INDEX,
    'conformance.mjs': ACME_CONFORMANCE,
  });
  writePackage(p.faulty, { name: 'faulty-plugin', version: '1.0.0', type: 'module', exports: './index.js', ...dependsOnSdk() }, { 'index.js': FAULTY_INDEX });
  writePackage(join(root, 'fake-sdk-v2'), { name: '@secrets-sync/plugin-sdk', version: '2.0.0', type: 'module', exports: './index.js' }, { 'index.js': SDK2_INDEX });
  writePackage(p.sdk2, { name: 'future-plugin', version: '3.0.0', type: 'module', main: 'index.js', ...dependsOnSdk('file:../fake-sdk-v2') }, { 'index.js': SDK2_PLUGIN_INDEX });
  writePackage(p.broken, { name: 'broken-plugin', version: '1.0.0', type: 'module', main: 'index.js' }, {
    'index.js': "throw new Error('ACME_REGION is not set');\n",
  });
  for (const dir of [p.acme, p.faulty, p.sdk2]) npmInstall(dir);
  return p;
}

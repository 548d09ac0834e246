/**
 * `--plugin <spec>` -> the module file to import. A spec that starts with `.` or `/` is a path (a package directory,
 * or a module file); anything else is an npm package name, optionally with a subpath (`@acme/plugin`,
 * `acme-plugin/extra`), looked up in `node_modules` from the working directory upwards and then from the
 * controller's own installation upwards (where a container image installs plugins next to the controller).
 * A package's entry follows its `exports` (conditions `node`, `import`, `default`), else `main`, else `index.js`.
 * Synchronous and fs-only, so discovery is testable with mock-fs.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface ResolvedPlugin {
  /** The spec as given. */
  spec: string;
  /** Absolute path of the module to import. */
  entry: string;
  /** The package directory, when the spec names a package or a package directory. */
  packageDir?: string;
  packageName?: string;
  packageVersion?: string;
}

export class PluginResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginResolveError';
  }
}

export interface ResolveOptions {
  /** Where relative paths and the node_modules lookup start; default `process.cwd()`. */
  cwd?: string;
  /** More directories whose node_modules (and their parents') are searched after `cwd`'s. */
  searchDirs?: string[];
}

const CONDITIONS = ['node', 'import', 'default'];

export function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || spec.startsWith('/') || isAbsolute(spec);
}

export function resolvePluginSpec(spec: string, options: ResolveOptions = {}): ResolvedPlugin {
  const cwd = options.cwd ?? process.cwd();
  if (spec.trim() === '') throw new PluginResolveError('empty --plugin value');
  if (isPathSpec(spec)) return resolvePath(spec, resolve(cwd, spec));
  const { name, subpath } = splitPackageSpec(spec);
  const looked: string[] = [];
  for (const start of [cwd, ...(options.searchDirs ?? [])]) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (!looked.includes(dir)) looked.push(dir);
      if (kind(candidate) === 'dir') return fromPackageDir(spec, candidate, subpath);
      if (dirname(dir) === dir) break;
    }
  }
  throw new PluginResolveError(
    `package "${name}" is not installed: no node_modules/${name} in ${summarise(looked)}; ` +
      `install it next to the controller (npm install ${name}) or pass a path`,
  );
}

function resolvePath(spec: string, abs: string): ResolvedPlugin {
  const k = kind(abs);
  if (k === 'missing') throw new PluginResolveError(`${abs} does not exist`);
  if (k === 'dir') return fromPackageDir(spec, abs, '.');
  return { spec, entry: abs, ...packageInfo(nearestPackageDir(dirname(abs))) };
}

function fromPackageDir(spec: string, dir: string, subpath: string): ResolvedPlugin {
  const pkg = readPackageJson(dir);
  const entry = entryOf(dir, pkg, subpath);
  return { spec, entry, ...packageInfo(pkg ? dir : undefined) };
}

/** `@scope/name/sub/path` -> name `@scope/name`, subpath `./sub/path`. */
export function splitPackageSpec(spec: string): { name: string; subpath: string } {
  const parts = spec.split('/');
  const n = spec.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, n).join('/');
  const valid = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/i;
  if (parts.length < n || !valid.test(name)) throw new PluginResolveError(`"${spec}" is neither a path nor an npm package name`);
  const rest = parts.slice(n).join('/');
  return { name, subpath: rest ? `./${rest}` : '.' };
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
  main?: unknown;
  exports?: unknown;
}

function readPackageJson(dir: string): PackageJson | undefined {
  const file = join(dir, 'package.json');
  if (kind(file) !== 'file') return undefined;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not a JSON object');
    return doc as PackageJson;
  } catch (err) {
    throw new PluginResolveError(`${file} is not valid: ${(err as Error).message}`);
  }
}

function entryOf(dir: string, pkg: PackageJson | undefined, subpath: string): string {
  if (pkg?.exports !== undefined && pkg.exports !== null) {
    const target = exportTarget(pkg.exports, subpath);
    if (target === undefined) {
      throw new PluginResolveError(`${join(dir, 'package.json')} does not export "${subpath}" for import (conditions ${CONDITIONS.join(', ')})`);
    }
    if (!target.startsWith('./')) throw new PluginResolveError(`${join(dir, 'package.json')}: export target "${target}" must start with "./"`);
    return existingFile(join(dir, target), `the export "${subpath}" of ${dir}`);
  }
  if (subpath !== '.') return existingFile(join(dir, subpath), `${subpath} in ${dir}`, true);
  if (typeof pkg?.main === 'string' && pkg.main !== '') return existingFile(join(dir, pkg.main), `"main" of ${dir}`, true);
  return existingFile(join(dir, 'index.js'), `${dir} (no "exports" or "main" in package.json)`, true);
}

function exportTarget(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === 'string' || Array.isArray(exports)) return subpath === '.' ? conditional(exports) : undefined;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const keys = Object.keys(exports);
  if (keys.length > 0 && keys.every((k) => k.startsWith('.'))) {
    const map = exports as Record<string, unknown>;
    return Object.hasOwn(map, subpath) ? conditional(map[subpath]) : undefined;
  }
  return subpath === '.' ? conditional(exports) : undefined;
}

/** Node's conditional-exports choice: the first key (in order) that is a condition we match. */
function conditional(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const r = conditional(t);
      if (r !== undefined) return r;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [key, value] of Object.entries(target)) {
    if (!CONDITIONS.includes(key)) continue;
    const r = conditional(value);
    if (r !== undefined) return r;
  }
  return undefined;
}

/** The file, or (legacy `main` rules) the file with .js/.mjs/.cjs or its index.js. */
function existingFile(path: string, what: string, tryExtensions = false): string {
  if (kind(path) === 'file') return path;
  if (tryExtensions) {
    for (const candidate of [`${path}.js`, `${path}.mjs`, `${path}.cjs`, join(path, 'index.js')]) {
      if (kind(candidate) === 'file') return candidate;
    }
  }
  throw new PluginResolveError(`${what} points at ${path}, which does not exist (is the plugin built?)`);
}

function nearestPackageDir(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (kind(join(dir, 'package.json')) === 'file') return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function packageInfo(dir: string | undefined): Pick<ResolvedPlugin, 'packageDir' | 'packageName' | 'packageVersion'> {
  if (!dir) return {};
  let pkg: PackageJson | undefined;
  try {
    pkg = readPackageJson(dir);
  } catch {
    return { packageDir: dir };
  }
  return {
    packageDir: dir,
    ...(typeof pkg?.name === 'string' ? { packageName: pkg.name } : {}),
    ...(typeof pkg?.version === 'string' ? { packageVersion: pkg.version } : {}),
  };
}

function kind(path: string): 'file' | 'dir' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw new PluginResolveError(`cannot read ${path}: ${code ?? (err as Error).message}`);
  }
}

function summarise(dirs: string[]): string {
  return dirs.length <= 4 ? dirs.join(', ') : `${dirs.slice(0, 3).join(', ')} and ${dirs.length - 3} parent directories`;
}

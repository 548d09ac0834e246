/**
 * `--plugin-config <file>`: per-plugin options, YAML or JSON (by extension; YAML otherwise, which also reads JSON).
 *
 *   plugins:
 *     http-secrets:              # a plugin's name (definePlugin({name})) or its --plugin value
 *       options:                 # handed to the plugin's `options` parser as is
 *         baseUrl: https://secrets.example.internal/api/
 *
 * Strict, to catch typos at start-up: unknown keys are errors, and (checked by the loader) so is an entry that
 * matches no loaded plugin. Messages name the file and the key, never a value (options may be sensitive).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';

export interface PluginConfigEntry {
  /** The raw options; undefined when the entry has none. */
  options: unknown;
}

export interface PluginConfigFile {
  path: string;
  /** By plugin name or --plugin value, in file order. */
  plugins: Map<string, PluginConfigEntry>;
}

export class PluginConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginConfigFileError';
  }
}

export function loadPluginConfigFile(path: string): PluginConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PluginConfigFileError(`--plugin-config ${path}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
  return parsePluginConfig(text, path);
}

export function parsePluginConfig(text: string, path = '<plugin-config>'): PluginConfigFile {
  const doc = parseDocument(text, path);
  const fail = (message: string): never => {
    throw new PluginConfigFileError(`--plugin-config ${path}: ${message}`);
  };
  if (doc === undefined || doc === null) return { path, plugins: new Map() };
  if (!isRecord(doc)) return fail('the top level must be a mapping with a "plugins" key');
  for (const key of Object.keys(doc)) if (key !== 'plugins') fail(`unknown top-level key "${key}" (only "plugins" is allowed)`);
  const plugins = new Map<string, PluginConfigEntry>();
  const raw = doc.plugins;
  if (raw === undefined || raw === null) return { path, plugins };
  if (!isRecord(raw)) return fail('"plugins" must be a mapping from plugin name to its settings');
  for (const [name, entry] of Object.entries(raw)) {
    if (name.trim() === '') fail('a plugin entry has an empty name');
    if (entry === null || entry === undefined) {
      plugins.set(name, { options: undefined });
      continue;
    }
    if (!isRecord(entry)) fail(`plugins."${name}" must be a mapping (with an "options" key)`);
    for (const key of Object.keys(entry as object)) {
      if (key !== 'options') fail(`plugins."${name}" has an unknown key "${key}" (only "options" is allowed)`);
    }
    plugins.set(name, { options: (entry as Record<string, unknown>).options });
  }
  return { path, plugins };
}

function parseDocument(text: string, path: string): unknown {
  if (extname(path).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      // V8's message may quote the text around the error; keep only the position.
      const pos = /line \d+ column \d+|position \d+/.exec((err as Error).message)?.[0];
      throw new PluginConfigFileError(`--plugin-config ${path}: not valid JSON${pos ? ` (at ${pos})` : ''}`);
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    const code = err instanceof YAMLParseError ? ` (${err.code})` : '';
    throw new PluginConfigFileError(`--plugin-config ${path}: not valid YAML${where}${code}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

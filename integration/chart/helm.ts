/**
 * Helm for the chart tests: the binary from integration/cluster/build-helm.sh (built into the per-user cache on
 * first use, or HELM_BIN), run with hermetic HELM_* directories so no user configuration or repository leaks in.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
export const CHART_DIR = resolve(here, '../../charts/secrets-store-sync-controller');
export const KUBE_VERSION = 'v1.37.2';

export class HelmError extends Error {
  readonly stderr: string;
  constructor(message: string, stderr: string) {
    super(message);
    this.name = 'HelmError';
    this.stderr = stderr;
  }
}

let binary: Promise<string> | undefined;

/** The helm binary: HELM_BIN, or the cached build (built now if missing; minutes on a cold Go cache). */
export function helmBinary(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<string> {
  binary ??= new Promise<string>((resolvePromise, reject) => {
    const child = spawn('bash', [join(here, '../cluster/build-helm.sh')], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      err += c;
      for (const line of c.split('\n').filter(Boolean)) log(line);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const path = out.trim().split('\n').pop() ?? '';
      if (code === 0 && path) resolvePromise(path);
      else reject(new HelmError(`build-helm.sh failed with exit code ${code}`, err));
    });
  });
  return binary;
}

let homes: Record<string, string> | undefined;
function hermeticEnv(): NodeJS.ProcessEnv {
  if (!homes) {
    const root = mkdtempSync(join(tmpdir(), 'ssc-helm-'));
    homes = { HELM_CACHE_HOME: join(root, 'cache'), HELM_CONFIG_HOME: join(root, 'config'), HELM_DATA_HOME: join(root, 'data') };
  }
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...homes };
  return env;
}

/** Runs helm; resolves with stdout, rejects with a HelmError carrying stderr. */
export async function helm(args: string[], timeoutMs = 120_000): Promise<string> {
  const bin = await helmBinary();
  return new Promise((resolvePromise, reject) => {
    execFile(bin, args, { env: hermeticEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new HelmError(`helm ${args.join(' ')} failed: ${stderr.trim() || error.message}`, stderr));
      else resolvePromise(stdout);
    });
  });
}

let valuesDir: string | undefined;
/** Writes values to a temporary file (JSON is YAML) and returns its path. */
export function valuesFile(values: object): string {
  valuesDir ??= mkdtempSync(join(tmpdir(), 'ssc-values-'));
  const path = join(valuesDir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, JSON.stringify(values));
  return path;
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  /** Values files (paths), applied in order. */
  files?: string[];
  values?: object;
  extraArgs?: string[];
}

/** `helm template` of the chart; deterministic (fixed kube version, release name and namespace). */
export async function helmTemplate(opts: TemplateOptions = {}): Promise<string> {
  const args = ['template', opts.release ?? 'ssc', CHART_DIR, '--namespace', opts.namespace ?? 'secrets-store-sync-controller-system', '--kube-version', KUBE_VERSION];
  for (const f of opts.files ?? []) args.push('--values', f);
  if (opts.values) args.push('--values', valuesFile(opts.values));
  args.push(...(opts.extraArgs ?? []));
  return helm(args);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseObjects(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml).map((d) => {
    if (d.errors.length) throw new Error(`invalid YAML from helm: ${d.errors[0].message}`);
    return d.toJS() as K8sObject | null;
  }).filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

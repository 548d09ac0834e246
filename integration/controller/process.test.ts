/**
 * The `secrets-sync` executable as a process against the real API server: --help documents every flag, bad
 * flags are one clear line, `run` logs JSON, serves probes and metrics, takes the Lease, and on SIGTERM
 * releases it, stops gracefully and exits 0. The running controller never loads @kubernetes/client-node or undici
 * (a resolve hook records every module it resolves).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { FLAGS } from '../../core/config.js';
import { CONTROLLER_NAMESPACE, CONTROLLER_SA, installControllerIdentity, serviceAccountKubeConfig } from '../cluster/install.js';
import { freePort } from '../cluster/processes.js';
import { adminConfig, eventually } from '../cluster/testenv.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD = join(REPO, 'node_modules/.cache/secrets-sync-process-it');
const CLI = join(BUILD, 'core/cli/main.js');
let work: string;

beforeAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', BUILD], { cwd: REPO, encoding: 'utf8' });
  if (!existsSync(CLI)) throw new Error(`building the CLI failed:\n${r.stdout}${r.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'ssc-proc-'));
}, 180_000);
afterAll(() => {
  rmSync(BUILD, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

test('--help documents every flag; version prints JSON; a bad flag is one clear line and exit 1', () => {
  const help = run(['run', '--help']);
  expect(help.status).toBe(0);
  for (const f of FLAGS) expect(help.stdout).toContain(`--${f.name}`);
  const v = run(['version']);
  expect(JSON.parse(v.stdout)).toMatchObject({ BuildVersion: expect.any(String) });
  const bad = run(['run', '--nope=1']);
  expect(bad.status).toBe(1);
  expect(bad.stderr.trim()).toBe('error: unknown flag --nope (see --help)');
  const badDuration = run(['run', '--rotation-poll-interval=soon']);
  expect(bad.status).toBe(1);
  expect(badDuration.stderr.trim()).toBe('error: invalid duration "soon" (use e.g. 30s, 5m, 12h)');
});

test('run: JSON logs, probes, metrics, leadership; SIGTERM releases the Lease and exits 0', async () => {
  const admin = adminConfig();
  await installControllerIdentity(admin);
  const sa = await serviceAccountKubeConfig(admin, CONTROLLER_NAMESPACE, CONTROLLER_SA);
  const kubeconfig = join(work, 'sa.kubeconfig');
  writeFileSync(kubeconfig, sa.exportConfig(), { mode: 0o600 });
  const [probe, metrics] = await Promise.all([freePort(), freePort()]);
  const lease = `proc-${Math.random().toString(36).slice(2, 8)}`;
  // Records every module the process resolves (import and require) that belongs to client-node or undici.
  const hook = join(work, 'forbidden-imports.mjs');
  const hookLog = join(work, 'forbidden-imports.log');
  writeFileSync(hook, [
    "import { registerHooks } from 'node:module';",
    "import { appendFileSync } from 'node:fs';",
    'registerHooks({ resolve(specifier, context, next) {',
    '  const r = next(specifier, context);',
    `  if (/[\\/]node_modules[\\/](@kubernetes[\\/]client-node|undici)[\\/]/.test(r.url)) appendFileSync(${JSON.stringify(hookLog)}, specifier + ' -> ' + r.url + '\\n');`,
    '  return r;',
    '} });',
  ].join('\n'));
  writeFileSync(hookLog, '');
  const child = spawn(process.execPath, ['--import', pathToFileURL(hook).href, CLI, 'run', `--kubeconfig=${kubeconfig}`, `--provider-volume=${work}`,
    `--health-probe-bind-address=127.0.0.1:${probe}`, `--metrics-bind-address=127.0.0.1:${metrics}`,
    '--leader-elect', `--leader-election-id=${lease}`, `--controller-name=${lease}`],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '', SYNC_CONTROLLER_POD_NAME: `pod-${lease}`, SYNC_CONTROLLER_POD_NAMESPACE: CONTROLLER_NAMESPACE } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await eventually(async () => (await fetch(`http://127.0.0.1:${probe}/readyz`)).status === 200, 30_000);
    expect((await fetch(`http://127.0.0.1:${probe}/healthz`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text()).toContain('secretsync_queue_depth');
    await eventually(async () => out.includes('"became leader"'), 20_000);
    const coordination = admin.makeApiClient(k8s.CoordinationV1Api);
    expect((await coordination.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: lease })).spec?.holderIdentity).toBe(`pod-${lease}`);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
  expect({ code, err }).toEqual({ code: 0, err: '' });
  expect(readFileSync(hookLog, 'utf8')).toBe('');
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number; component: string });
  expect(lines.every((l) => l.component === 'secrets-store-sync-controller' && typeof l.level === 'number')).toBe(true);
  expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['starting', 'became leader', 'shutting down', 'leadership released', 'stopped']));
  const coordination = admin.makeApiClient(k8s.CoordinationV1Api);
  expect((await coordination.readNamespacedLease({ namespace: CONTROLLER_NAMESPACE, name: lease })).spec?.holderIdentity ?? '').toBe('');
}, 90_000);

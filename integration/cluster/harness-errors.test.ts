/**
 * The harness fails with one clear line that names the cause (and the log file), never a hang: no Go
 * toolchain, a failed build, a port already taken, a binary that exits at start.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries } from './binaries.js';
import { ControlPlane } from './control-plane.js';
import { ClusterError } from './errors.js';

const quiet = () => undefined;
let dir: string;
const saved = { ...process.env };
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'ssc-harness-')); });
afterEach(() => {
  process.env = { ...saved };
  rmSync(dir, { recursive: true, force: true });
});

test('no Go toolchain: a clear error, no build attempted', async () => {
  process.env.SSC_CACHE_DIR = dir;
  process.env.PATH = '/usr/bin:/bin'; // bash and coreutils, no go
  const err = await ensureBinaries(quiet).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClusterError);
  expect((err as Error).message).toMatch(/^building the control-plane binaries failed: no Go toolchain on PATH: install Go >= 1\.26, or set KUBE_APISERVER_BIN/);
  expect((err as Error).message).toContain(`(log: ${join(dir, 'build', 'build.log')})`);
});

test('a failed build names the step and the log file', async () => {
  process.env.SSC_CACHE_DIR = dir;
  process.env.KUBE_VERSION = 'v1.37.999';
  const err = await ensureBinaries(quiet).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClusterError);
  expect((err as Error).message).toMatch(/^building the control-plane binaries failed: resolving k8s.io\/kubernetes@v1.37.999 failed \(log: .*build.log\)$/);
}, 120_000);

test('binaries given by environment variables must all be set and executable', async () => {
  process.env.KUBE_APISERVER_BIN = '/nonexistent/kube-apiserver';
  await expect(ensureBinaries(quiet)).rejects.toThrow('set all three of KUBE_APISERVER_BIN, KUBE_CONTROLLER_MANAGER_BIN and ETCD_BIN, or none');
  process.env.KUBE_CONTROLLER_MANAGER_BIN = '/nonexistent/kcm';
  process.env.ETCD_BIN = '/nonexistent/etcd';
  await expect(ensureBinaries(quiet)).rejects.toThrow('KUBE_APISERVER_BIN=/nonexistent/kube-apiserver is not an executable kube-apiserver binary');
});

test('a binary that exits at start: its exit code, its last output line and its log file', async () => {
  const real = await ensureBinaries(quiet);
  const fake = join(dir, 'kube-apiserver');
  writeFileSync(fake, '#!/bin/sh\necho "E1204 run.go:72] command failed: broken flag --frobnicate" >&2\nexit 3\n');
  chmodSync(fake, 0o755);
  const err = await ControlPlane.start({ binaries: { ...real, kubeApiserver: fake }, log: quiet, dataDir: join(dir, 'cp') }).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ClusterError);
  expect((err as Error).message).toMatch(/^kube-apiserver exited with code 3 during start-up: E1204 run.go:72\] command failed: broken flag --frobnicate \(log: .*kube-apiserver.log\)$/);
});

test('a port already taken: says so, names the log, and leaves no process behind', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const err = await ControlPlane.start({ apiServerPort: port, log: quiet, dataDir: join(dir, 'cp') }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as Error).message).toMatch(/^kube-apiserver could not bind its port: address already in use .*\(log: .*kube-apiserver.log\)$/);
    // etcd was started first; the failed start must have stopped it.
    const left = spawnSync('pgrep', ['-f', join(dir, 'cp')], { encoding: 'utf8' }).stdout.trim();
    expect(left).toBe('');
  } finally {
    blocker.close();
  }
}, 60_000);

test('a test process that is SIGKILLed leaves no etcd, kube-apiserver or kube-controller-manager behind', async () => {
  const data = join(dir, 'crash');
  const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'start-and-wait.mjs'), data], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('READY')) resolve(); });
    child.once('exit', (code) => reject(new Error(`start-and-wait exited with ${code}`)));
  });
  const running = () => spawnSync('pgrep', ['-f', `${data}/`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  expect(running().length).toBeGreaterThanOrEqual(3);
  child.kill('SIGKILL');
  const end = Date.now() + 30_000;
  while (running().length && Date.now() < end) await new Promise((r) => setTimeout(r, 250));
  expect(running()).toEqual([]);
}, 90_000);

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { ClusterError } from './errors.js';

/** A component of the control plane running in its own process group, with its output in a log file. */
export interface Component {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  exitCode(): number | null | undefined;
}

/** Starts a binary detached (its own process group, like envtest's Setpgid), output to `logFile`. */
export function startComponent(name: string, bin: string, args: string[], logFile: string, pidFile: string): Component {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (c, signal) => {
      code = c ?? (signal ? 128 : null);
      resolve(code);
    });
    child.once('error', (err) => {
      appendFileSync(logFile, `\n[harness] spawn failed: ${err.message}\n`);
      code = 127;
      resolve(127);
    });
  });
  if (child.pid) appendFileSync(pidFile, `${child.pid}\n`);
  return { name, child, logFile, exited, exitCode: () => code };
}

/** The last non-empty lines of a log, for one-line error messages. */
export function logTail(file: string, lines = 1): string {
  try {
    const all = readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    return all.slice(-lines).join(' | ').slice(0, 400);
  } catch {
    return '';
  }
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a component: SIGTERM to its group, SIGKILL after `graceMs`. */
export async function stopComponent(c: Component, graceMs = 10_000): Promise<void> {
  if (c.exitCode() !== undefined) return;
  killGroup(c.child.pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(c.child.pid, 'SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

/** Kills every process group listed in a pid file (one pid per line). Used by `cluster down` and stale clean-up. */
export async function killPidFile(pidFile: string, graceMs = 10_000): Promise<number> {
  let pids: number[] = [];
  try {
    pids = readFileSync(pidFile, 'utf8').split('\n').map(Number).filter((n) => n > 0);
  } catch {
    return 0;
  }
  const live = pids.filter(alive);
  for (const p of live) killGroup(p, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (Date.now() < end && live.some(alive)) await sleep(100);
  for (const p of live.filter(alive)) killGroup(p, 'SIGKILL');
  return live.length;
}

/**
 * A watchdog in its own process group that kills every group in `pidFile` (and removes `dir`) once
 * `ownerPid` is gone: a test run that crashes or is SIGKILLed leaves no etcd or kube-apiserver behind.
 */
export function startReaper(ownerPid: number, pidFile: string, dir: string): ChildProcess {
  const script = `
    while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done
    [ -f "$1" ] || exit 0
    for p in $(cat "$1"); do kill -TERM -"$p" 2>/dev/null; done
    for i in 1 2 3 4 5 6 7 8 9 10; do
      any=0; for p in $(cat "$1"); do kill -0 "$p" 2>/dev/null && any=1; done
      [ $any = 0 ] && break; sleep 1
    done
    for p in $(cat "$1"); do kill -KILL -"$p" 2>/dev/null; done
    rm -rf "$2"`;
  const child = spawn('sh', ['-c', script, 'ssc-cluster-reaper', pidFile, dir], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` every 100 ms until it returns true. Fails fast with the component's log if the process exits,
 * and with a clear timeout otherwise: never hangs.
 */
export async function waitFor(c: Component, what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const code = c.exitCode();
    if (code !== undefined) {
      const tail = logTail(c.logFile, 2);
      const inUse = /address already in use/i.test(tail);
      throw new ClusterError(
        inUse
          ? `${c.name} could not bind its port: address already in use (${tail})`
          : `${c.name} exited with code ${code} during start-up: ${tail || 'no output'}`,
        c.logFile,
      );
    }
    if (await probe().catch(() => false)) return;
    await sleep(100);
  }
  throw new ClusterError(`${c.name} was not ${what} after ${Math.round(timeoutMs / 1000)} s: ${logTail(c.logFile, 1)}`, c.logFile);
}

export function writeFile0600(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

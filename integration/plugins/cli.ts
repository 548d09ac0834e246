/**
 * The real `secrets-sync` CLI for plugin integration tests: a private build of the repo (so a parallel
 * `npm run build` elsewhere cannot race it) under node_modules/.cache, the SDK package built as a plugin author's
 * `npm install` would see it, and child processes for `run` and `serve-provider` whose JSON log lines are kept.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SDK_DIR = join(REPO, 'plugins/sdk');
const BUILD_DIR = join(REPO, 'node_modules/.cache/secrets-sync-plugins-it');
export const CLI = join(BUILD_DIR, 'core/cli/main.js');

function tsc(args: string[]): { status: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), ...args], { cwd: REPO, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/**
 * Builds the CLI and the SDK package. Type errors elsewhere in the repo (work in progress of others) do not stop
 * tsc from emitting, so only a missing entry point fails the build.
 */
export function buildCli(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const cli = tsc(['-p', 'tsconfig.build.json', '--outDir', BUILD_DIR]);
  if (!existsSync(CLI)) throw new Error(`building the CLI failed:\n${cli.output}`);
  if (cli.status !== 0) process.stderr.write(`[plugins-it] tsc reported problems, continuing with the emitted CLI:\n${cli.output.slice(0, 2000)}\n`);
  const sdk = tsc(['-p', join(SDK_DIR, 'tsconfig.json')]);
  if (sdk.status !== 0) throw new Error(`building the plugin SDK failed:\n${sdk.output}`);
}

export function removeBuild(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
}

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

/** A `secrets-sync` child process with its output kept. */
export class CliProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], cwd: string) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      for (const line of chunk.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          // a line split across chunks: ignored
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for a log line matching `predicate`, failing early when the process exits. */
  async waitForLog(predicate: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (!this.running) throw new Error(`process exited (${this.child.exitCode}) before the expected log line; stderr:\n${this.stderr}\nstdout:\n${this.stdout.slice(-3000)}`);
      if (Date.now() > end) throw new Error(`timed out waiting for a log line; stdout:\n${this.stdout.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

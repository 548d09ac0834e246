/**
 * The interop test's Go binaries: VAULT_BIN / VAULT_CSI_PROVIDER_BIN when set, else the per-user cache, built
 * there by integration/interop/build-vault.sh from the Go module proxy on first use (a cold Vault build takes
 * tens of minutes on 2 cores; run the script ahead of the tests, as .ci/run does).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function buildScript(): string {
  for (const dir of [here, resolve(here, '../../../integration/interop')]) {
    const p = join(dir, 'build-vault.sh');
    if (existsSync(p)) return p;
  }
  throw new Error('integration/interop/build-vault.sh not found');
}

export type Target = 'vault' | 'provider';

/**
 * The binary's path, or an Error whose message is the build script's one-line reason. With `cachedOnly`
 * nothing is built: only VAULT_BIN / VAULT_CSI_PROVIDER_BIN or a binary already in the cache is found.
 */
export async function ensureInteropBinary(
  target: Target,
  opts: { cachedOnly?: boolean; log?: (line: string) => void } = {},
): Promise<string | Error> {
  const log = opts.log ?? (() => undefined);
  return new Promise((resolvePath) => {
    const args = [buildScript(), ...(opts.cachedOnly ? ['--cached'] : []), target];
    const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    child.on('error', (e) => resolvePath(new Error(`cannot run ${buildScript()}: ${e.message}`)));
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      const path = last.slice(last.indexOf(' ') + 1);
      if (code === 0 && path && existsSync(path)) return resolvePath(path);
      const reason = err.split('\n').filter((l) => l.includes('error:')).pop()
        ?? err.trim().split('\n').pop() ?? `exit code ${code}`;
      resolvePath(new Error(reason.replace(/^\[build-vault\] error: /, '')));
    });
  });
}

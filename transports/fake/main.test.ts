/**
 * The fake provider sidecar as a real process: started from its TypeScript entry with Node's type stripping
 * (a resolve hook maps the `.js` import specifiers to `.ts`), steered over its HTTP control endpoint, and
 * killed with SIGKILL mid-call, which leaves a stale socket behind like a crashed provider.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callOptions, failure, mountRequest, readable } from '../contract.js';
import { CsiSocketTransportFactory } from '../csi-grpc/factory.js';
import { parseCliArgs } from './cli-config.js';

const RESOLVE_TS_HOOK = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (err) {
      if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw err;
      return next(specifier.slice(0, -3) + '.ts', context);
    }
  },
});`;

const canStripTypes = Boolean((process.features as { typescript?: string }).typescript);
const itWithTypeStripping = canStripTypes ? it : it.skip;

describe('parseCliArgs', () => {
  it('derives the provider name from the socket and parses the options', () => {
    expect(
      parseCliArgs([
        '--endpoint',
        'unix:///provider/vault.sock',
        '--token-audiences',
        'a,b',
        '--control-address',
        ':8080',
      ]),
    ).toEqual({
      socketPath: '/provider/vault.sock',
      providerName: 'vault',
      tokenAudiences: ['a', 'b'],
      control: { host: '127.0.0.1', port: 8080 },
    });
    expect(parseCliArgs(['--endpoint', 'unix:///p/x.sock', '--provider-name', 'fake']).providerName).toBe('fake');
  });

  it('rejects endpoints that are not absolute unix paths and bad control addresses', () => {
    expect(() => parseCliArgs(['--endpoint', 'tcp://127.0.0.1:1234'])).toThrow('--endpoint must be');
    expect(() => parseCliArgs(['--endpoint', 'unix://relative.sock'])).toThrow('--endpoint must be');
    expect(() => parseCliArgs(['--control-address', 'nope'])).toThrow('--control-address must be');
    expect(() => parseCliArgs(['--bogus'])).toThrow();
  });
});

describe('fake provider sidecar process', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ssc-'));
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts main.ts and resolves with the control port once it is listening. */
  async function startSidecar(socketPath: string): Promise<{ child: ChildProcess; control: string }> {
    const hook = `data:text/javascript,${encodeURIComponent(RESOLVE_TS_HOOK)}`;
    const args = ['--import', hook, join(import.meta.dirname, 'main.ts')];
    args.push('--endpoint', `unix://${socketPath}`, '--control-address', '127.0.0.1:0');
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const first = stderr.split('\n').find((l) => l.includes('fake provider listening'));
        if (first) resolve(first);
      });
      child.once('exit', (code) => reject(new Error(`sidecar exited with ${code}: ${stderr}`)));
    });
    const { controlPort } = JSON.parse(line) as { controlPort: number };
    return { child, control: `http://127.0.0.1:${controlPort}` };
  }

  itWithTypeStripping('serves mounts, is steered over HTTP, survives SIGKILL mid-call and a restart', async () => {
    const socketPath = join(dir, 'fake.sock');
    const first = await startSidecar(socketPath);
    const factory = new CsiSocketTransportFactory({ providerVolume: dir, retry: { initialBackoffMs: 20 } });
    try {
      const t = factory.forSocket('fake')!;
      const before = readable(await t.mount(mountRequest({ objects: '- foo' }), callOptions()));
      expect(before).toEqual({
        files: [{ path: 'foo', mode: 420, contents: 'foo-value-v1' }],
        objectVersions: [{ id: 'secret/foo', version: 'v1' }],
      });

      await fetch(`${first.control}/hang?on=true`, { method: 'POST' });
      const pending = failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
      await waitForMounts(first.control, 2);
      first.child.kill('SIGKILL');
      const err = await pending;
      expect(err.reason).toBe('ProviderError');
      expect(err.message).toMatch(/^rpc error: code = Unavailable desc = /);
      expect(existsSync(socketPath)).toBe(true); // stale: nobody listens

      const stale = await failure(t.mount(mountRequest({ objects: '- foo' }), callOptions()));
      expect(stale.message).toMatch(/^rpc error: code = Unavailable desc = /);

      const second = await startSidecar(socketPath);
      await fetch(`${second.control}/rotate`, { method: 'POST' });
      const after = await t.mount(mountRequest({ objects: '- foo' }), callOptions());
      expect(after.objectVersions).toEqual([{ id: 'secret/foo', version: 'v2' }]);

      second.child.kill('SIGTERM');
      await new Promise((resolve) => second.child.once('exit', resolve));
      expect(second.child.exitCode).toBe(0);
    } finally {
      await factory.close();
    }
  });
});

async function waitForMounts(control: string, count: number): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const stats = (await (await fetch(`${control}/stats`)).json()) as { mountCount: number };
    if (stats.mountCount >= count) return;
    if (Date.now() > until) throw new Error('mount did not reach the sidecar');
    await new Promise((r) => setTimeout(r, 20));
  }
}

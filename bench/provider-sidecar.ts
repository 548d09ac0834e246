/**
 * The fake provider's gRPC server as a separate process, for bench/mount-roundtrip.ts: the provider runs beside
 * the controller as a sidecar in production, so the socket numbers are taken across two processes.
 *
 *   node dist/bench/provider-sidecar.js <socket path> <file bytes>
 *
 * With <file bytes> > 0 every Mount answers with one file of that size (the payload case); 0 derives the files
 * from the `objects` attribute as usual. Writes `ready` to stdout once listening; exits on SIGTERM or stdin EOF.
 */
import { FakeProvider } from '../transports/fake/fake-provider.js';
import { startFakeProviderServer } from '../transports/fake/grpc-server.js';

async function main(): Promise<void> {
  const [socketPath, bytesArg] = process.argv.slice(2);
  if (!socketPath) throw new Error('usage: provider-sidecar.js <socket path> <file bytes>');
  const provider = new FakeProvider({ providerName: 'bench' });
  const size = Number(bytesArg ?? '0');
  if (size > 0) provider.setFiles([{ path: 'payload', contents: new Uint8Array(size).fill(0x61) }]);
  const server = await startFakeProviderServer({ socketPath, provider });
  const stop = (): void => void server.stop(200).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop).resume();
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`provider-sidecar: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

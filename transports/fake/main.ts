/**
 * The fake provider as a process, to run as a sidecar next to the controller (shared `/provider` volume):
 *
 *   node dist/transports/fake/main.js --endpoint unix:///provider/fake.sock \
 *     [--provider-name fake] [--token-audiences aud1,aud2] [--control-address 127.0.0.1:8080]
 *
 * The provider name defaults to the socket's base name without `.sock`. Exits on SIGTERM / SIGINT after a
 * graceful stop. Writes one JSON line to stderr when listening.
 */
import { parseCliArgs } from './cli-config.js';
import { type ControlServer, startControlServer } from './control-http.js';
import { FakeProvider } from './fake-provider.js';
import { startFakeProviderServer } from './grpc-server.js';

async function main(): Promise<void> {
  const config = parseCliArgs(process.argv.slice(2));
  const provider = new FakeProvider({ providerName: config.providerName, tokenAudiences: config.tokenAudiences });
  const server = await startFakeProviderServer({ socketPath: config.socketPath, provider });
  let control: ControlServer | undefined;
  if (config.control) control = await startControlServer(provider, config.control.host, config.control.port);
  process.stderr.write(
    `${JSON.stringify({
      msg: 'fake provider listening',
      provider: config.providerName,
      socket: config.socketPath,
      controlPort: control?.port,
    })}\n`,
  );
  const shutdown = (): void => {
    void Promise.all([server.stop(), control?.close()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ msg: 'fake provider failed', error: String(err) })}\n`);
  process.exit(1);
});

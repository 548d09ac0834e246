/**
 * Flags of the fake provider sidecar (transports/fake/main.ts), parsed once at the edge.
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

export interface FakeProviderCliConfig {
  socketPath: string;
  providerName: string;
  tokenAudiences: string[];
  control?: { host: string; port: number };
}

export function parseCliArgs(argv: string[]): FakeProviderCliConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      endpoint: { type: 'string', default: 'unix:///tmp/fake.sock' },
      'provider-name': { type: 'string' },
      'token-audiences': { type: 'string', default: '' },
      'control-address': { type: 'string' },
    },
    strict: true,
  });
  const endpoint = values.endpoint;
  if (!endpoint.startsWith('unix:///')) {
    throw new Error(`--endpoint must be unix:///ABSOLUTE/PATH.sock, got ${JSON.stringify(endpoint)}`);
  }
  const socketPath = endpoint.slice('unix://'.length);
  const config: FakeProviderCliConfig = {
    socketPath,
    providerName: values['provider-name'] ?? basename(socketPath).replace(/\.sock$/, ''),
    tokenAudiences: values['token-audiences'].split(',').filter((a) => a !== ''),
  };
  const control = values['control-address'];
  if (control !== undefined) {
    const i = control.lastIndexOf(':');
    const port = Number(control.slice(i + 1));
    if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`--control-address must be HOST:PORT, got ${JSON.stringify(control)}`);
    }
    config.control = { host: control.slice(0, i) || '127.0.0.1', port };
  }
  return config;
}

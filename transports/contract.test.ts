import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providerTransportContract, type ContractHarnessFactory } from './contract.js';
import { CsiSocketTransportFactory } from './csi-grpc/factory.js';
import { FakeProviderTransport } from './fake/fake-provider.js';
import { startFakeProviderServer } from './fake/grpc-server.js';

const inProcess: ContractHarnessFactory = async (provider) => ({
  transport: new FakeProviderTransport(provider),
  close: async () => {},
});

/** A real gRPC server on a unix socket in a short temp dir, reached through the socket transport factory. */
const overUnixSocket: ContractHarnessFactory = async (provider) => {
  const dir = mkdtempSync(join(tmpdir(), 'ssc-'));
  const server = await startFakeProviderServer({ socketPath: join(dir, `${provider.providerName}.sock`), provider });
  const factory = new CsiSocketTransportFactory({ providerVolume: dir });
  const transport = factory.forSocket(provider.providerName);
  if (!transport) throw new Error('socket transport not found');
  return {
    transport,
    async close() {
      await factory.close();
      await server.stop(100);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const outcomes = { inProcess: new Map<string, unknown>(), grpc: new Map<string, unknown>() };

describe('ProviderTransport contract: in-process fake', () => {
  for (const c of providerTransportContract(inProcess)) {
    it(c.name, async () => {
      outcomes.inProcess.set(c.name, await c.run());
    });
  }
});

describe('ProviderTransport contract: gRPC fake over a unix socket', () => {
  for (const c of providerTransportContract(overUnixSocket)) {
    it(c.name, async () => {
      outcomes.grpc.set(c.name, await c.run());
    });
  }
});

describe('ProviderTransport contract: both transports', () => {
  it('give identical results', () => {
    expect(outcomes.grpc.size).toBe(providerTransportContract(inProcess).length);
    expect(Object.fromEntries(outcomes.grpc)).toEqual(Object.fromEntries(outcomes.inProcess));
  });
});

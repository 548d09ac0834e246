export {
  FakeProvider,
  FakeProviderTransport,
  FakeRpcError,
  TOKENS_ATTRIBUTE,
  type FakeFile,
  type FakeProviderOptions,
  type FakeProviderTransportOptions,
  type RecordedMount,
} from './fake-provider.js';
export { objectValue, parseObjects, type FakeObjectSpec } from './objects.js';
export { startFakeProviderServer, type FakeProviderServer, type FakeProviderServerOptions } from './grpc-server.js';

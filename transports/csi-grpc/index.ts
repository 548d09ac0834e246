export {
  CsiGrpcTransport,
  DEFAULT_MAX_CALL_RECV_MSG_SIZE,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  HEALTH_CHECK_TIMEOUT_MS,
  LARGE_RESPONSE_BYTES,
  type CsiGrpcTransportOptions,
  type RetryOptions,
  type TransportLogger,
} from './transport.js';
export { CsiSocketTransportFactory, type CsiSocketTransportFactoryOptions } from './factory.js';
export { ProviderRpcError, rpcErrorMessage } from './status.js';
export { API_VERSION, checkFilePath, fromWireMountResponse, toWireMountRequest } from './wire.js';

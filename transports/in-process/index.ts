export {
  CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_ABANDONED_CALLS,
  DEFAULT_MAX_CALL_RECV_MSG_SIZE,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  MAX_MESSAGE_CHARS,
  PluginProviderTransport,
  type PluginIdentity,
  type PluginProviderTransportOptions,
} from './plugin-transport.js';
export { codedError, PluginFetchFailed, PluginMisconfigured, PluginProviderError, statusCodeOf } from './errors.js';

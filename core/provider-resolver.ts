import { SecretProviderClassMisconfigured } from './errors.js';
import {
  PROVIDER_NAME_PATTERN, type ProviderRegistry, type ProviderResolver, type ProviderTransport, type SocketTransportFactory,
} from './ports/provider.js';

/** In-process providers by name (plugins, the fake). Registering a name twice is an error. */
export class InMemoryProviderRegistry implements ProviderRegistry {
  private readonly byName = new Map<string, ProviderTransport>();

  register(transport: ProviderTransport): void {
    if (this.byName.has(transport.providerName)) {
      throw new Error(`provider "${transport.providerName}" is registered twice`);
    }
    this.byName.set(transport.providerName, transport);
  }

  get(providerName: string): ProviderTransport | undefined {
    return this.byName.get(providerName);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/**
 * Provider name -> transport: an in-process provider first, then `<providerVolume>/<name>.sock`, else
 * SecretProviderClassMisconfigured with upstream's messages.
 */
export class DefaultProviderResolver implements ProviderResolver {
  constructor(private readonly registry: ProviderRegistry, private readonly sockets?: SocketTransportFactory) {}

  async resolve(providerName: string): Promise<ProviderTransport> {
    if (!PROVIDER_NAME_PATTERN.test(providerName)) {
      throw new SecretProviderClassMisconfigured(`invalid provider: provider "${providerName}"`);
    }
    const t = this.registry.get(providerName) ?? this.sockets?.forSocket(providerName);
    if (!t) throw new SecretProviderClassMisconfigured(`provider not found: provider "${providerName}"`);
    return t;
  }
}

/**
 * CsiSocketTransportFactory: provider name -> CsiGrpcTransport on `<providerVolume>/<name>.sock`.
 * One transport (and so one gRPC client) per provider, created on first use and reused until `close()`.
 * Edge cases: returns undefined when the socket file does not exist *now* (a cached transport is kept and handed
 * out again once the socket is back, reconnecting to the new file); returns undefined for a name that fails
 * PROVIDER_NAME_PATTERN, so a name can never point outside the provider volume.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Clock } from '../../core/ports/clock.js';
import { PROVIDER_NAME_PATTERN, type SocketTransportFactory } from '../../core/ports/provider.js';
import { CsiGrpcTransport, type RetryOptions, type TransportLogger } from './transport.js';

export interface CsiSocketTransportFactoryOptions {
  /** Directory holding the provider sockets (`--provider-volume`, upstream default `/provider`). */
  providerVolume: string;
  /** `--max-call-recv-msg-size`; default 4 MiB. */
  maxCallRecvMsgSize?: number;
  /** Deadline for calls whose CallOptions carry none; default 30 s. */
  providerTimeoutMs?: number;
  retry?: RetryOptions;
  logger?: TransportLogger;
  clock?: Clock;
}

export class CsiSocketTransportFactory implements SocketTransportFactory {
  private readonly options: CsiSocketTransportFactoryOptions;
  private readonly dir: string;
  private readonly transports = new Map<string, CsiGrpcTransport>();

  constructor(options: CsiSocketTransportFactoryOptions) {
    this.options = options;
    this.dir = resolve(options.providerVolume);
  }

  /** `<dir>/<name>.sock`, absolute. */
  socketPath(providerName: string): string {
    return join(this.dir, `${providerName}.sock`);
  }

  forSocket(providerName: string): CsiGrpcTransport | undefined {
    if (!PROVIDER_NAME_PATTERN.test(providerName)) return undefined;
    const socketPath = this.socketPath(providerName);
    if (statSync(socketPath, { throwIfNoEntry: false }) === undefined) return undefined;
    let transport = this.transports.get(providerName);
    if (!transport) {
      const { maxCallRecvMsgSize, providerTimeoutMs, retry, logger, clock } = this.options;
      transport = new CsiGrpcTransport({
        providerName,
        socketPath,
        maxCallRecvMsgSize,
        providerTimeoutMs,
        retry,
        logger,
        clock,
      });
      this.transports.set(providerName, transport);
    }
    return transport;
  }

  async close(): Promise<void> {
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((t) => t.close()));
  }
}

/**
 * An optional HTTP control endpoint for the fake provider sidecar, so tests outside the process can steer it
 * (upstream's e2e provider has `/rotation` and `/validate-token-requests` on :8080 for the same reason).
 *
 *   POST /rotate                                   rotate every value and version
 *   POST /error?code=14&details=down[&times=1]     inject a gRPC status (no code: clear)
 *   POST /provider-error-code?code=X               answer with MountResponse.error.code (no code: clear)
 *   POST /delay?ms=N   POST /hang?on=true|false    slow down or hang Mount
 *   POST /validate-token-requests?audience=a,b     require a token per audience (empty: none)
 *   POST /reset                                    back to a fresh fake
 *   GET  /stats                                    {"providerName", "mountCount"}
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { FakeProvider } from './fake-provider.js';

export interface ControlServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startControlServer(provider: FakeProvider, host: string, port: number): Promise<ControlServer> {
  const server: Server = createServer((req, res) => handle(provider, req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function handle(provider: FakeProvider, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  const reply = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && url.pathname === '/stats') {
    reply(200, { providerName: provider.providerName, mountCount: provider.mountCount });
    return;
  }
  if (req.method !== 'POST') {
    reply(405, { error: 'use POST' });
    return;
  }
  switch (url.pathname) {
    case '/rotate':
      provider.rotate();
      break;
    case '/error': {
      const code = q.get('code');
      const times = q.get('times');
      provider.setError(
        code === null || code === '' ? undefined : { code: Number(code), details: q.get('details') ?? 'injected error' },
        times === null ? {} : { times: Number(times) },
      );
      break;
    }
    case '/provider-error-code':
      provider.setProviderErrorCode(q.get('code') ?? undefined);
      break;
    case '/delay':
      provider.setDelay(Number(q.get('ms') ?? 0));
      break;
    case '/hang':
      provider.setHang(q.get('on') === 'true');
      break;
    case '/validate-token-requests':
      provider.setTokenAudiences((q.get('audience') ?? '').split(',').filter((a) => a !== ''));
      break;
    case '/reset':
      provider.reset();
      break;
    default:
      reply(404, { error: 'unknown path' });
      return;
  }
  reply(200, { ok: true });
}

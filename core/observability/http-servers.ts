import http from 'node:http';
import type { Registry } from 'prom-client';

/** Parses ":8081" / "127.0.0.1:8081" / "0" (off). */
export function parseBindAddress(addr: string): { host?: string; port: number } | undefined {
  if (!addr || addr === '0') return undefined;
  const i = addr.lastIndexOf(':');
  const port = Number(addr.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid bind address "${addr}"`);
  const host = addr.slice(0, i) || undefined;
  return { host, port };
}

function listen(addr: string, handler: http.RequestListener): Promise<http.Server | undefined> {
  const a = parseBindAddress(addr);
  if (!a) return Promise.resolve(undefined);
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${addr}: ${err.message}`)));
    server.listen(a.port, a.host, () => resolve(server));
  });
}

/** `/healthz` (alive) and `/readyz` (true once the watch caches have synced). */
export function startProbeServer(addr: string, ready: () => boolean): Promise<http.Server | undefined> {
  return listen(addr, (req, res) => {
    if (req.url === '/healthz' || req.url === '/livez') { res.writeHead(200).end('ok'); return; }
    if (req.url === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'caches not synced'); return;
    }
    res.writeHead(404).end();
  });
}

export function startMetricsServer(addr: string, registry: Registry): Promise<http.Server | undefined> {
  return listen(addr, (req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    registry.metrics().then((body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      (err: Error) => res.writeHead(500).end(err.message));
  });
}

import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import type { KubeAccess } from './access.js';

/** How long a token read from a token file is reused before the file is read again. */
const TOKEN_FILE_REFRESH_MS = 60_000;

/** An error from the API server: HTTP code plus the Status message (which never echoes Secret data). */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason?: string;
  constructor(code: number, message: string, reason?: string) {
    super(message);
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = reason;
  }
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** One event of a watch stream (ERROR events are turned into a rejection of `watch`). */
export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

export interface WatchOptions {
  /** Called once the API server has answered 200 (the stream is open). */
  onOpen?: () => void;
  /** Client-side limit on a silent stream (half-open connections); default 10 min. */
  idleTimeoutMs?: number;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** No response data for this long fails a request (undici's fetch defaults were 300 s too). */
const REQUEST_IDLE_TIMEOUT_MS = 300_000;

/**
 * A thin JSON client over node:http(s) with one keep-alive Agent (connections are reused across requests and
 * workers). TLS material is fixed for the process; tokens (a token file, exec credentials) are re-read for
 * every request, so rotated in-cluster tokens work.
 */
export class KubeHttp {
  readonly server: string;
  private readonly base: URL;
  private readonly secure: boolean;
  private agent: http.Agent;
  private agentCert?: string | Buffer;
  private readonly access: KubeAccess;

  // No parameter properties here: integration's global setup loads this file with Node's type stripping.
  private readonly timing: { tokenFileRefreshMs?: number; now?: () => number };
  constructor(access: KubeAccess, timing: { tokenFileRefreshMs?: number; now?: () => number } = {}) {
    this.timing = timing;
    this.access = access;
    if (!access.server) throw new Error('no API server URL');
    this.server = access.server.replace(/\/+$/, '');
    this.base = new URL(this.server);
    if (this.base.protocol !== 'https:' && this.base.protocol !== 'http:') throw new Error(`unsupported API server URL ${this.server}`);
    this.secure = this.base.protocol === 'https:';
    this.agent = this.makeAgent(access.cert, access.key);
  }

  private makeAgent(cert?: string | Buffer, key?: string | Buffer): http.Agent {
    this.agentCert = cert;
    const common = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, scheduling: 'lifo' as const };
    if (!this.secure) return new http.Agent(common);
    return new https.Agent({
      ...common,
      ca: this.access.ca,
      cert,
      key,
      rejectUnauthorized: !this.access.insecureSkipTLSVerify,
      servername: this.access.tlsServerName,
    });
  }

  /** Stops reusing connections (idle sockets are closed; streams in flight end with their requests). */
  close(): void {
    this.agent.destroy();
  }

  private fileToken?: { value: string; readAt: number };

  private async headers(): Promise<Record<string, string>> {
    const a = this.access;
    const h: Record<string, string> = { Accept: 'application/json' };
    if (a.credentials) {
      const cred = await a.credentials();
      // An exec plugin may hand out (new) client certificates: connect with them from now on.
      if (cred.cert && cred.key && cred.cert !== this.agentCert) this.agent = this.makeAgent(cred.cert, cred.key);
      Object.assign(h, cred.headers);
    } else if (a.tokenFile) {
      // Re-read at most once a minute, as client-go does: projected tokens rotate well before they expire.
      const now = (this.timing.now ?? Date.now)();
      if (!this.fileToken || now - this.fileToken.readAt >= (this.timing.tokenFileRefreshMs ?? TOKEN_FILE_REFRESH_MS)) {
        this.fileToken = { value: readFileSync(a.tokenFile, 'utf8').trim(), readAt: now };
      }
      if (this.fileToken.value) h.Authorization = `Bearer ${this.fileToken.value}`;
    } else if (a.token) {
      h.Authorization = `Bearer ${a.token}`;
    } else if (a.username !== undefined) {
      h.Authorization = `Basic ${Buffer.from(`${a.username}:${a.password ?? ''}`).toString('base64')}`;
    }
    if (a.impersonateUser) h['Impersonate-User'] = a.impersonateUser;
    return h;
  }

  private url(path: string, query?: Record<string, string | undefined>): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private async open(method: Method, url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<http.ClientRequest> {
    const mod = this.secure ? https : http;
    const h: http.OutgoingHttpHeaders = { ...headers };
    if (this.access.impersonateGroups?.length) h['Impersonate-Group'] = this.access.impersonateGroups;
    return mod.request(url, { method, headers: h, agent: this.agent, signal });
  }

  async request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = this.url(path, opts.query);
    const headers = await this.headers();
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (body) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    const req = await this.open(method, url, headers, opts.signal);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.setTimeout(REQUEST_IDLE_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no response within ${REQUEST_IDLE_TIMEOUT_MS / 1000}s`)));
      req.once('error', reject);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.once('error', reject);
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.end(body);
    });
    if (status >= 400) throw apiError(status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Streams a watch (`?watch=true`) and calls `onEvent` for every event until the server ends the stream
   * (resolves), `signal` aborts (resolves), or it fails: an HTTP error, an ERROR event (e.g. 410 Gone: the
   * resourceVersion is too old) or a broken connection reject, with a KubeApiError when the server said why.
   */
  async watch<T = unknown>(path: string, query: Record<string, string | undefined>, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal, opts: WatchOptions = {}): Promise<void> {
    if (signal?.aborted) return;
    const url = this.url(path, { ...query, watch: 'true' });
    const req = await this.open('GET', url, await this.headers(), signal);
    const idle = opts.idleTimeoutMs ?? 600_000;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err && !signal?.aborted) reject(err);
        else resolve();
      };
      req.setTimeout(idle, () => req.destroy(new Error(`watch ${path}: no data for ${Math.round(idle / 1000)}s`)));
      req.once('error', (err) => finish(err));
      req.once('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('end', () => finish(apiError(status, Buffer.concat(chunks).toString('utf8'))));
          res.once('error', (err) => finish(err));
          return;
        }
        opts.onOpen?.();
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          if (settled) return;
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (!line) continue;
            try {
              const ev = JSON.parse(line) as { type: string; object: unknown };
              if (ev.type === 'ERROR') {
                const st = (ev.object ?? {}) as { code?: number; message?: string; reason?: string };
                throw new KubeApiError(st.code ?? 500, st.message ?? 'watch error', st.reason);
              }
              onEvent(ev as WatchEvent<T>);
            } catch (err) {
              finish(err as Error);
              req.destroy();
              return;
            }
          }
        });
        res.once('error', (err) => finish(err));
        res.once('end', () => finish());
        res.once('close', () => finish(res.complete ? undefined : new Error(`watch ${path}: connection closed`)));
      });
      req.end();
    });
  }
}

function apiError(status: number, text: string): KubeApiError {
  let message = text.slice(0, 2000);
  let reason: string | undefined;
  try {
    const st = JSON.parse(text) as { message?: string; reason?: string };
    message = st.message ?? message;
    reason = st.reason;
  } catch { /* not a Status */ }
  return new KubeApiError(status, message || `HTTP ${status}`, reason);
}

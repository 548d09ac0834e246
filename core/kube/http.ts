import { HttpMethod, RequestContext, type KubeConfig } from '@kubernetes/client-node';
import { fetch, type Dispatcher } from 'undici';

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

/** A thin JSON client over the KubeConfig's credentials, for the few calls the generated client makes awkward (SSA). */
export class KubeHttp {
  private readonly server: string;
  private readonly kc: KubeConfig;
  /**
   * client-node builds a new undici Agent for every request (a TLS handshake each time); one Agent is kept and
   * reused instead, so requests share keep-alive connections. The TLS material of a kubeconfig does not change
   * while the process runs; credentials that do (tokens) are re-read for every request.
   */
  private dispatcher?: Dispatcher;
  constructor(kc: KubeConfig) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
  }

  async request<T>(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), method as HttpMethod);
    await this.kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
    const res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      dispatcher: (this.dispatcher ??= ctx.getDispatcher() as Dispatcher | undefined),
      signal: opts.signal,
    });
    const text = await res.text();
    if (res.status >= 400) {
      let message = text.slice(0, 2000);
      let reason: string | undefined;
      try {
        const st = JSON.parse(text) as { message?: string; reason?: string };
        message = st.message ?? message;
        reason = st.reason;
      } catch { /* not a Status */ }
      throw new KubeApiError(res.status, message || `HTTP ${res.status}`, reason);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

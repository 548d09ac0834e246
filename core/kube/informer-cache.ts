import {
  SECRET_SYNC_API_VERSION, SECRET_SYNC_PLURAL, SPC_GROUP, SPC_PLURAL, SPC_VERSION,
  type SecretProviderClass, type SecretSync,
} from '../api/types.js';
import type { ObjectCache } from '../ports/kube.js';
import type { Logger } from '../ports/observability.js';
import { KubeApiError, type KubeHttp, type WatchEvent } from './http.js';
import { abortableSleep } from '../abortable-sleep.js';

export interface CacheHandlers {
  secretSync(event: 'add' | 'update' | 'delete', obj: SecretSync, old?: SecretSync): void;
  secretProviderClass(event: 'add' | 'update' | 'delete', obj: SecretProviderClass): void;
}

interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}
interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}
type Handler<T> = (event: 'add' | 'update' | 'delete', obj: T, old?: T) => void;

const PAGE_SIZE = 500;
const BACKOFF_START_MS = 500;
const BACKOFF_MAX_MS = 30_000;

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * List + watch of one resource across all namespaces into a local store (client-go's reflector): a paginated
 * list, then a watch from the list's resourceVersion (with bookmarks), re-opened where it left off when the server
 * ends it. On 410 Gone or any failure it relists after a capped exponential backoff, and a relist reports the
 * differences (adds, updates, deletes) so handlers see what changed while the watch was down.
 */
class Reflector<T extends KubeObject> {
  private store = new Map<string, T>();
  private rv = '';
  private abort = new AbortController();
  private loop?: Promise<void>;
  private syncedFlag = false;
  private resolveSynced!: () => void;
  /** Resolves on the first successful list (or on stop). */
  readonly initial = new Promise<void>((r) => { this.resolveSynced = r; });

  constructor(
    private readonly http: KubeHttp,
    private readonly path: string,
    private readonly what: string,
    private readonly handler: Handler<T>,
    private readonly log: Logger,
  ) {}

  get synced(): boolean {
    return this.syncedFlag;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.initial;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.resolveSynced();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private emit(event: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    if (this.stopped) return;
    try {
      this.handler(event, obj, old);
    } catch (err) {
      this.log.error({ resource: this.what, err: (err as Error).message }, 'cache event handler failed');
    }
  }

  private async run(): Promise<void> {
    let backoff = BACKOFF_START_MS;
    while (!this.stopped) {
      try {
        if (!this.rv) await this.relist();
        const opened = Date.now();
        let events = 0;
        await this.http.watch<T>(this.path, { resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: String(300 + Math.floor(Math.random() * 300)) },
          (e) => { events++; backoff = BACKOFF_START_MS; this.onEvent(e); }, this.abort.signal, { onOpen: () => { backoff = BACKOFF_START_MS; } });
        // The server ended the watch (its timeout): continue from the last resourceVersion, no relist. A stream
        // that ends at once without events (a misbehaving proxy) must not spin: back off then.
        if (events === 0 && Date.now() - opened < 1000 && !this.stopped) {
          await abortableSleep(backoff, this.abort.signal);
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        }
      } catch (err) {
        if (this.stopped) break;
        const gone = err instanceof KubeApiError && err.code === 410;
        this.rv = ''; // relist: the store may have missed events
        this.log[gone ? 'info' : 'warn']({ resource: this.what, err: (err as Error).message, retryInMs: backoff }, gone ? 'watch expired; relisting' : 'watch failed; relisting');
        await abortableSleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    }
  }

  /** Lists everything (paginated), replaces the store and reports the differences to the handler. */
  private async relist(): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.http.request<ObjectList<T>>('GET', this.path, {
        query: { limit: String(PAGE_SIZE), continue: cont }, signal: this.abort.signal,
      });
      for (const o of page.items ?? []) items.push(o);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (this.stopped) return;
    const next = new Map<string, T>();
    for (const o of items) next.set(keyOf(o), o);
    const prev = this.store;
    this.store = next;
    this.rv = rv;
    for (const [k, old] of prev) if (!next.has(k)) this.emit('delete', old);
    for (const [k, o] of next) {
      const old = prev.get(k);
      if (!old) this.emit('add', o);
      else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('update', o, old);
    }
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.resolveSynced();
    }
  }

  private onEvent(e: WatchEvent<T>): void {
    const o = e.object;
    if (o?.metadata?.resourceVersion) this.rv = o.metadata.resourceVersion;
    if (e.type === 'BOOKMARK') return;
    const k = keyOf(o);
    const old = this.store.get(k);
    if (e.type === 'DELETED') {
      this.store.delete(k);
      this.emit('delete', old ?? o);
      return;
    }
    this.store.set(k, o);
    if (!old) this.emit('add', o);
    else if (old.metadata.resourceVersion !== o.metadata.resourceVersion) this.emit('update', o, old);
  }
}

/** Watch caches of SecretSync and SecretProviderClass across all namespaces (list + watch, on KubeHttp). */
export class InformerCache implements ObjectCache {
  private readonly ss: Reflector<SecretSync>;
  private readonly spc: Reflector<SecretProviderClass>;

  constructor(http: KubeHttp, handlers: CacheHandlers, log: Logger) {
    this.ss = new Reflector<SecretSync>(http, `/apis/${SECRET_SYNC_API_VERSION}/${SECRET_SYNC_PLURAL}`, 'SecretSync',
      (event, obj, old) => handlers.secretSync(event, obj, old), log);
    this.spc = new Reflector<SecretProviderClass>(http, `/apis/${SPC_GROUP}/${SPC_VERSION}/${SPC_PLURAL}`, 'SecretProviderClass',
      (event, obj) => handlers.secretProviderClass(event, obj), log);
  }

  /** Resolves once both initial lists have been processed (retrying failures), or when stopped first. */
  async start(): Promise<void> {
    await Promise.all([this.ss.start(), this.spc.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.ss.stop(), this.spc.stop()]);
  }

  synced(): boolean {
    return this.ss.synced && this.spc.synced;
  }

  getSecretSync(namespace: string, name: string): SecretSync | undefined {
    return this.ss.get(namespace, name);
  }

  getSecretProviderClass(namespace: string, name: string): SecretProviderClass | undefined {
    return this.spc.get(namespace, name);
  }

  listSecretSyncs(): SecretSync[] {
    return this.ss.list();
  }
}

import { randomBytes } from 'node:crypto';
import { SECRET_SYNC_API_VERSION, type SecretSync } from '../api/types.js';
import type { EventRecorder } from '../ports/kube.js';
import type { Logger } from '../ports/observability.js';
import type { KubeHttp } from './http.js';

const DEDUPE_MS = 5 * 60_000;

/** Core v1 Events with source `secret-sync-controller`; identical events for one object are sent once per 5 min. */
export class KubeEventRecorder implements EventRecorder {
  private readonly recent = new Map<string, number>();
  constructor(private readonly http: KubeHttp, private readonly log: Logger, private readonly component = 'secret-sync-controller') {}

  event(ss: SecretSync, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = `${ss.metadata.uid}|${type}|${reason}|${message}`;
    const now = Date.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < DEDUPE_MS) return;
    this.recent.set(key, now);
    if (this.recent.size > 10_000) {
      for (const [k, t] of this.recent) if (now - t >= DEDUPE_MS) this.recent.delete(k);
    }
    const ns = ss.metadata.namespace!;
    const ts = new Date(now).toISOString();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${ss.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: SECRET_SYNC_API_VERSION, kind: 'SecretSync', name: ss.metadata.name, namespace: ns,
        uid: ss.metadata.uid, resourceVersion: ss.metadata.resourceVersion,
      },
      reason, message: message.slice(0, 1024), type,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: ts, lastTimestamp: ts, count: 1,
    };
    this.http.request('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, { body }).catch((err: Error) => {
      this.log.warn({ namespace: ns, name: ss.metadata.name, reason, err: err.message }, 'event not recorded');
    });
  }
}

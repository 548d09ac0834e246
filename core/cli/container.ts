/**
 * The composition root: the only place (with the CLI) that wires concrete classes to tokens. Tests build
 * their own container with `buildContainer` and override any token before resolving the controller.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { CsiSocketTransportFactory } from '../../transports/csi-grpc/index.js';
import { Config } from '../config.js';
import { SyncController } from '../controller.js';
import type { KubeAccess } from '../kube/access.js';
import { KubeEventRecorder } from '../kube/event-recorder.js';
import { KubeHttp } from '../kube/http.js';
import { LeaderElector } from '../kube/leader-election.js';
import { KubeSecretWriter } from '../kube/secret-writer.js';
import { KubeStatusWriter } from '../kube/status-writer.js';
import { KubeTokenRequester } from '../kube/token-requester.js';
import { Clock, systemClock } from '../ports/clock.js';
import { EventRecorder, ObjectCache, SecretWriter, StatusWriter } from '../ports/kube.js';
import { Logger, Metrics } from '../ports/observability.js';
import { ProviderRegistry, ProviderResolver, SocketTransportFactory, type ProviderTransport } from '../ports/provider.js';
import { DefaultProviderResolver, InMemoryProviderRegistry } from '../provider-resolver.js';
import { Reconciler } from '../reconciler.js';
import { mapSecretData } from '../sync/secret-mapper.js';
import { SyncHasher } from '../sync/sync-hash.js';
import { conditionLogic } from '../sync/condition-logic.js';
import { audiencesFor } from '../tokens/audiences.js';
import { TokenRequester } from '../tokens/token-requester.js';
import { TokenSource } from '../tokens/token-source.js';
import { tokensAttribute, SERVICE_ACCOUNT_TOKENS_ATTRIBUTE } from '../tokens/tokens-attribute.js';

export const KubeAccessToken = Symbol('KubeAccess');
export const KubeHttpToken = Symbol('KubeHttp');
export const SyncHasherToken = Symbol('SyncHasher');
export const LeaderElectorToken = Symbol('LeaderElector');

export interface RuntimeOptions {
  config: Config;
  /** How to reach the API server (`loadKubeAccess` in the CLI; tests convert a client-node KubeConfig). */
  kubeAccess: KubeAccess;
  logger: Logger;
  metrics: Metrics;
  /** In-process providers (plugins, the fake) registered before the socket lookup. */
  providers?: ProviderTransport[];
  clock?: Clock;
}

export function buildContainer(opts: RuntimeOptions, parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  c.register(Config, { useValue: opts.config });
  c.register(KubeAccessToken, { useValue: opts.kubeAccess });
  c.register(Logger, { useValue: opts.logger });
  c.register(Metrics, { useValue: opts.metrics });
  c.register(Clock, { useValue: opts.clock ?? systemClock });
  const http = new KubeHttp(opts.kubeAccess);
  c.register(KubeHttpToken, { useValue: http });
  c.register(SecretWriter, { useValue: new KubeSecretWriter(http) });
  c.register(StatusWriter, { useValue: new KubeStatusWriter(http) });
  c.register(EventRecorder, { useValue: new KubeEventRecorder(http, opts.logger) });
  c.register(TokenRequester, { useValue: new KubeTokenRequester(http) });
  const registry = new InMemoryProviderRegistry();
  for (const p of opts.providers ?? []) registry.register(p);
  c.register(ProviderRegistry, { useValue: registry });
  c.register(SocketTransportFactory, {
    useValue: new CsiSocketTransportFactory({
      providerVolume: opts.config.providerVolume,
      maxCallRecvMsgSize: opts.config.maxCallRecvMsgSize,
      providerTimeoutMs: opts.config.providerTimeoutMs,
      logger: opts.logger,
    }),
  });
  c.register(ProviderResolver, {
    useFactory: (d) => new DefaultProviderResolver(d.resolve(ProviderRegistry), d.resolve(SocketTransportFactory)),
  });
  const key = opts.config.hashKeyFile ? readFileSync(opts.config.hashKeyFile) : undefined;
  c.register(SyncHasherToken, { useValue: key ? new SyncHasher(key) : SyncHasher.withRandomKey() });
  c.register(TokenSource, {
    useValue: new TokenSource(c.resolve(TokenRequester), c.resolve(Clock), {
      onRefreshError: (f) => opts.logger.warn({ namespace: f.namespace, serviceAccount: f.serviceAccount, audience: f.audience, err: f.error }, 'token refresh failed; using the cached token'),
    }),
  });
  return c;
}

/** The controller for a container; the cache is created here so the reconciler can read from it. */
export function createController(c: DependencyContainer): SyncController {
  const config = c.resolve<Config>(Config);
  const log = c.resolve<Logger>(Logger);
  const tokens = c.resolve(TokenSource);
  const hasher = c.resolve<SyncHasher>(SyncHasherToken);
  // The watch cache is created by the controller, which needs the reconciler first: read it through a ref.
  const ref: { cache?: ObjectCache } = {};
  const lazyCache: ObjectCache = {
    getSecretSync: (ns, n) => ref.cache!.getSecretSync(ns, n),
    getSecretProviderClass: (ns, n) => ref.cache!.getSecretProviderClass(ns, n),
    listSecretSyncs: () => ref.cache!.listSecretSyncs(),
    synced: () => ref.cache?.synced() ?? false,
  };
  const reconciler = new Reconciler({
    config,
    cache: lazyCache,
    resolver: c.resolve(ProviderResolver),
    tokens: async (namespace, sa, provider, signal) => {
      const audiences = audiencesFor(provider, config.tokenRequestAudiences, config.providerTokenAudiences);
      if (audiences.length === 0) return undefined;
      return tokensAttribute(await tokens.tokensFor(namespace, sa, audiences, signal))[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE];
    },
    mapData: mapSecretData,
    hash: (input) => hasher.hash(input),
    conditions: conditionLogic,
    writer: c.resolve(SecretWriter),
    status: c.resolve(StatusWriter),
    events: c.resolve(EventRecorder),
    clock: c.resolve(Clock),
    log,
    metrics: c.resolve(Metrics),
  });
  const controller = new SyncController(c.resolve<KubeHttp>(KubeHttpToken), reconciler, {
    concurrent: config.concurrent, clock: c.resolve(Clock), log, metrics: c.resolve(Metrics),
  });
  ref.cache = controller.createCache();
  c.register(ObjectCache, { useValue: ref.cache });
  return controller;
}

/**
 * Runs the controller until `signal` aborts; starts the token cache sweeper alongside. With --leader-elect the
 * workers start only once this instance holds the Lease; losing it stops the run (`onLeadershipLost`, default:
 * stop, like client-go's OnStoppedLeading).
 */
export async function runController(c: DependencyContainer, signal: AbortSignal, controller = createController(c), onLeadershipLost?: () => void): Promise<void> {
  const config = c.resolve<Config>(Config);
  const inner = new AbortController();
  const stop = () => inner.abort();
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  c.resolve(TokenSource).start(inner.signal);
  let leadership: Promise<void> | undefined;
  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    elector = new LeaderElector(c.resolve(KubeHttpToken), {
      namespace: config.leaderElectionNamespace, name: config.leaderElectionId, identity: config.podName || undefined,
      leaseDurationMs: config.leaseDurationMs, renewDeadlineMs: config.renewDeadlineMs, retryPeriodMs: config.retryPeriodMs,
      releaseOnCancel: config.releaseLeaseOnCancel,
    }, c.resolve(Logger));
    c.register(LeaderElectorToken, { useValue: elector });
    leadership = elector.acquire(inner.signal, () => { (onLeadershipLost ?? stop)(); stop(); });
    leadership.catch(() => undefined);
  }
  try {
    await controller.run(inner.signal, leadership?.catch(() => undefined));
  } finally {
    stop();
    await elector?.done();
    signal.removeEventListener('abort', stop);
    await c.resolve<SocketTransportFactory>(SocketTransportFactory).close();
  }
}

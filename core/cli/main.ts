#!/usr/bin/env -S node --max-semi-space-size=4
/** `secrets-sync`: run the controller, run the demo, print the version. */
import 'reflect-metadata';
import { ConfigError, buildConfig, helpText } from '../config.js';
import { createLogger } from '../observability/logging.js';
import { PromMetrics } from '../observability/metrics.js';
import { startMetricsServer, startProbeServer } from '../observability/http-servers.js';
import { loadKubeAccess } from '../kube/access.js';
import { buildContainer, createController, runController } from './container.js';
import { loadPluginTransports, logUnhandledRejections } from '../../plugins/host/index.js';
import { VERSION } from './version.js';

const USAGE = `secrets-sync: syncs secrets from external stores into Kubernetes Secrets.

Usage:
  secrets-sync run [flags]     run the controller against --kubeconfig, KUBECONFIG or the in-cluster config
  secrets-sync serve-provider --plugin <p> [--name <provider>] [--endpoint unix:///provider/<name>.sock]
                               serve a plugin's provider over the CSI provider gRPC protocol (serve-provider --help)
  secrets-sync demo            start a local control plane, sync a secret from the fake provider, rotate it, stop
  secrets-sync version         print the version as JSON
  secrets-sync --help

Flags of run:
${helpText()}

Environment: SYNC_CONTROLLER_POD_NAME, SYNC_CONTROLLER_POD_UID, SYNC_CONTROLLER_POD_NAMESPACE (downward API).`;

async function run(argv: string[]): Promise<number> {
  const config = buildConfig(argv);
  const log = createLogger(config.logLevel);
  const metrics = new PromMetrics();
  const access = loadKubeAccess({ kubeconfig: config.kubeconfig });
  const providers = await loadPluginTransports({ config, logger: log });
  const removeSafetyNet = providers.length > 0 ? logUnhandledRejections(log) : undefined;
  const c = buildContainer({ config, kubeAccess: access, logger: log, metrics, providers });
  const controller = createController(c);
  const abort = new AbortController();
  const servers = [
    await startProbeServer(config.healthProbeBindAddress, () => controller.synced()),
    await startMetricsServer(config.metricsBindAddress, metrics.registry),
  ];
  const stop = (signal: string) => {
    if (abort.signal.aborted) return;
    log.info({ signal }, 'shutting down');
    abort.abort();
    setTimeout(() => { log.error({}, 'graceful shutdown timed out'); process.exit(1); }, 10_000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  log.info({ version: VERSION, server: access.server, kubeconfig: access.source, workers: config.concurrent, controllerName: config.controllerName }, 'starting');
  await runController(c, abort.signal, controller);
  await Promise.all(providers.map((p) => p.close()));
  removeSafetyNet?.();
  for (const s of servers) s?.close();
  log.info({}, 'stopped');
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'serve-provider') {
    const { serveProvider } = await import('../../plugins/bridge/serve-provider.js');
    return serveProvider(rest);
  }
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help' || rest.includes('--help')) {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'version' || cmd === '--version') {
    console.log(JSON.stringify({ BuildVersion: VERSION, GitCommit: process.env.SSC_GIT_COMMIT ?? '', BuildDate: process.env.SSC_BUILD_DATE ?? '' }));
    return 0;
  }
  if (cmd === 'run') return run(rest);
  if (cmd === 'demo') {
    const { runDemo } = await import('./demo.js');
    return runDemo();
  }
  console.error(`unknown command "${cmd}"\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof ConfigError ? `error: ${err.message}` : `error: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});

import { AudienceConfigError, parseAudienceList, parseProviderAudiences, type ProviderAudiences } from './tokens/audiences.js';

/**
 * Controller configuration: parsed once at the edge from flags (upstream's names and defaults, Go-style
 * `--flag=value` or `--flag value`) plus the downward-API environment, then injected as one object.
 */
export interface Config {
  providerVolume: string;
  rotationPollIntervalMs: number;
  tokenRequestAudiences: string[];
  providerTokenAudiences: ProviderAudiences;
  maxCallRecvMsgSize: number;
  providerTimeoutMs: number;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  releaseLeaseOnCancel: boolean;
  kubeconfig?: string;
  concurrent: number;
  controllerName: string;
  plugins: string[];
  pluginConfigFile?: string;
  hashKeyFile?: string;
  logLevel: string;
  podName: string;
  podUid: string;
  podNamespace: string;
}
export const Config = Symbol('Config');

interface FlagSpec {
  name: string;
  help: string;
  default?: string;
  boolean?: boolean;
  repeatable?: boolean;
}

export const FLAGS: FlagSpec[] = [
  { name: 'provider-volume', default: '/provider', help: 'Directory of provider sockets (<dir>/<provider>.sock).' },
  { name: 'rotation-poll-interval', default: '12h', help: 'How often each SecretSync is re-synced (with ±10% jitter); 0 turns polling off. Go duration: 30s, 5m, 12h.' },
  { name: 'token-request-audience', default: '', help: 'Comma-separated audiences; one ServiceAccount token per audience is passed to providers (trimmed).' },
  { name: 'provider-token-audiences', default: '', help: 'Per-provider audiences, "provider=aud1;aud2,provider2=aud3": a provider listed here gets only its own tokens.' },
  { name: 'max-call-recv-msg-size', default: '4194304', help: 'Maximum provider response size in bytes.' },
  { name: 'provider-timeout', default: '30s', help: 'Deadline of every provider call.' },
  { name: 'metrics-bind-address', default: ':8085', help: 'Address of the Prometheus metrics endpoint; 0 turns it off.' },
  { name: 'health-probe-bind-address', default: ':8081', help: 'Address of /healthz and /readyz; 0 turns it off.' },
  { name: 'leader-elect', boolean: true, default: 'false', help: 'Use a coordination.k8s.io Lease so that only one replica reconciles.' },
  { name: 'leader-election-namespace', default: '', help: 'Namespace of the Lease (default: the pod namespace).' },
  { name: 'leader-election-id', default: '29f1d54e.secret-sync.x-k8s.io', help: 'Name of the Lease.' },
  { name: 'leader-election-lease-duration', default: '15s', help: 'How long a standby waits before taking over an unrenewed Lease.' },
  { name: 'leader-election-renew-deadline', default: '10s', help: 'How long the leader keeps trying to renew before it gives up leadership.' },
  { name: 'leader-election-retry-period', default: '2s', help: 'How often leader election acts (acquire, renew).' },
  { name: 'leader-election-release-on-cancel', boolean: true, default: 'true', help: 'Release the Lease on a graceful stop so a standby takes over at once.' },
  { name: 'kubeconfig', help: 'Path to a kubeconfig; default: KUBECONFIG, in-cluster config, ~/.kube/config.' },
  { name: 'concurrent', default: '4', help: 'Number of SecretSyncs reconciled at once.' },
  { name: 'controller-name', default: '', help: 'Handle only SecretSyncs whose spec.secretSyncControllerName equals this (sharding).' },
  { name: 'plugin', repeatable: true, help: 'In-process provider plugin (npm package name or path); repeatable.' },
  { name: 'plugin-config', help: 'YAML or JSON file with per-plugin options.' },
  { name: 'hash-key-file', help: 'File with the key of status.syncHash (keeps hashes stable across restarts); default a random key per start.' },
  { name: 'log-level', default: 'info', help: 'debug, info, warn or error.' },
];

/** Parses a Go duration ("1h30m", "45s", "250ms", "0") into milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * unit[m[2]];
    consumed = re.lastIndex;
  }
  if (!s || consumed !== s.length) throw new ConfigError(`invalid duration "${text}" (use e.g. 30s, 5m, 12h)`);
  return Math.round(total);
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Raw flag values from argv; unknown flags are an error naming the flag. */
export function parseArgs(argv: string[]): { values: Map<string, string[]>; positional: string[] } {
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) { positional.push(a); continue; }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = FLAGS.find((f) => f.name === name);
    if (!spec) throw new ConfigError(`unknown flag --${name} (see --help)`);
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else if (spec.boolean) value = 'true';
    else {
      if (i + 1 >= argv.length) throw new ConfigError(`flag --${name} needs a value`);
      value = argv[++i];
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  }
  return { values, positional };
}

export function buildConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs(argv);
  const get = (name: string): string => {
    const v = values.get(name);
    if (v && v.length) return v[v.length - 1];
    return FLAGS.find((f) => f.name === name)?.default ?? '';
  };
  const int = (name: string, min: number): number => {
    const n = Number(get(name));
    if (!Number.isInteger(n) || n < min) throw new ConfigError(`--${name} must be an integer >= ${min}, got "${get(name)}"`);
    return n;
  };
  const bool = (name: string): boolean => {
    const v = get(name);
    if (v === 'true' || v === '') return v === 'true';
    if (v === 'false') return false;
    throw new ConfigError(`--${name} must be true or false, got "${v}"`);
  };
  const level = get('log-level');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new ConfigError(`--log-level must be debug, info, warn or error, got "${level}"`);
  const controllerName = get('controller-name').trim();
  return {
    providerVolume: get('provider-volume'),
    rotationPollIntervalMs: parseDuration(get('rotation-poll-interval')),
    tokenRequestAudiences: parseAudienceList(get('token-request-audience')),
    providerTokenAudiences: providerAudiences(get('provider-token-audiences')),
    maxCallRecvMsgSize: int('max-call-recv-msg-size', 1024),
    providerTimeoutMs: parseDuration(get('provider-timeout')) || 30_000,
    metricsBindAddress: get('metrics-bind-address'),
    healthProbeBindAddress: get('health-probe-bind-address'),
    leaderElect: bool('leader-elect'),
    leaderElectionNamespace: get('leader-election-namespace') || env.SYNC_CONTROLLER_POD_NAMESPACE || 'default',
    leaderElectionId: get('leader-election-id'),
    leaseDurationMs: parseDuration(get('leader-election-lease-duration')),
    renewDeadlineMs: parseDuration(get('leader-election-renew-deadline')),
    retryPeriodMs: parseDuration(get('leader-election-retry-period')),
    releaseLeaseOnCancel: bool('leader-election-release-on-cancel'),
    kubeconfig: get('kubeconfig') || undefined,
    concurrent: int('concurrent', 1),
    controllerName,
    plugins: values.get('plugin') ?? [],
    pluginConfigFile: get('plugin-config') || undefined,
    hashKeyFile: get('hash-key-file') || undefined,
    logLevel: level,
    podName: env.SYNC_CONTROLLER_POD_NAME ?? '',
    podUid: env.SYNC_CONTROLLER_POD_UID ?? '',
    podNamespace: env.SYNC_CONTROLLER_POD_NAMESPACE ?? '',
  };
}

export function helpText(): string {
  const lines = FLAGS.map((f) => {
    const def = f.default !== undefined && f.default !== '' ? ` (default ${f.default})` : '';
    return `  --${f.name}${f.boolean ? '' : ' <value>'}${f.repeatable ? ' (repeatable)' : ''}\n      ${f.help}${def}`;
  });
  return lines.join('\n');
}

function providerAudiences(value: string): ProviderAudiences {
  try {
    return parseProviderAudiences(value);
  } catch (err) {
    if (err instanceof AudienceConfigError) throw new ConfigError(`--provider-token-audiences: ${err.message}`);
    throw err;
  }
}

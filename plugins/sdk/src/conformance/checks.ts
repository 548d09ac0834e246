/**
 * The conformance kit: checks a plugin against the provider contract, from the plugin author's own tests.
 *
 *   import { conformanceChecks } from '@secrets-sync/plugin-sdk/conformance';
 *   import plugin from '../src/index.js';
 *
 *   describe('conformance', () => {
 *     for (const check of conformanceChecks(plugin, { parameters: { objects: '- db-password' } })) {
 *       test(check.name, () => check.run());
 *     }
 *   });
 *
 * Each check rejects with an Error that says what the plugin did and what the contract wants. No test framework
 * is needed: `runConformance` runs them all and reports.
 */
import { describeError, isPluginError, type PluginErrorReason } from '../errors.js';
import { instantiatePlugin, isPlugin, PROVIDER_NAME_PATTERN } from '../define.js';
import { encodedResultSize, InvalidMountResultError, normalizeMountResult, type NormalizedResult } from '../result.js';
import type { Plugin, ProviderDefinition } from '../types.js';
import { checkSdkCompatibility, SDK_VERSION } from '../version.js';
import { testMountRequest, type TestRequestInit } from './request.js';

export interface ConformanceOptions {
  /** The plugin's options, as `--plugin-config` would give them. */
  options?: unknown;
  /** Check only this provider; default every provider of the plugin. */
  provider?: string;
  /** SecretProviderClass parameters the provider serves successfully. */
  parameters: Record<string, string>;
  /**
   * Tokens to send (audience -> JWT), when the provider needs them. They double as canaries: no error message
   * may contain them. Default: one canary audience.
   */
  tokens?: Record<string, string>;
  /** Namespace and ServiceAccount of the request; default `default` / `default`. */
  namespace?: string;
  serviceAccountName?: string;
  /** Parameter sets the provider must reject with SecretProviderClassMisconfigured. */
  misconfigured?: Record<string, string>[];
  /** Parameters naming an object the store does not have: must fail with RemoteSecretStoreFetchFailed. */
  notFound?: Record<string, string>;
  /** Response size limit (the controller's `--max-call-recv-msg-size`); default 4 MiB. */
  maxResponseBytes?: number;
  /** Whether two identical mounts return the same versions (default true; off for stores that version each read). */
  stableVersions?: boolean;
  /** How long a call may take; default 10 s. */
  timeoutMs?: number;
  /** How soon a call must settle after its signal aborts; default 1 s. */
  abortGraceMs?: number;
}

export interface ConformanceCheck {
  readonly name: string;
  run(): Promise<void>;
}

export class ConformanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

const CANARY_AUDIENCE = 'conformance-canary';

/**
 * The checks for `plugin`, in a sensible order (the `close()` check of each provider comes last). Providers that a
 * factory creates are known only after it ran: pass `provider` to get their checks one by one, else they are run
 * together in one check.
 */
export function conformanceChecks(plugin: unknown, options: ConformanceOptions): ConformanceCheck[] {
  const kit = new Kit(plugin, options);
  const checks = kit.pluginChecks();
  const names = kit.knownProviderNames();
  for (const name of names) checks.push(...kit.providerChecks(name));
  if (names.length === 0) {
    checks.push(
      check('providers: every provider passes the checks (factory)', async () => {
        const failures: string[] = [];
        for (const p of await kit.providers()) {
          for (const c of kit.providerChecks(p.name)) {
            await c.run().catch((err: unknown) => failures.push(`${c.name}: ${(err as Error | null)?.message ?? String(err)}`));
          }
        }
        if (failures.length) throw new ConformanceError(failures.join('\n'));
      }),
    );
  }
  return checks;
}

export interface ConformanceReport {
  passed: string[];
  failed: { name: string; message: string }[];
}

/** Runs every check, one by one (a factory's providers too, once it ran); never rejects. */
export async function runConformance(plugin: unknown, options: ConformanceOptions): Promise<ConformanceReport> {
  const kit = new Kit(plugin, options);
  const report: ConformanceReport = { passed: [], failed: [] };
  const run = async (c: ConformanceCheck): Promise<void> => {
    try {
      await c.run();
      report.passed.push(c.name);
    } catch (err) {
      report.failed.push({ name: c.name, message: (err as Error | null)?.message ?? String(err) });
    }
  };
  for (const c of kit.pluginChecks()) await run(c);
  let names = kit.knownProviderNames();
  if (names.length === 0) names = await kit.providers().then((ps) => ps.map((p) => p.name), () => []);
  for (const name of names) for (const c of kit.providerChecks(name)) await run(c);
  return report;
}

/** Runs every check and rejects with one ConformanceError listing the failures. */
export async function assertConformance(plugin: unknown, options: ConformanceOptions): Promise<void> {
  const { failed } = await runConformance(plugin, options);
  if (failed.length) {
    throw new ConformanceError(`${failed.length} conformance check(s) failed:\n${failed.map((f) => `- ${f.name}: ${f.message}`).join('\n')}`);
  }
}

function check(name: string, run: () => Promise<void> | void): ConformanceCheck {
  return { name, run: async () => run() };
}

class Kit {
  private instantiated: Promise<ProviderDefinition[]> | undefined;
  private readonly tokens: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly graceMs: number;

  constructor(
    private readonly plugin: unknown,
    private readonly o: ConformanceOptions,
  ) {
    this.tokens = o.tokens ?? { [CANARY_AUDIENCE]: `canary.${Math.random().toString(36).slice(2)}.token` };
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.graceMs = o.abortGraceMs ?? 1000;
  }

  pluginChecks(): ConformanceCheck[] {
    return [
      check('plugin: made with definePlugin() for this SDK major', () => this.checkPlugin()),
      check('plugin: options are accepted and providers have valid, unique names', async () => {
        await this.providers();
      }),
    ];
  }

  checkPlugin(): void {
    if (!isPlugin(this.plugin)) {
      throw new ConformanceError('the value is not a plugin: default-export definePlugin({ name, version, providers })');
    }
    const { compatible, note } = checkSdkCompatibility(this.plugin.sdkVersion, SDK_VERSION);
    if (!compatible) throw new ConformanceError(`the plugin cannot load on this SDK: ${note}`);
    if (!/^\d+\.\d+\.\d+/.test(this.plugin.version)) {
      throw new ConformanceError(`the plugin version ${JSON.stringify(this.plugin.version)} is not semver (MAJOR.MINOR.PATCH)`);
    }
  }

  /** Provider names known without running a factory: the declared list, or the `provider` option. */
  knownProviderNames(): string[] {
    if (!isPlugin(this.plugin)) return [];
    if (!Array.isArray(this.plugin.providers)) return this.o.provider ? [this.o.provider] : [];
    const names = (this.plugin.providers as ProviderDefinition[]).map((p) => p?.name).filter((n) => typeof n === 'string');
    return this.o.provider ? names.filter((n) => n === this.o.provider) : names;
  }

  providers(): Promise<ProviderDefinition[]> {
    this.instantiated ??= (async () => {
      this.checkPlugin();
      const all = await instantiatePlugin(this.plugin as Plugin, { options: this.o.options });
      const chosen = this.o.provider ? all.filter((p) => p.name === this.o.provider) : all;
      if (chosen.length === 0) throw new ConformanceError(`the plugin has no provider named "${this.o.provider}"`);
      return chosen;
    })();
    return this.instantiated;
  }

  private async provider(name: string): Promise<ProviderDefinition> {
    const p = (await this.providers()).find((x) => x.name === name);
    if (!p) throw new ConformanceError(`provider "${name}" is missing after instantiation`);
    return p;
  }

  providerChecks(name: string): ConformanceCheck[] {
    const base: TestRequestInit = {
      parameters: this.o.parameters,
      tokens: this.tokens,
      namespace: this.o.namespace,
      serviceAccountName: this.o.serviceAccountName,
    };
    const checks: ConformanceCheck[] = [
      check(`${name}: name matches ${PROVIDER_NAME_PATTERN.source}`, () => {
        if (!PROVIDER_NAME_PATTERN.test(name)) throw new ConformanceError(`invalid provider name "${name}"`);
      }),
      check(`${name}: mount returns safe file paths and non-empty object versions`, async () => {
        await this.mountOk(name, base);
      }),
      check(`${name}: attributes: unknown parameters and the CSI driver's extra attributes are tolerated`, async () => {
        const a = await this.mountOk(name, base);
        const b = await this.mountOk(name, {
          ...base,
          parameters: { ...this.o.parameters, 'conformance.example.com/unknown': 'ignored' },
          extraAttributes: { 'csi.storage.k8s.io/ephemeral': 'false', secretProviderClass: 'conformance' },
        });
        sameShape(a, b, 'with extra attributes');
      }),
      check(`${name}: object versions: stable across identical mounts, currentObjectVersions accepted`, async () => {
        const a = await this.mountOk(name, base);
        const b = await this.mountOk(name, { ...base, currentObjectVersions: a.objectVersions });
        sameShape(a, b, 'with currentObjectVersions');
        if (this.o.stableVersions !== false && JSON.stringify(a.objectVersions) !== JSON.stringify(b.objectVersions)) {
          throw new ConformanceError(
            'two identical mounts returned different object versions; a version must change only when the content does ' +
              '(set stableVersions: false if the store versions every read)',
          );
        }
      }),
      check(`${name}: concurrent mounts are independent`, async () => {
        const results = await Promise.all([0, 1, 2, 3, 4].map(() => this.mountOk(name, base)));
        for (const r of results.slice(1)) sameShape(results[0]!, r, 'in concurrent mounts');
      }),
      check(`${name}: errors: empty parameters fail with a typed error (or succeed)`, async () => {
        await this.expectTypedFailure(name, { ...base, parameters: {} }, undefined, true);
      }),
      ...(this.o.misconfigured ?? []).map((parameters, i) =>
        check(`${name}: errors: misconfigured parameters #${i + 1} fail with SecretProviderClassMisconfigured`, async () => {
          await this.expectTypedFailure(name, { ...base, parameters }, 'SecretProviderClassMisconfigured');
        }),
      ),
      ...(this.o.notFound
        ? [
            check(`${name}: errors: a missing object fails with RemoteSecretStoreFetchFailed`, async () => {
              await this.expectTypedFailure(name, { ...base, parameters: this.o.notFound }, 'RemoteSecretStoreFetchFailed');
            }),
          ]
        : []),
      check(`${name}: cancellation: an already aborted signal rejects promptly`, async () => {
        const abort = new AbortController();
        abort.abort(new DOMException('conformance: aborted before the call', 'AbortError'));
        const outcome = await this.call(name, { ...base, signal: abort.signal }, this.graceMs);
        if (outcome.kind === 'timeout') {
          throw new ConformanceError(`mount did not settle within ${this.graceMs} ms of an aborted signal; check request.signal`);
        }
        if (outcome.kind === 'resolved') {
          throw new ConformanceError('mount resolved although its signal was aborted; call request.signal.throwIfAborted() or pass the signal to your I/O');
        }
      }),
      check(`${name}: cancellation: aborting during the call settles it promptly`, async () => {
        await this.provider(name);
        const abort = new AbortController();
        const pending = this.call(name, { ...base, signal: abort.signal }, this.timeoutMs);
        await new Promise((resolve) => setTimeout(resolve, 1));
        abort.abort(new DOMException('conformance: aborted during the call', 'AbortError'));
        const settled = await withTimeout(pending, this.graceMs);
        if (settled === TIMEOUT || settled.kind === 'timeout') {
          throw new ConformanceError(`mount did not settle within ${this.graceMs} ms after its signal aborted; check request.signal`);
        }
      }),
    ];
    checks.push(
      check(`${name}: close() resolves (when defined)`, async () => {
        const p = await this.provider(name);
        if (!p.close) return;
        const settled = await withTimeout(Promise.resolve().then(() => p.close!()), this.timeoutMs);
        if (settled === TIMEOUT) throw new ConformanceError(`close() did not settle within ${this.timeoutMs} ms`);
      }),
    );
    return checks;
  }

  private async call(name: string, init: TestRequestInit, timeoutMs: number): Promise<Outcome> {
    const p = await this.provider(name);
    const request = testMountRequest({ ...init, deadline: Date.now() + timeoutMs });
    const settled = await withTimeout(
      Promise.resolve()
        .then(() => p.mount(request))
        .then(
          (value): Outcome => ({ kind: 'resolved', value }),
          (error: unknown): Outcome => ({ kind: 'rejected', error }),
        ),
      timeoutMs,
    );
    return settled === TIMEOUT ? { kind: 'timeout' } : settled;
  }

  private async mountOk(name: string, init: TestRequestInit): Promise<NormalizedResult> {
    const outcome = await this.call(name, init, this.timeoutMs);
    if (outcome.kind === 'timeout') throw new ConformanceError(`mount did not settle within ${this.timeoutMs} ms`);
    if (outcome.kind === 'rejected') {
      throw new ConformanceError(`mount failed with the conformance parameters: ${errorSummary(outcome.error)}`);
    }
    let result: NormalizedResult;
    try {
      result = normalizeMountResult(outcome.value);
    } catch (err) {
      if (err instanceof InvalidMountResultError) throw new ConformanceError(`invalid result: ${err.message}`);
      throw err;
    }
    const paths = result.files.map((f) => f.path);
    const dupPath = paths.find((p, i) => paths.indexOf(p) !== i);
    if (dupPath !== undefined) throw new ConformanceError(`file path ${JSON.stringify(dupPath)} is returned twice`);
    const ids = result.objectVersions.map((v) => v.id);
    if (ids.some((id) => id === '')) throw new ConformanceError('an object version has an empty id');
    const dupId = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dupId !== undefined) throw new ConformanceError(`object version id ${JSON.stringify(dupId)} is returned twice`);
    const size = encodedResultSize(result);
    const max = this.o.maxResponseBytes ?? 4 * 1024 * 1024;
    if (size > max) throw new ConformanceError(`the result is ${size} bytes on the wire, over the ${max}-byte limit`);
    this.checkNoTokens(JSON.stringify(result.objectVersions), 'object versions');
    return result;
  }

  private async expectTypedFailure(
    name: string,
    init: TestRequestInit,
    reason: PluginErrorReason | undefined,
    successAllowed = false,
  ): Promise<void> {
    const outcome = await this.call(name, init, this.timeoutMs);
    if (outcome.kind === 'timeout') throw new ConformanceError(`mount did not settle within ${this.timeoutMs} ms`);
    if (outcome.kind === 'resolved') {
      if (successAllowed) return;
      throw new ConformanceError(`mount succeeded; expected it to fail with ${reason}`);
    }
    const err = outcome.error;
    if (!isPluginError(err)) {
      throw new ConformanceError(
        `mount threw an untyped ${errorSummary(err)}; throw ProviderError, RemoteSecretStoreFetchFailed or ` +
          'SecretProviderClassMisconfigured from @secrets-sync/plugin-sdk so users see the right condition reason',
      );
    }
    if (reason && err.reason !== reason) {
      throw new ConformanceError(`mount failed with ${err.reason} ("${err.message}"); expected ${reason}`);
    }
    if (err.message.trim() === '') throw new ConformanceError(`mount failed with ${err.reason} and an empty message`);
    this.checkNoTokens(err.message, 'the error message');
  }

  private checkNoTokens(text: string, where: string): void {
    for (const [audience, token] of Object.entries(this.tokens)) {
      if (token.length >= 8 && text.includes(token)) {
        throw new ConformanceError(`${where} contains the ServiceAccount token of audience "${audience}"`);
      }
    }
  }
}

type Outcome = { kind: 'resolved'; value: unknown } | { kind: 'rejected'; error: unknown } | { kind: 'timeout' };

const TIMEOUT = Symbol('timeout');

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMEOUT), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sameShape(a: NormalizedResult, b: NormalizedResult, when: string): void {
  const shape = (r: NormalizedResult) => JSON.stringify({ paths: r.files.map((f) => f.path), ids: r.objectVersions.map((v) => v.id) });
  if (shape(a) !== shape(b)) {
    throw new ConformanceError(`${when}, the provider returned other files or object ids: ${shape(b)} instead of ${shape(a)}`);
  }
}

function errorSummary(err: unknown): string {
  if (isPluginError(err)) return `${err.reason}: ${err.message}`;
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') return describeError(err);
  return `non-Error value ${String(err)}`;
}

/**
 * Token audiences: the global list (`--token-request-audience`, upstream's flag) and the per-provider
 * mapping (upstream issue #218), parsed once at the edge into plain lists.
 *
 * Global list syntax: `aud1,aud2` (upstream's). Unlike upstream, each audience is trimmed, empty ones are
 * dropped and duplicates removed, so the chart's `", "` join works.
 *
 * Per-provider syntax: `provider=aud1;aud2,provider2=aud3,provider3=`
 * - entries are separated by `,`; an entry is `<provider>=<audiences>`, split at its first `=`;
 * - audiences are separated by `;`, trimmed, empty ones dropped, duplicates removed; an audience may
 *   contain `=` but not `,` or `;`;
 * - `provider=` with no audience means "no token for this provider", even when the global list is set;
 * - a provider not listed uses the global list;
 * - whitespace around any part is ignored, and so are empty entries (a trailing `,`);
 * - errors (`AudienceConfigError`): an entry without `=`, a provider name that does not match
 *   `^[a-zA-Z0-9_-]{1,30}$`, a provider listed twice.
 */
export class AudienceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AudienceConfigError';
  }
}

export type ProviderAudiences = ReadonlyMap<string, readonly string[]>;

const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,30}$/;

/** Trims, drops empty audiences and removes duplicates, keeping first-seen order. */
export function normalizeAudiences(audiences: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const raw of audiences) {
    const audience = raw.trim();
    if (audience !== '') seen.add(audience);
  }
  return [...seen];
}

/** Parses the global `--token-request-audience` value (`aud1,aud2`); `''` gives no audiences. */
export function parseAudienceList(value: string): string[] {
  return normalizeAudiences(value.split(','));
}

/** Parses the per-provider value (syntax in the module comment); `''` gives an empty mapping. */
export function parseProviderAudiences(value: string): ProviderAudiences {
  const result = new Map<string, readonly string[]>();
  for (const rawEntry of value.split(',')) {
    const entry = rawEntry.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq < 0) {
      throw new AudienceConfigError(`invalid per-provider audience entry "${entry}": expected <provider>=<aud1>;<aud2>`);
    }
    const provider = entry.slice(0, eq).trim();
    if (!PROVIDER_NAME.test(provider)) {
      throw new AudienceConfigError(
        `invalid provider name "${provider}" in per-provider audience entry "${entry}": must match ${PROVIDER_NAME.source}`,
      );
    }
    if (result.has(provider)) {
      throw new AudienceConfigError(`provider "${provider}" is listed more than once in the per-provider audiences`);
    }
    result.set(provider, normalizeAudiences(entry.slice(eq + 1).split(';')));
  }
  return result;
}

/** The audiences to request for `provider`: its own list when configured (possibly empty), else the global list. */
export function audiencesFor(provider: string, global: readonly string[], perProvider: ProviderAudiences): readonly string[] {
  return perProvider.get(provider) ?? global;
}

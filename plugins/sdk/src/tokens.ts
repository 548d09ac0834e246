/**
 * ServiceAccount tokens, parsed per audience from the `csi.storage.k8s.io/serviceAccount.tokens` attribute
 * (`{"<audience>":{"token":"<jwt>","expirationTimestamp":"<RFC 3339>"}}`, the format of kubelet, the CSI driver and
 * the controller). The controller requests one token per audience from `--token-request-audience` (or the
 * provider's own audiences from `--provider-token-audiences`) for the ServiceAccount the SecretSync names.
 * A token is a credential: never log it or put it in an error message.
 */
import { ProviderError } from './errors.js';

export interface ServiceAccountToken {
  /** The JWT. */
  readonly token: string;
  /** As received (RFC 3339). */
  readonly expirationTimestamp: string;
  /** `expirationTimestamp` parsed; an invalid date when it does not parse. */
  readonly expiresAt: Date;
}

/** Tokens keyed by audience. Empty when the controller is configured with no audience for this provider. */
export type ServiceAccountTokens = Readonly<Record<string, ServiceAccountToken>>;

/**
 * Parses the tokens attribute (undefined or empty: no tokens). A malformed value is a ProviderError (code
 * InvalidArgument) whose message never contains the value.
 */
export function parseTokens(value: string | undefined): ServiceAccountTokens {
  if (value === undefined || value === '') return Object.freeze({});
  let doc: unknown;
  try {
    doc = JSON.parse(value);
  } catch {
    throw new ProviderError('the serviceAccount.tokens attribute is not valid JSON', { code: 'InvalidArgument' });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ProviderError('the serviceAccount.tokens attribute is not a JSON object', { code: 'InvalidArgument' });
  }
  const tokens: Record<string, ServiceAccountToken> = {};
  for (const [audience, entry] of Object.entries(doc)) {
    const e = entry as { token?: unknown; expirationTimestamp?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.token !== 'string' || e.token === '') {
      throw new ProviderError(`the serviceAccount.tokens attribute has no token for audience ${JSON.stringify(audience)}`, {
        code: 'InvalidArgument',
      });
    }
    const expirationTimestamp = typeof e.expirationTimestamp === 'string' ? e.expirationTimestamp : '';
    Object.defineProperty(tokens, audience, {
      value: Object.freeze({ token: e.token, expirationTimestamp, expiresAt: new Date(expirationTimestamp) }),
      enumerable: true,
    });
  }
  return Object.freeze(tokens);
}

/**
 * The token for `audience`, or a ProviderError (code Unauthenticated) that tells the operator which flag to set.
 */
export function requireToken(tokens: ServiceAccountTokens, audience: string): ServiceAccountToken {
  const token = Object.hasOwn(tokens, audience) ? tokens[audience] : undefined;
  if (!token) {
    throw new ProviderError(
      `no ServiceAccount token for audience "${audience}": configure the controller with --token-request-audience=${audience} ` +
        'or --provider-token-audiences',
      { code: 'Unauthenticated' },
    );
  }
  return token;
}

/** Serialises tokens back into the attribute format (for tests and the conformance kit). */
export function tokensAttributeValue(tokens: Readonly<Record<string, { token: string; expirationTimestamp: string }>>): string {
  const entries = Object.keys(tokens)
    .sort()
    .map((aud) => [aud, { token: tokens[aud]!.token, expirationTimestamp: tokens[aud]!.expirationTimestamp }]);
  return JSON.stringify(Object.fromEntries(entries));
}

/** The MountRequest attribute that carries ServiceAccount tokens (kubelet's and the CSI driver's key). */
export const SERVICE_ACCOUNT_TOKENS_ATTRIBUTE = 'csi.storage.k8s.io/serviceAccount.tokens';

/** One audience's token, in the shape of a TokenRequest status. */
export interface ServiceAccountToken {
  /** The JWT. Secret: never log it or put it in an error, event, status or metric. */
  readonly token: string;
  /** RFC 3339, UTC, whole seconds (`2025-01-01T00:10:00Z`), as Go's `metav1.Time` marshals it. */
  readonly expirationTimestamp: string;
}

/** Tokens keyed by audience. */
export type ServiceAccountTokens = Readonly<Record<string, ServiceAccountToken>>;

/**
 * The attributes to merge into a MountRequest: `{}` when there is no token (upstream adds no attribute
 * without audiences), else `{"csi.storage.k8s.io/serviceAccount.tokens": "<json>"}` where the JSON is
 * `{"<aud>":{"token":"<jwt>","expirationTimestamp":"<RFC3339>"}}`, byte-for-byte what upstream's Go
 * `json.Marshal(map[string]TokenRequestStatus)` writes: keys sorted by bytes, `<`, `>`, `&`, U+2028 and
 * U+2029 escaped.
 */
export function tokensAttribute(tokens: ServiceAccountTokens): Record<string, string> {
  const audiences = Object.keys(tokens).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  if (audiences.length === 0) return {};
  const value = Object.fromEntries(
    audiences.map((aud) => [aud, { token: tokens[aud]!.token, expirationTimestamp: tokens[aud]!.expirationTimestamp }]),
  );
  return { [SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]: goJsonEscape(JSON.stringify(value)) };
}

const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's encoding/json HTML-safe escaping; these characters can only occur inside JSON strings. */
function goJsonEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]!);
}

import { SERVICE_ACCOUNT_TOKENS_ATTRIBUTE, tokensAttribute } from './tokens-attribute.js';

const EXP = '2025-01-01T00:10:00Z';

describe('tokensAttribute', () => {
  it('adds no attribute without tokens', () => {
    expect(tokensAttribute({})).toEqual({});
  });

  it('writes the upstream JSON for a named audience', () => {
    expect(tokensAttribute({ vault: { token: 'jwt-1', expirationTimestamp: EXP } })).toEqual({
      'csi.storage.k8s.io/serviceAccount.tokens': '{"vault":{"token":"jwt-1","expirationTimestamp":"2025-01-01T00:10:00Z"}}',
    });
    expect(SERVICE_ACCOUNT_TOKENS_ATTRIBUTE).toBe('csi.storage.k8s.io/serviceAccount.tokens');
  });

  it('writes the "" audience key as given (the API server default audience in kubelet terms)', () => {
    expect(tokensAttribute({ '': { token: 't', expirationTimestamp: EXP } })[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]).toBe(
      '{"":{"token":"t","expirationTimestamp":"2025-01-01T00:10:00Z"}}',
    );
  });

  it('sorts audiences like Go map keys and escapes like Go encoding/json', () => {
    const value = tokensAttribute({
      'sts.amazonaws.com': { token: 'b', expirationTimestamp: EXP },
      'api://x?a=1&b=<2>': { token: 'a', expirationTimestamp: EXP },
    })[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]!;
    expect(value).toBe(
      '{"api://x?a=1\\u0026b=\\u003c2\\u003e":{"token":"a","expirationTimestamp":"2025-01-01T00:10:00Z"},' +
        '"sts.amazonaws.com":{"token":"b","expirationTimestamp":"2025-01-01T00:10:00Z"}}',
    );
    expect(Object.keys(JSON.parse(value) as object)).toEqual(['api://x?a=1&b=<2>', 'sts.amazonaws.com']);
  });

  it('carries only token and expirationTimestamp', () => {
    const extra = { token: 't', expirationTimestamp: EXP, secretOther: 'x' };
    expect(tokensAttribute({ a: extra })[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]).toBe(
      '{"a":{"token":"t","expirationTimestamp":"2025-01-01T00:10:00Z"}}',
    );
  });
});

import {
  MountAttributes,
  POD_NAME_ATTRIBUTE,
  POD_NAMESPACE_ATTRIBUTE,
  POD_UID_ATTRIBUTE,
  SERVICE_ACCOUNT_NAME_ATTRIBUTE,
  SERVICE_ACCOUNT_TOKENS_ATTRIBUTE,
} from './attributes.js';
import { SecretProviderClassMisconfigured } from './errors.js';
import { parseTokens, requireToken, tokensAttributeValue } from './tokens.js';

const raw = {
  objects: '- foo',
  flag: 'TRUE',
  json: '{"a":[1,2]}',
  [POD_NAME_ATTRIBUTE]: 'controller-0',
  [POD_UID_ATTRIBUTE]: 'uid-1',
  [POD_NAMESPACE_ATTRIBUTE]: 'team-a',
  [SERVICE_ACCOUNT_NAME_ATTRIBUTE]: 'app',
  'csi.storage.k8s.io/ephemeral': 'false',
  [SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]: '{"aud":{"token":"jwt","expirationTimestamp":"2030-01-01T00:00:00Z"}}',
};

describe('MountAttributes', () => {
  test('splits well-known pod and ServiceAccount keys from the SPC parameters and drops the tokens', () => {
    const a = new MountAttributes(raw);
    expect(a).toMatchObject({ podName: 'controller-0', podUid: 'uid-1', podNamespace: 'team-a', serviceAccountName: 'app' });
    expect(a.parameters).toEqual({ objects: '- foo', flag: 'TRUE', json: '{"a":[1,2]}' });
    expect(Object.keys(a.all)).not.toContain(SERVICE_ACCOUNT_TOKENS_ATTRIBUTE);
    expect(a.all['csi.storage.k8s.io/ephemeral']).toBe('false');
    expect(Object.isFrozen(a.parameters) && Object.isFrozen(a.all) && Object.isFrozen(a)).toBe(true);
  });

  test('missing well-known keys are empty strings', () => {
    expect(new MountAttributes({})).toMatchObject({ podName: '', podNamespace: '', podUid: '', serviceAccountName: '' });
  });

  test('get / require / json / boolean, with SecretProviderClassMisconfigured that never echoes values', () => {
    const a = new MountAttributes({ ...raw, blank: '  ', badjson: '{secret-value' });
    expect(a.get('objects')).toBe('- foo');
    expect(a.get('toString')).toBeUndefined();
    expect(a.get(POD_NAME_ATTRIBUTE)).toBeUndefined(); // parameters only
    expect(a.require('objects')).toBe('- foo');
    expect(() => a.require('missing')).toThrow(new SecretProviderClassMisconfigured('parameter "missing" is not set in the SecretProviderClass'));
    expect(() => a.require('blank')).toThrow(SecretProviderClassMisconfigured);
    expect(a.json('json')).toEqual({ a: [1, 2] });
    expect(a.json('missing')).toBeUndefined();
    expect(() => a.json('badjson')).toThrow('parameter "badjson" is not valid JSON');
    expect(a.boolean('flag')).toBe(true);
    expect(a.boolean('missing', true)).toBe(true);
    expect(() => a.boolean('objects')).toThrow('parameter "objects" must be true or false');
  });

  test('a "__proto__" attribute stays an ordinary key', () => {
    const a = new MountAttributes(JSON.parse('{"__proto__": "x", "objects": "y"}') as Record<string, string>);
    expect(a.get('__proto__')).toBe('x');
    expect(Object.getPrototypeOf(a.parameters)).toBe(Object.prototype);
  });

  test('a non-string attribute is a TypeError', () => {
    expect(() => new MountAttributes({ n: 1 } as unknown as Record<string, string>)).toThrow(TypeError);
  });
});

describe('ServiceAccount tokens', () => {
  test('parse per audience with the expiry as a Date', () => {
    const tokens = parseTokens(raw[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]);
    expect(Object.keys(tokens)).toEqual(['aud']);
    expect(tokens.aud).toEqual({ token: 'jwt', expirationTimestamp: '2030-01-01T00:00:00Z', expiresAt: new Date('2030-01-01T00:00:00Z') });
    expect(Object.isFrozen(tokens)).toBe(true);
  });

  test('no attribute means no tokens', () => {
    expect(parseTokens(undefined)).toEqual({});
    expect(parseTokens('')).toEqual({});
  });

  test('malformed values are ProviderErrors that never contain the value', () => {
    for (const bad of ['{not json secret-jwt', '["secret-jwt"]', '{"aud":{"token":""}}', '{"aud":"secret-jwt"}']) {
      let err: unknown;
      try {
        parseTokens(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ reason: 'ProviderError', code: 'InvalidArgument' });
      expect((err as Error).message).not.toContain('secret-jwt');
    }
  });

  test('requireToken names the audience and the flags to set', () => {
    const tokens = parseTokens(raw[SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]);
    expect(requireToken(tokens, 'aud').token).toBe('jwt');
    expect(() => requireToken(tokens, 'vault')).toThrow(/no ServiceAccount token for audience "vault": configure the controller with --token-request-audience=vault/);
    expect(() => requireToken(tokens, 'constructor')).toThrow(/audience "constructor"/);
  });

  test('tokensAttributeValue round-trips', () => {
    const value = tokensAttributeValue({ b: { token: 't2', expirationTimestamp: 'x' }, a: { token: 't1', expirationTimestamp: 'y' } });
    expect(value).toBe('{"a":{"token":"t1","expirationTimestamp":"y"},"b":{"token":"t2","expirationTimestamp":"x"}}');
    expect(parseTokens(value).b!.token).toBe('t2');
  });
});

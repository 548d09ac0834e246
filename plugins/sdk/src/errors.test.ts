import {
  isAbortError,
  isPluginError,
  PLUGIN_ERROR_BRAND,
  ProviderError,
  RemoteSecretStoreFetchFailed,
  SecretProviderClassMisconfigured,
} from './errors.js';

describe('typed plugin errors', () => {
  test('carry the condition reason, a default gRPC code and the class name', () => {
    const cases = [
      [new ProviderError('store down'), 'ProviderError', 'Unknown'],
      [new RemoteSecretStoreFetchFailed('no such object'), 'RemoteSecretStoreFetchFailed', 'NotFound'],
      [new SecretProviderClassMisconfigured('objects is not set'), 'SecretProviderClassMisconfigured', 'InvalidArgument'],
    ] as const;
    for (const [err, reason, code] of cases) {
      expect(err).toBeInstanceOf(Error);
      expect(err.reason).toBe(reason);
      expect(err.code).toBe(code);
      expect(err.name).toBe(err.constructor.name);
      expect(isPluginError(err)).toBe(true);
    }
  });

  test('take a chosen code and a cause', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new ProviderError('store unreachable', { code: 'Unavailable', cause });
    expect(err.code).toBe('Unavailable');
    expect(err.cause).toBe(cause);
  });

  test('are recognised across SDK copies by the registered brand, and plain errors are not', () => {
    const fromOtherCopy = Object.assign(new Error('x'), { [Symbol.for('secrets-sync.plugin-sdk.error')]: true, reason: 'ProviderError', code: 'NotFound' });
    expect(PLUGIN_ERROR_BRAND).toBe(Symbol.for('secrets-sync.plugin-sdk.error'));
    expect(isPluginError(fromOtherCopy)).toBe(true);
    expect(isPluginError(new Error('x'))).toBe(false);
    expect(isPluginError({ ...fromOtherCopy, reason: 'ControllerPatchError' })).toBe(false);
    expect(isPluginError({ ...fromOtherCopy, code: 'Teapot' })).toBe(false);
    expect(isPluginError('ProviderError')).toBe(false);
    expect(isPluginError(null)).toBe(false);
  });

  test('isAbortError knows AbortError, TimeoutError and the signal reason', () => {
    const c = new AbortController();
    const reason = { custom: true };
    c.abort(reason);
    expect(isAbortError(reason, c.signal)).toBe(true);
    expect(isAbortError(new DOMException('x', 'AbortError'))).toBe(true);
    expect(isAbortError(AbortSignal.timeout(0).reason ?? new DOMException('t', 'TimeoutError'))).toBe(true);
    expect(isAbortError(new Error('x'))).toBe(false);
  });
});

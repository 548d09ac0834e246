import 'reflect-metadata';
import { container } from 'tsyringe';
import { ControllerSyncError } from '../errors.js';
import { Clock } from '../ports/clock.js';
import { FakeClock } from '../testing/fake-clock.js';
import { FakeTokenRequester } from '../testing/fake-token-requester.js';
import {
  formatRfc3339,
  parseRfc3339,
  TokenRequester,
  TokenSource,
  type RequestedToken,
  type TokenRefreshFailure,
} from './token-source.js';
import { SERVICE_ACCOUNT_TOKENS_ATTRIBUTE, tokensAttribute } from './tokens-attribute.js';

const S = 1000;

function setup() {
  const clock = new FakeClock();
  const requester = new FakeTokenRequester(clock);
  const failures: TokenRefreshFailure[] = [];
  const source = new TokenSource(requester, clock, { onRefreshError: (f) => failures.push(f) });
  const signal = new AbortController().signal;
  return { clock, requester, failures, source, signal };
}

async function catchError(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('TokenSource', () => {
  it('requests one 600 s token per audience, trimmed, without empty or duplicate audiences', async () => {
    const { requester, source, signal } = setup();
    const tokens = await source.tokensFor('ns', 'sa', [' vault ', '', 'aws', 'vault', '  '], signal);
    expect(requester.requests.map((r) => [r.namespace, r.serviceAccount, r.audience, r.expirationSeconds])).toEqual([
      ['ns', 'sa', 'vault', 600],
      ['ns', 'sa', 'aws', 600],
    ]);
    expect(tokens).toEqual({
      vault: { token: 'fake-token/ns/sa/vault/1', expirationTimestamp: '2025-01-01T00:10:00Z' },
      aws: { token: 'fake-token/ns/sa/aws/2', expirationTimestamp: '2025-01-01T00:10:00Z' },
    });
  });

  it.each([[[]], [['']], [[' ', '']]])('makes no request and adds no attribute for audiences %j', async (audiences) => {
    const { requester, source, signal } = setup();
    const tokens = await source.tokensFor('ns', 'sa', audiences, signal);
    expect(tokens).toEqual({});
    expect(tokensAttribute(tokens)).toEqual({});
    expect(requester.requests).toHaveLength(0);
  });

  it('produces the upstream attribute for a named audience', async () => {
    const { source, signal } = setup();
    const attrs = tokensAttribute(await source.tokensFor('ns', 'sa', ['vault'], signal));
    expect(attrs).toEqual({
      [SERVICE_ACCOUNT_TOKENS_ATTRIBUTE]:
        '{"vault":{"token":"fake-token/ns/sa/vault/1","expirationTimestamp":"2025-01-01T00:10:00Z"}}',
    });
  });

  it('reuses the cached token before 80 % of its lifetime and refreshes at 80 %', async () => {
    const { clock, requester, source, signal } = setup();
    const first = await source.tokensFor('ns', 'sa', ['vault'], signal);
    await clock.advance(479 * S);
    expect(await source.tokensFor('ns', 'sa', ['vault'], signal)).toEqual(first);
    expect(requester.requests).toHaveLength(1);
    await clock.advance(1 * S);
    const second = await source.tokensFor('ns', 'sa', ['vault'], signal);
    expect(requester.requests).toHaveLength(2);
    expect(second.vault!.token).toBe('fake-token/ns/sa/vault/2');
    expect(second.vault!.expirationTimestamp).toBe('2025-01-01T00:18:00Z');
  });

  it('caches per namespace, service account and audience', async () => {
    const { requester, source, signal } = setup();
    await source.tokensFor('ns', 'sa', ['a'], signal);
    await source.tokensFor('ns', 'sa', ['a', 'b'], signal);
    await source.tokensFor('ns', 'other', ['a'], signal);
    await source.tokensFor('ns2', 'sa', ['a'], signal);
    expect(requester.requests.map((r) => `${r.namespace}/${r.serviceAccount}/${r.audience}`)).toEqual([
      'ns/sa/a',
      'ns/sa/b',
      'ns/other/a',
      'ns2/sa/a',
    ]);
    expect(source.size()).toBe(4);
  });

  it('returns the old token when a refresh fails while it is still valid, and reports without the token', async () => {
    const { clock, requester, failures, source, signal } = setup();
    const first = await source.tokensFor('ns', 'sa', ['vault'], signal);
    const oldToken = first.vault!.token;
    await clock.advance(500 * S);
    requester.failWith = new Error(`forbidden (echoing ${oldToken} and eyJhbGciOi.eyJzdWIi.c2ln)`);
    expect(await source.tokensFor('ns', 'sa', ['vault'], signal)).toEqual(first);
    expect(requester.requests).toHaveLength(2);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      namespace: 'ns',
      serviceAccount: 'sa',
      audience: 'vault',
      expirationTimestamp: '2025-01-01T00:10:00Z',
    });
    expect(failures[0]!.error).toContain('forbidden');
    expect(JSON.stringify(failures)).not.toContain(oldToken);
    expect(JSON.stringify(failures)).not.toContain('eyJ');
  });

  it('throws ControllerSyncError without any token when the refresh fails after expiry', async () => {
    const { clock, requester, source, signal } = setup();
    const oldToken = (await source.tokensFor('ns', 'sa', ['vault'], signal)).vault!.token;
    await clock.advance(600 * S);
    requester.failWith = new Error(`boom ${oldToken} eyJhbGciOi.eyJzdWIi.c2ln`);
    const err = await catchError(source.tokensFor('ns', 'sa', ['vault'], signal));
    expect(err).toBeInstanceOf(ControllerSyncError);
    expect((err as ControllerSyncError).reason).toBe('ControllerSyncError');
    expect(err.message).toBe(
      'failed to refresh the token for service account "ns/sa" with audience "vault", ' +
        'and the cached token expired at 2025-01-01T00:10:00Z: boom [redacted] [redacted]',
    );
    expect(err.message).not.toContain(oldToken);
    expect(err.cause).toBeUndefined();
  });

  it('throws ControllerSyncError when the first request fails', async () => {
    const { requester, source, signal } = setup();
    requester.failWith = new Error('serviceaccounts "sa" not found');
    const err = await catchError(source.tokensFor('ns', 'sa', ['vault'], signal));
    expect(err).toBeInstanceOf(ControllerSyncError);
    expect(err.message).toBe(
      'failed to request a token for service account "ns/sa" with audience "vault": serviceaccounts "sa" not found',
    );
  });

  it('rejects a response with no token or a bad expiry', async () => {
    const { clock, source, signal } = setup();
    const respond = (r: RequestedToken) =>
      new TokenSource({ request: async () => r }, clock).tokensFor('ns', 'sa', ['a'], signal);
    await expect(respond({ token: '', expirationTimestamp: '2025-01-01T00:10:00Z' })).rejects.toThrow(/has no token/);
    await expect(respond({ token: 't', expirationTimestamp: 'tomorrow' })).rejects.toThrow(/invalid expirationTimestamp/);
    expect(source.size()).toBe(0);
  });

  it('normalises the expiry to whole-second UTC RFC 3339', async () => {
    const clock = new FakeClock();
    const source = new TokenSource(
      { request: async () => ({ token: 't', expirationTimestamp: '2025-01-01T01:10:00.750+01:00' }) },
      clock,
    );
    const tokens = await source.tokensFor('ns', 'sa', ['a'], new AbortController().signal);
    expect(tokens.a!.expirationTimestamp).toBe('2025-01-01T00:10:00Z');
  });

  it('sweep drops expired tokens only', async () => {
    const { clock, source, signal } = setup();
    await source.tokensFor('ns', 'sa', ['a'], signal);
    await clock.advance(300 * S);
    await source.tokensFor('ns', 'sa', ['b'], signal);
    expect(source.sweep()).toBe(0);
    await clock.advance(300 * S);
    expect(source.sweep()).toBe(1);
    expect(source.size()).toBe(1);
    await clock.advance(300 * S);
    expect(source.sweep()).toBe(1);
    expect(source.size()).toBe(0);
  });

  it('start sweeps every minute until aborted', async () => {
    const { clock, source, signal } = setup();
    const stop = new AbortController();
    source.start(stop.signal);
    await source.tokensFor('ns', 'sa', ['a'], signal);
    // Sweeps run at 60 s, 120 s, ...; the token expires at 600 s, the sweep at 600 s drops it.
    await clock.advance(599 * S);
    expect(source.size()).toBe(1);
    await clock.advance(1 * S);
    expect(source.size()).toBe(0);
    stop.abort();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('shares one in-flight request between concurrent callers', async () => {
    const { clock, requester, source, signal } = setup();
    requester.hold();
    const a = source.tokensFor('ns', 'sa', ['vault'], signal);
    const b = source.tokensFor('ns', 'sa', [' vault', 'aws'], signal);
    await clock.flush();
    expect(requester.requests.map((r) => r.audience)).toEqual(['vault', 'aws']);
    requester.release();
    const [ta, tb] = await Promise.all([a, b]);
    expect(tb.vault).toEqual(ta.vault);
    expect(requester.requests).toHaveLength(2);
  });

  it('shares one failure report between concurrent callers of a failing refresh', async () => {
    const { clock, requester, failures, source, signal } = setup();
    const first = await source.tokensFor('ns', 'sa', ['vault'], signal);
    await clock.advance(500 * S);
    requester.failWith = new Error('unavailable');
    requester.hold();
    const calls = [1, 2, 3].map(() => source.tokensFor('ns', 'sa', ['vault'], signal));
    await clock.flush();
    requester.release();
    for (const tokens of await Promise.all(calls)) expect(tokens).toEqual(first);
    expect(requester.requests).toHaveLength(2);
    expect(failures).toHaveLength(1);
  });

  it('an aborted caller stops waiting; the request is aborted only when every caller has left', async () => {
    const { clock, requester, source } = setup();
    requester.hold();
    const c1 = new AbortController();
    const c2 = new AbortController();
    const p1 = source.tokensFor('ns', 'sa', ['vault'], c1.signal);
    const p2 = source.tokensFor('ns', 'sa', ['vault'], c2.signal);
    await clock.flush();
    c1.abort();
    await expect(p1).rejects.toThrow(/was aborted/);
    expect(requester.requests[0]!.signal.aborted).toBe(false);
    c2.abort();
    await expect(p2).rejects.toThrow(ControllerSyncError);
    expect(requester.requests[0]!.signal.aborted).toBe(true);
    // A new caller starts a new request.
    requester.release();
    await source.tokensFor('ns', 'sa', ['vault'], new AbortController().signal);
    expect(requester.requests).toHaveLength(2);
  });

  it('fails fast for an already aborted signal when a request is needed', async () => {
    const { requester, source } = setup();
    const c = new AbortController();
    c.abort();
    await expect(source.tokensFor('ns', 'sa', ['vault'], c.signal)).rejects.toThrow(/was aborted/);
    expect(requester.requests).toHaveLength(0);
  });

  it('requires a namespace and a service account when audiences are set', async () => {
    const { source, signal } = setup();
    await expect(source.tokensFor('ns', '', ['a'], signal)).rejects.toThrow(ControllerSyncError);
  });

  it('rejects bad options', () => {
    const { requester, clock } = setup();
    expect(() => new TokenSource(requester, clock, { expirationSeconds: 599 })).toThrow(RangeError);
    expect(() => new TokenSource(requester, clock, { refreshFraction: 0 })).toThrow(RangeError);
  });

  it('is resolvable from a container with TokenRequester and Clock registered', async () => {
    const clock = new FakeClock();
    const child = container.createChildContainer();
    child.register(Clock, { useValue: clock });
    child.register(TokenRequester, { useValue: new FakeTokenRequester(clock) });
    const source = child.resolve(TokenSource);
    const tokens = await source.tokensFor('ns', 'sa', ['a'], new AbortController().signal);
    expect(tokens.a!.token).toBe('fake-token/ns/sa/a/1');
  });
});

describe('RFC 3339 helpers', () => {
  it('parses RFC 3339 date-times only', () => {
    expect(parseRfc3339('2025-01-01T00:10:00Z')).toBe(Date.UTC(2025, 0, 1, 0, 10));
    expect(parseRfc3339('2025-01-01T01:10:00+01:00')).toBe(Date.UTC(2025, 0, 1, 0, 10));
    expect(parseRfc3339('2025-01-01')).toBeUndefined();
    expect(parseRfc3339('Wed, 01 Jan 2025 00:10:00 GMT')).toBeUndefined();
    expect(parseRfc3339(42)).toBeUndefined();
  });

  it('formats whole seconds in UTC', () => {
    expect(formatRfc3339(Date.UTC(2025, 0, 1, 0, 10, 0, 999))).toBe('2025-01-01T00:10:00Z');
  });
});

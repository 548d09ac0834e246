import { DEFAULT_MAX_DELAY_MS, ExponentialBackoffRateLimiter } from './rate-limiter.js';

describe('ExponentialBackoffRateLimiter', () => {
  it('starts at 5 ms and doubles per failure of the same key', () => {
    const limiter = new ExponentialBackoffRateLimiter();
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('keeps keys independent', () => {
    const limiter = new ExponentialBackoffRateLimiter();
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(2);
    expect(limiter.numRequeues('b')).toBe(1);
  });

  it('caps at 1000 s and never overflows', () => {
    const limiter = new ExponentialBackoffRateLimiter();
    const delays = Array.from({ length: 25 }, () => limiter.when('a'));
    // 5 * 2^17 = 655 360 ms is the last uncapped delay; 5 * 2^18 exceeds 1000 s.
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(DEFAULT_MAX_DELAY_MS);
    expect(DEFAULT_MAX_DELAY_MS).toBe(1_000_000);
    for (let i = 0; i < 3000; i++) limiter.when('a');
    expect(limiter.when('a')).toBe(DEFAULT_MAX_DELAY_MS);
  });

  it('forget resets the backoff', () => {
    const limiter = new ExponentialBackoffRateLimiter();
    limiter.when('a');
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
    limiter.forget('unknown');
  });

  it('is configurable', () => {
    const limiter = new ExponentialBackoffRateLimiter({ baseDelayMs: 100, maxDelayMs: 350 });
    expect([1, 2, 3, 4].map(() => limiter.when('a'))).toEqual([100, 200, 350, 350]);
  });

  it('rejects nonsense configuration', () => {
    expect(() => new ExponentialBackoffRateLimiter({ baseDelayMs: -1 })).toThrow(RangeError);
    expect(() => new ExponentialBackoffRateLimiter({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
    expect(() => new ExponentialBackoffRateLimiter({ maxDelayMs: Infinity })).toThrow(RangeError);
  });
});

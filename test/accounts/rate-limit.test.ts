import { describe, expect, it } from 'vitest';
import { leaseSize, TokenBucket } from '../../src/accounts/rate-limit';

/** The account's token bucket on a clock the test moves: `RateLimit` fields, refusals and refills without sleeping. */

const T0 = 1_800_000_000_000;

function takeAll(bucket: TokenBucket, n: number, at: number) {
  return Array.from({ length: n }, () => bucket.take(at));
}

describe('an account’s token bucket', () => {
  it('starts full: a minute’s worth at once, one fewer left after each request', () => {
    const bucket = new TokenBucket(600, T0);
    expect(takeAll(bucket, 3, T0).map((d) => [d.allowed, d.limit, d.remaining])).toEqual([
      [true, 600, 599],
      [true, 600, 598],
      [true, 600, 597],
    ]);
  });

  it('says when the next token comes back, in whole seconds and never 0', () => {
    // 600 a minute is one token every 100 ms: the next one is less than a second away.
    expect(new TokenBucket(600, T0).take(T0).reset_seconds).toBe(1);
    // 2 a minute is one every 30 s.
    expect(new TokenBucket(2, T0).take(T0).reset_seconds).toBe(30);
  });

  it('refuses once empty, takes nothing for a refusal, and says how long to wait', () => {
    const bucket = new TokenBucket(3, T0);
    takeAll(bucket, 3, T0);
    const refused = bucket.take(T0 + 5_000);
    // 3 a minute is one token every 20 s; 5 s of it have passed.
    expect(refused).toEqual({ allowed: false, granted: 0, limit: 3, remaining: 0, reset_seconds: 15 });
    expect(bucket.take(T0 + 5_000)).toEqual(refused);
    expect(bucket.take(T0 + 19_999).allowed).toBe(false);
    expect(bucket.take(T0 + 20_001)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refills at its limit per minute, never beyond its size', () => {
    const bucket = new TokenBucket(60, T0);
    takeAll(bucket, 60, T0);
    expect(bucket.take(T0).allowed).toBe(false);
    // One token a second: ten seconds give ten requests, not an eleventh.
    expect(takeAll(bucket, 11, T0 + 10_001).map((d) => d.allowed)).toEqual([...Array<boolean>(10).fill(true), false]);
    // A quiet hour fills it to its size, no more.
    expect(bucket.take(T0 + 3_600_000).remaining).toBe(59);
  });

  it('ignores a clock that steps back', () => {
    const bucket = new TokenBucket(60, T0);
    takeAll(bucket, 60, T0);
    expect(bucket.take(T0 - 60_000).allowed).toBe(false);
    expect(bucket.take(T0 + 1_001).allowed).toBe(true);
  });

  it('applies a lower limit at once and gives the difference of a higher one at once', () => {
    const bucket = new TokenBucket(600, T0);
    bucket.take(T0);
    bucket.resize(2, T0);
    expect(takeAll(bucket, 3, T0).map((d) => [d.allowed, d.limit])).toEqual([
      [true, 2],
      [true, 2],
      [false, 2],
    ]);
    bucket.resize(10, T0);
    expect(takeAll(bucket, 9, T0).map((d) => d.allowed)).toEqual([...Array<boolean>(8).fill(true), false]);
  });

  it('lends whole tokens ahead with the request’s own, never more than it holds, and refuses as before', () => {
    const bucket = new TokenBucket(600, T0);
    expect(bucket.take(T0, 6)).toMatchObject({ allowed: true, granted: 6, remaining: 594 });
    bucket.take(T0, 592);
    expect(bucket.take(T0, 6)).toMatchObject({ allowed: true, granted: 2, remaining: 0 });
    expect(bucket.take(T0, 6)).toMatchObject({ allowed: false, granted: 0 });
  });
});

describe('the tokens an isolate is lent per call', () => {
  it('are a hundredth of the minute, and one below 200 a minute, so small limits stay exact', () => {
    expect([1, 5, 199, 200, 600, 1_000_000].map(leaseSize)).toEqual([1, 1, 1, 2, 6, 10_000]);
  });
});

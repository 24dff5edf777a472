import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leaseSize, type RateDecision, TokenBucket } from '../../src/accounts/rate-limit';
import { type AskTokens, TokenLeases } from '../../src/api/token-leases';

/**
 * The tokens an isolate is lent by accounts' objects (src/api/token-leases.ts), on a clock the test
 * moves and against a real token bucket standing in for the account's object.
 */

const T0 = 1_800_000_000_000;

/** An account's object: a real bucket, the calls it got and the tokens it was asked for. */
function accountObject(capacity: number, clock: { now: number }) {
  const bucket = new TokenBucket(capacity, clock.now);
  const wants: number[] = [];
  const ask: AskTokens = async (want) => {
    wants.push(want);
    return bucket.take(clock.now, Math.min(want, leaseSize(capacity)));
  };
  return { ask, wants };
}

describe('tokens lent to an isolate', () => {
  it('asks for one token per request while the isolate sees the account rarely: exact, as without leases', async () => {
    const clock = { now: T0 };
    const leases = new TokenLeases(() => clock.now);
    const object = accountObject(600, clock);
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(await leases.take('acct', object.ask));
      clock.now += 2_000;
    }
    expect(object.wants).toEqual([1, 1, 1, 1, 1]);
    expect(answers.map((a) => a?.remaining)).toEqual([599, 599, 599, 599, 599]);
  });

  it('asks a busy isolate for its last second’s requests, up to the object’s lease size, and spends them locally', async () => {
    const clock = { now: T0 };
    const leases = new TokenLeases(() => clock.now);
    const object = accountObject(600, clock);
    for (let i = 0; i < 4; i++) await leases.take('acct', object.ask);
    expect(object.wants).toEqual([1, 1, 1, 1]);
    clock.now += 1_000;
    const remaining = [];
    for (let i = 0; i < 4; i++) remaining.push((await leases.take('acct', object.ask))?.remaining);
    // Four asked and granted in one call (the bucket refilled meanwhile); each answer one fewer.
    expect(object.wants).toEqual([1, 1, 1, 1, 4]);
    expect(remaining).toEqual([599, 598, 597, 596]);
  });

  it('spends lent tokens for a second only, and never adds expired ones to the next', async () => {
    const clock = { now: T0 };
    const leases = new TokenLeases(() => clock.now);
    let granted = 0;
    const ask: AskTokens = async () => {
      granted += 3;
      return { allowed: true, granted: 3, limit: 600, remaining: 500, reset_seconds: 1 };
    };
    await leases.take('acct', ask);
    expect(granted).toBe(3);
    clock.now += 1_000;
    // Two tokens were left; a second later they are gone, and the new call's three are all there is.
    const after = await leases.take('acct', ask);
    expect(granted).toBe(6);
    expect(after?.remaining).toBe(502);
  });

  it('asks for a second’s worth once at a time: requests that find no token meanwhile ask for their own only', async () => {
    const clock = { now: T0 };
    const leases = new TokenLeases(() => clock.now);
    const wants: number[] = [];
    const pending: ((decision: RateDecision) => void)[] = [];
    const ask: AskTokens = (want) => {
      wants.push(want);
      return new Promise((resolve) => pending.push(resolve));
    };
    const grant = (granted: number, remaining: number) => ({ allowed: true, granted, limit: 6_000, remaining, reset_seconds: 1 });
    // A busy second first: 5 requests, each asking for one while nothing is known.
    for (let i = 0; i < 5; i++) {
      const answer = leases.take('acct', ask);
      pending.shift()!(grant(1, 100));
      await answer;
    }
    clock.now += 1_000;
    const answers = [leases.take('acct', ask), leases.take('acct', ask), leases.take('acct', ask)];
    expect(wants.slice(5)).toEqual([5, 1, 1]);
    pending.shift()!(grant(5, 90));
    pending.shift()!(grant(1, 89));
    pending.shift()!(grant(1, 88));
    await Promise.all(answers);
    // Seven granted, three spent: four in hand for the next requests, without a call.
    const next = [];
    for (let i = 0; i < 4; i++) next.push((await leases.take('acct', ask))?.remaining);
    expect(wants).toHaveLength(8);
    expect(next).toEqual([91, 90, 89, 88]);
  });

  it('answers a refusal, and keeps nothing', async () => {
    const leases = new TokenLeases(() => T0);
    const refusal: RateDecision = { allowed: false, granted: 0, limit: 5, remaining: 0, reset_seconds: 12 };
    let calls = 0;
    const ask: AskTokens = async () => {
      calls++;
      return refusal;
    };
    expect(await Promise.all([leases.take('acct', ask), leases.take('acct', ask)])).toEqual([refusal, refusal]);
    expect(calls).toBe(2);
  });

  it('lets the request through without fields when the object cannot answer, and asks again next time', async () => {
    const leases = new TokenLeases(() => T0);
    let calls = 0;
    const ask: AskTokens = async () => (++calls === 1 ? null : { allowed: true, granted: 1, limit: 600, remaining: 9, reset_seconds: 1 });
    expect(await leases.take('acct', ask)).toBeNull();
    expect((await leases.take('acct', ask))?.remaining).toBe(9);
  });

  it('keeps accounts apart, and forgets an account’s tokens when told (a new limit)', async () => {
    const clock = { now: T0 };
    const leases = new TokenLeases(() => clock.now);
    const a = accountObject(600, clock);
    const b = accountObject(600, clock);
    for (let i = 0; i < 3; i++) await leases.take('a', a.ask);
    clock.now += 1_000;
    await leases.take('a', a.ask);
    expect(a.wants.at(-1)).toBe(3);
    expect((await leases.take('b', b.ask))?.remaining).toBe(599);
    leases.forget('a');
    await leases.take('a', a.ask);
    expect(a.wants.at(-1)).toBe(1);
  });

  it('never allows more than the bucket holds and refills, and exactly what it would alone when requests are a second or more apart', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3_000 }),
        fc.array(fc.integer({ min: 0, max: 1_500 }), { minLength: 1, maxLength: 300 }),
        async (capacity, gaps) => {
          const clock = { now: T0 };
          const leases = new TokenLeases(() => clock.now);
          const object = accountObject(capacity, clock);
          const alone = new TokenBucket(capacity, T0);
          let allowed = 0;
          let allowedAlone = 0;
          for (const gap of gaps) {
            clock.now += gap;
            if ((await leases.take('acct', object.ask))?.allowed) allowed++;
            if (alone.take(clock.now).allowed) allowedAlone++;
          }
          expect(allowed).toBeLessThanOrEqual(capacity + Math.floor((capacity * (clock.now - T0)) / 60_000));
          if (capacity < 200 || gaps.slice(1).every((gap) => gap >= 1_000)) expect(allowed).toBe(allowedAlone);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('gives exactly what the bucket alone would to requests a second or more apart, at any limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: 1_000, max: 20_000 }), { minLength: 2, maxLength: 200 }),
        async (capacity, gaps) => {
          const clock = { now: T0 };
          const leases = new TokenLeases(() => clock.now);
          const object = accountObject(capacity, clock);
          const alone = new TokenBucket(capacity, T0);
          for (const gap of gaps) {
            clock.now += gap;
            const answer = await leases.take('acct', object.ask);
            const expected = alone.take(clock.now);
            expect(answer?.allowed).toBe(expected.allowed);
            expect(answer?.remaining).toBe(expected.remaining);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

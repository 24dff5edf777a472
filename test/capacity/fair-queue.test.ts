import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admit,
  DECREASE_GAP_MS,
  expireLeases,
  holdersToCheck,
  minLimit,
  newPool,
  nextWakeAt,
  type PoolSettings,
  type PoolState,
  positionOf,
  positionsToTell,
  queueOrder,
  release,
  renew,
} from '../../src/capacity/fair-queue';

const SETTINGS: PoolSettings = { cap: 3, lease_ms: 60_000 };
const T0 = 1_700_000_000_000;

function ask(pool: PoolState, task: string, account: string, now = T0, settings = SETTINGS) {
  return admit(pool, settings, { task_id: task, account_id: account, throttle: null }, now);
}

/** A pool whose slots are all held by account `busy`'s first tasks. */
function fullPool(settings = SETTINGS): PoolState {
  const pool = newPool(settings);
  for (let i = 0; i < settings.cap; i++) ask(pool, `busy-${i}`, 'busy', T0, settings);
  return pool;
}

describe('the fair queue of a provider account', () => {
  it('grants slots at once up to the cap, then queues, 1 = next', () => {
    const pool = newPool(SETTINGS);
    expect(['a', 'b', 'c'].map((t) => ask(pool, t, 'acct').admission)).toEqual(Array(3).fill({ granted: true, lease_until: T0 + 60_000 }));
    expect(ask(pool, 'd', 'acct').admission).toEqual({ granted: false, position: 1 });
    expect(ask(pool, 'e', 'acct').admission).toEqual({ granted: false, position: 2 });
    expect(pool.holders.size).toBe(3);
  });

  it("does not let one account's burst of 1,000 delay another account's single task by more than one turn", () => {
    const pool = fullPool();
    for (let i = 0; i < 1000; i++) ask(pool, `burst-${i}`, 'burst');
    expect(ask(pool, 'single', 'small').admission).toEqual({ granted: false, position: 2 });
    // One slot frees: the burst's task of the current round goes, then the single task.
    expect(release(pool, SETTINGS, 'busy-0', true, T0 + 1).map((g) => g.task_id)).toEqual(['burst-0']);
    expect(release(pool, SETTINGS, 'busy-1', true, T0 + 2).map((g) => g.task_id)).toEqual(['single']);
  });

  it('serves accounts round-robin and each account first in, first out', () => {
    const pool = fullPool();
    for (let i = 0; i < 3; i++) for (const account of ['a', 'b', 'c']) ask(pool, `${account}${i}`, account);
    ask(pool, 'a3', 'a');
    ask(pool, 'a4', 'a');
    expect(queueOrder(pool).map((w) => w.task_id)).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'a4']);
  });

  it('an account that comes back later joins the round being served: ahead of the rest of a burst', () => {
    const pool = fullPool();
    for (let i = 0; i < 5; i++) ask(pool, `a${i}`, 'a');
    release(pool, SETTINGS, 'busy-0', true, T0 + 1);
    release(pool, SETTINGS, 'busy-1', true, T0 + 2);
    // a0 and a1 were served, a1 in the round being served now: b0 joins that round.
    ask(pool, 'b0', 'b', T0 + 3);
    expect(queueOrder(pool).map((w) => w.task_id)).toEqual(['b0', 'a2', 'a3', 'a4']);
  });

  it('asking again is safe: a waiter keeps its place, a holder renews its lease', () => {
    const pool = fullPool();
    ask(pool, 'w', 'acct');
    expect(ask(pool, 'w', 'acct').admission).toEqual({ granted: false, position: 1 });
    expect(pool.waiting.size).toBe(1);
    expect(ask(pool, 'busy-0', 'busy', T0 + 10).admission).toEqual({ granted: true, lease_until: T0 + 10 + 60_000 });
  });

  it('a holder asking again (its answer or the push was lost to a restart) gets its slot confirmed, never a second one', () => {
    const pool = fullPool();
    ask(pool, 'w', 'other');
    for (const at of [T0 + 15_000, T0 + 30_000]) {
      const { admission, granted } = ask(pool, 'busy-1', 'busy', at);
      expect(admission).toEqual({ granted: true, lease_until: at + 60_000 });
      expect(granted).toEqual([]);
    }
    expect([...pool.holders.keys()]).toEqual(['busy-0', 'busy-1', 'busy-2']);
    expect(pool.granted).toBe(3);
    expect(positionOf(pool, 'w')).toBe(1);
  });

  it('a task that leaves the queue (canceled, timed out) frees its place; releasing an unknown task changes nothing', () => {
    const pool = fullPool();
    ask(pool, 'w1', 'a');
    ask(pool, 'w2', 'b');
    expect(release(pool, SETTINGS, 'w1', false, T0)).toEqual([]);
    expect(positionOf(pool, 'w2')).toBe(1);
    expect(release(pool, SETTINGS, 'nobody', false, T0)).toEqual([]);
    expect(pool.holders.size).toBe(3);
  });

  it('takes back the slot of a task that stopped renewing its lease, and gives it to the next', () => {
    const pool = fullPool();
    ask(pool, 'w', 'acct');
    expect(renew(pool, SETTINGS, 'busy-1', T0 + 30_000)).toBe(T0 + 90_000);
    expect(renew(pool, SETTINGS, 'busy-2', T0 + 30_000)).toBe(T0 + 90_000);
    const { expired, granted } = expireLeases(pool, SETTINGS, T0 + 60_000);
    expect(expired.map((h) => h.task_id)).toEqual(['busy-0']);
    expect(granted.map((h) => h.task_id)).toEqual(['w']);
    expect(renew(pool, SETTINGS, 'busy-0', T0 + 60_001)).toBeNull();
    expect(pool.expired).toBe(1);
  });

  it('asks after holders not heard from for a quarter of the lease (at most 30 s), again a while later if no answer came', () => {
    const pool = fullPool();
    const checked = (now: number) => holdersToCheck(pool, SETTINGS, now).map((h) => h.task_id);
    expect(nextWakeAt(pool, SETTINGS, T0 + 1)).toBe(T0 + 15_000);
    expect(checked(T0 + 14_999)).toEqual([]);
    renew(pool, SETTINGS, 'busy-1', T0 + 10_000);
    expect(checked(T0 + 15_000)).toEqual(['busy-0', 'busy-2']);
    // The check found no answer: the next one a quarter of the lease later, the lease still the bound.
    expect(nextWakeAt(pool, SETTINGS, T0 + 26_000)).toBe(T0 + 41_000);
    renew(pool, SETTINGS, 'busy-1', T0 + 25_000);
    expect(nextWakeAt(pool, SETTINGS, T0 + 50_000)).toBe(T0 + 60_000);
    expect(checked(T0 + 60_000)).toEqual(['busy-1']);
    expect(holdersToCheck(newPool({ cap: 1, lease_ms: 300_000 }), { cap: 1, lease_ms: 300_000 }, T0)).toEqual([]);
    const long = { cap: 1, lease_ms: 300_000 };
    const longPool = newPool(long);
    ask(longPool, 'x', 'acct', T0, long);
    expect(nextWakeAt(longPool, long, T0)).toBe(T0 + 30_000);
  });

  it('a provider 429 at the limit lowers it by a quarter, pauses for Retry-After, and puts the task first in line', () => {
    const pool = fullPool();
    ask(pool, 'w', 'other');
    const { admission } = admit(pool, SETTINGS, { task_id: 'busy-2', account_id: 'busy', throttle: { retry_after_ms: 1000 } }, T0 + 5);
    expect(pool.limit).toBe(2);
    expect(admission).toEqual({ granted: false, position: 1 });
    expect(pool.throttled).toBe(1);
    // A slot frees during the pause: nobody is granted before it ends.
    expect(release(pool, SETTINGS, 'busy-0', true, T0 + 10)).toEqual([]);
    expect(release(pool, SETTINGS, 'busy-1', true, T0 + 1005).map((g) => g.task_id)).toEqual(['busy-2', 'w']);
  });

  it('429s from one burst cut the limit once, never below a quarter of the cap, and successes win it back', () => {
    const settings = { cap: 8, lease_ms: 60_000 };
    const pool = fullPool(settings);
    const refuse = (task: string, now: number) => admit(pool, settings, { task_id: task, account_id: 'busy', throttle: { retry_after_ms: null } }, now);
    refuse('busy-7', T0 + 1);
    expect(pool.limit).toBe(6);
    // The same burst: no second cut.
    refuse('busy-6', T0 + 2);
    refuse('busy-5', T0 + 3);
    expect(pool.limit).toBe(6);
    refuse('busy-4', T0 + 1 + DECREASE_GAP_MS);
    expect(pool.limit).toBe(4);
    // More windows of 429s at the limit: it stops at the floor.
    for (let i = 2; i < 10; i++) refuse([...pool.holders.keys()][0]!, T0 + 1 + i * DECREASE_GAP_MS);
    expect(pool.limit).toBe(minLimit(8));
    expect(minLimit(8)).toBe(2);
    let releases = 0;
    for (let i = 0; pool.limit < settings.cap && i < 100; i++) {
      const holder = [...pool.holders.keys()][0]!;
      release(pool, settings, holder, true, T0 + 60_000 + i);
      ask(pool, `again-${i}`, 'busy', T0 + 60_000 + i, settings);
      releases++;
    }
    expect(pool.limit).toBe(8);
    // A quarter of a slot per success: from 2 back to 8 in 24 successes.
    expect(releases).toBe(24);
  });

  it('a 429 with slots to spare is about that submit: the limit stays, nobody else waits, the task waits out its Retry-After', () => {
    const settings = { cap: 8, lease_ms: 60_000 };
    const pool = newPool(settings);
    ask(pool, 'refused', 'a', T0, settings);
    ask(pool, 'other', 'b', T0, settings);
    const { admission } = admit(pool, settings, { task_id: 'refused', account_id: 'a', throttle: { retry_after_ms: 2_000 } }, T0 + 1);
    expect(admission).toEqual({ granted: false, position: 1 });
    expect(pool.limit).toBe(8);
    expect(ask(pool, 'newcomer', 'c', T0 + 2, settings).admission.granted).toBe(true);
    expect(nextWakeAt(pool, settings, T0 + 2)).toBe(T0 + 2_001);
    expect(expireLeases(pool, settings, T0 + 2_001).granted.map((h) => h.task_id)).toEqual(['refused']);
  });

  it('a task refused again goes to the back of its account queue and waits its own backoff, doubling', () => {
    const settings = { cap: 1, lease_ms: 60_000 };
    const pool = newPool(settings);
    const refuse = (now: number) => admit(pool, settings, { task_id: 'bad', account_id: 'a', throttle: { retry_after_ms: null } }, now);
    ask(pool, 'bad', 'a', T0, settings);
    ask(pool, 'a1', 'a', T0, settings);
    ask(pool, 'a2', 'a', T0, settings);
    // First refusal: retried at once, first in line.
    expect(refuse(T0 + 1).admission).toEqual({ granted: true, lease_until: T0 + 1 + 60_000 });
    // Refused again: the account's other tasks go first, and it waits 1 s.
    const again = refuse(T0 + 2);
    expect(again.admission).toEqual({ granted: false, position: 2 });
    expect(again.granted.map((h) => h.task_id)).toEqual(['a1']);
    expect(release(pool, settings, 'a1', true, T0 + 10).map((h) => h.task_id)).toEqual(['a2']);
    expect(release(pool, settings, 'a2', true, T0 + 20)).toEqual([]);
    expect(nextWakeAt(pool, settings, T0 + 20)).toBe(T0 + 1_002);
    expect(expireLeases(pool, settings, T0 + 1_002).granted.map((h) => h.task_id)).toEqual(['bad']);
    // A third time: 2 s; the limit never goes below 1.
    refuse(T0 + 1_003);
    expect(pool.waiting.get('bad')?.not_before).toBe(T0 + 3_003);
    expect(pool.limit).toBe(1);
    // Taken at last: its strikes are forgotten with its slot.
    expireLeases(pool, settings, T0 + 3_003);
    release(pool, settings, 'bad', true, T0 + 3_004);
    ask(pool, 'bad', 'a', T0 + 3_005, settings);
    expect(pool.holders.get('bad')?.strikes).toBe(0);
  });

  it('one task the provider always refuses does not starve a busy pool', () => {
    const settings = { cap: 24, lease_ms: 300_000 };
    const pool = newPool(settings);
    let next = 0;
    let served = 0;
    let lowest = pool.limit;
    ask(pool, 'refused', 'a', T0, settings);
    // Every 100 ms for a minute: each holder's job ends (the refused one with a 429) and 24 more tasks arrive.
    for (let step = 0; step < 600; step++) {
      const now = T0 + step * 100;
      for (const id of [...pool.holders.keys()]) {
        if (id === 'refused') admit(pool, settings, { task_id: id, account_id: 'a', throttle: { retry_after_ms: null } }, now);
        else release(pool, settings, id, true, now);
      }
      while (pool.waiting.size < 24) ask(pool, `t${next++}`, `acct${next % 5}`, now, settings);
      expireLeases(pool, settings, now);
      served += [...pool.holders.keys()].filter((id) => id !== 'refused').length;
      lowest = Math.min(lowest, pool.limit);
    }
    expect(lowest).toBeGreaterThanOrEqual(minLimit(24));
    // Nearly every slot of every step went to a task the provider took.
    expect(served).toBeGreaterThan(0.9 * 24 * 600);
  });

  it('tells the last ten positions exactly and the rest when they fall to two thirds; told positions only go down', () => {
    const pool = fullPool();
    // Told 1…60 when they asked.
    for (let i = 0; i < 60; i++) ask(pool, `w${i}`, `acct${i}`);
    expect(positionsToTell(pool)).toEqual([]);
    // Eleven grants: w0…w10 go.
    for (let i = 0; i < 11; i++) release(pool, SETTINGS, i < 3 ? `busy-${i}` : `w${i - 3}`, true, T0 + i);
    const told = new Map(positionsToTell(pool).map(({ task_id, position }) => [task_id, position]));
    expect(told.get('w11')).toBe(1);
    expect(told.get('w20')).toBe(10);
    expect(told.get('w32')).toBe(22); // was 33: two thirds
    expect(told.has('w40')).toBe(false); // was 41, is 30: not yet
    expect(positionsToTell(pool)).toEqual([]);
  });
});

describe('the fair queue, under random arrivals, releases and 429s', () => {
  it('never holds more than the cap, serves every task in the end, and told positions only go down', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('ask' as const), account: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ kind: fc.constant('release' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('throttle' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('leave' as const), index: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (cap, ops) => {
        const settings = { cap, lease_ms: 60_000 };
        const pool = newPool(settings);
        let now = T0;
        let next = 0;
        const told = new Map<string, number>();
        const check = () => {
          expect(pool.holders.size).toBeLessThanOrEqual(cap);
          expect(pool.limit).toBeGreaterThanOrEqual(minLimit(cap));
          for (const { task_id, position } of positionsToTell(pool)) {
            expect(position).toBeLessThan(told.get(task_id) ?? Number.POSITIVE_INFINITY);
            told.set(task_id, position);
          }
        };
        for (const step of ops) {
          now += 700;
          if (step.kind === 'ask') {
            for (let i = 0; i < step.count; i++) {
              const id = `t${next++}`;
              const { admission } = ask(pool, id, `acct${step.account}`, now, settings);
              if (!admission.granted) told.set(id, admission.position);
            }
          } else {
            const holders = [...pool.holders.keys()];
            const waiting = [...pool.waiting.keys()];
            if (step.kind === 'release' && holders.length > 0) release(pool, settings, holders[step.index % holders.length]!, true, now);
            if (step.kind === 'throttle' && holders.length > 0) {
              const id = holders[step.index % holders.length]!;
              const { admission } = admit(pool, settings, { task_id: id, account_id: pool.holders.get(id)!.account_id, throttle: { retry_after_ms: 500 } }, now);
              // A new wait, told afresh (possibly behind where it was before; the task shows the lowest: task-slot.ts).
              if (admission.granted) told.delete(id);
              else told.set(id, admission.position);
            }
            if (step.kind === 'leave' && waiting.length > 0) release(pool, settings, waiting[step.index % waiting.length]!, false, now);
          }
          check();
        }
        // Drain: every task is served once the holders finish.
        for (let i = 0; i < 10_000 && (pool.holders.size > 0 || pool.waiting.size > 0); i++) {
          now += 700;
          const holder = [...pool.holders.keys()][0];
          // With no holder left, a pause (Retry-After) is what holds the waiters: the alarm's turn grants them.
          if (holder) release(pool, settings, holder, true, now);
          else expireLeases(pool, settings, now);
          check();
        }
        expect(pool.waiting.size + pool.holders.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

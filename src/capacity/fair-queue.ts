/**
 * The capacity of one provider account as a pure structure: who holds a submit slot (with a lease),
 * who waits, in what order, and how many slots the provider takes now. No I/O and no clock: the
 * capacity object (capacity.do.ts) keeps it in memory, saves what changed and tells tasks.
 *
 * Order. Each waiting task gets a round when it arrives: the account's previous round plus one, but
 * never earlier than the round being served. Slots go by (round, arrival): one task per account per
 * round, oldest first within an account. An account's burst of 1,000 fills rounds 1…1,000; another
 * account's single task joins the round being served, so it waits for at most one task of each
 * other account (one slot's turn), never behind the burst.
 *
 * Slots. At most `floor(limit)` holders. `limit` starts at the configured cap and follows the
 * provider (AIMD): a 429 despite the cap cuts it by a quarter and pauses grants for the provider's
 * Retry-After, but only when the pool was using (nearly) all of its limit: a refusal with slots to
 * spare says nothing about the account's capacity (one prompt the provider always refuses must not
 * starve everyone). At most one cut per `DECREASE_GAP_MS`, never below a quarter of the cap; every
 * submit the provider took wins back `INCREASE` slot, so a cut is undone after about one limit's
 * worth of successes.
 *
 * A refused task retries first in line once; refused again, it goes to the back of its account's
 * queue and is not granted before its own backoff (and the provider's Retry-After) has passed.
 */

/** A task holding a slot. */
export interface Holder {
  task_id: string;
  account_id: string;
  granted_at: number;
  /** The slot is taken back at this time unless the task renews it (it died, or lost track). */
  lease_until: number;
  /** The provider's 429s to this task in a row, carried from its wait (0 for most). */
  strikes: number;
}

/** A task waiting for a slot. */
export interface Waiter {
  task_id: string;
  account_id: string;
  round: number;
  /** Arrival order; a task sent back by a 429 goes before every other (a negative number). */
  seq: number;
  enqueued_at: number;
  /** The last position the task was told; positions it is told only go down. */
  shown: number;
  /** The provider's 429s to this task in a row; a task sent back more than once waits its backoff. */
  strikes: number;
  /** Not granted before this time (the task's own backoff after a 429; 0 for most). */
  not_before: number;
}

export interface PoolState {
  /** The configured cap the limit was last set from. */
  cap: number;
  /** Slots the provider takes now: the configured cap, lowered by 429s, grown back by successes. */
  limit: number;
  /** The round being served. */
  round: number;
  /** Arrival counter (positive) and front-of-queue counter (negative). */
  seq: number;
  front: number;
  /** No grants before this time (a provider's Retry-After). */
  resume_at: number;
  last_decrease_at: number;
  holders: Map<string, Holder>;
  waiting: Map<string, Waiter>;
  /** The round of each account's latest queued task. */
  last_round: Map<string, number>;
  /** Counters for operators, tests and the bench. */
  peak: number;
  granted: number;
  throttled: number;
  expired: number;
}

export interface PoolSettings {
  /** The configured cap: most slots at once. */
  cap: number;
  lease_ms: number;
}

/** What the task asking for a slot learns. */
export type Admission = { granted: true; lease_until: number } | { granted: false; position: number };

/** A 429 the provider answered a slot holder: it goes back to the queue (first in line the first time). */
export interface Throttle {
  retry_after_ms: number | null;
}

/** Multiplicative decrease on a 429. */
export const DECREASE = 0.75;
/** 429s within this window (a burst: every holder's submit at once) cut the limit once. */
export const DECREASE_GAP_MS = 5_000;
/** The limit never falls below this share of the cap (and never below 1). */
export const MIN_LIMIT_SHARE = 0.25;
/** Slots won back per submit the provider took. */
export const INCREASE = 0.25;
/**
 * A holder not heard from for this long (a quarter of the lease if shorter) is asked whether its task
 * still wants the slot: one whose task ended or vanished (a restart lost its release) comes back in
 * seconds, not when the lease runs out; one that does (a long synchronous call) is renewed.
 */
export const CHECK_AFTER_MS = 30_000;
/** Backoff of a task refused again: doubling from this, up to `MAX_PAUSE_MS`. */
export const STRIKE_BACKOFF_MS = 1_000;
/** Longest pause a Retry-After can impose on the whole pool. */
export const MAX_PAUSE_MS = 60_000;
/** Positions are told exactly from here down; above it, when they fall to two thirds of the last one told. */
export const EXACT_POSITIONS = 10;

/** The lowest the limit goes: 429s can slow a pool down, never shut it. */
export const minLimit = (cap: number): number => Math.max(1, Math.ceil(cap * MIN_LIMIT_SHARE));

export function newPool(settings: PoolSettings): PoolState {
  return {
    cap: settings.cap,
    limit: settings.cap,
    round: 0,
    seq: 0,
    front: 0,
    resume_at: 0,
    last_decrease_at: Number.NEGATIVE_INFINITY,
    holders: new Map(),
    waiting: new Map(),
    last_round: new Map(),
    peak: 0,
    granted: 0,
    throttled: 0,
    expired: 0,
  };
}

/** A new configured cap (an operator changed it) starts the limit afresh from it. */
export function applySettings(pool: PoolState, settings: PoolSettings): void {
  if (pool.cap === settings.cap) return;
  pool.cap = settings.cap;
  pool.limit = settings.cap;
}

const before = (a: Waiter, b: Waiter): boolean => a.round < b.round || (a.round === b.round && a.seq < b.seq);

/** The waiting tasks in the order they will be served. */
export function queueOrder(pool: PoolState): Waiter[] {
  return [...pool.waiting.values()].sort((a, b) => a.round - b.round || a.seq - b.seq);
}

/** Where a waiting task stands now (1 = next). */
export function positionOf(pool: PoolState, taskId: string): number | null {
  const waiter = pool.waiting.get(taskId);
  if (!waiter) return null;
  let ahead = 0;
  for (const other of pool.waiting.values()) if (before(other, waiter)) ahead++;
  return ahead + 1;
}

/** Grants free slots to the head of the queue; returns the tasks granted. */
export function grantFree(pool: PoolState, settings: PoolSettings, now: number): Holder[] {
  const granted: Holder[] = [];
  if (now < pool.resume_at) return granted;
  while (pool.holders.size < Math.floor(pool.limit)) {
    let next: Waiter | undefined;
    for (const waiter of pool.waiting.values()) if (waiter.not_before <= now && (!next || before(waiter, next))) next = waiter;
    if (!next) break;
    const waiter = next;
    pool.waiting.delete(waiter.task_id);
    pool.round = Math.max(pool.round, waiter.round);
    const holder: Holder = {
      task_id: waiter.task_id,
      account_id: waiter.account_id,
      granted_at: now,
      lease_until: now + settings.lease_ms,
      strikes: waiter.strikes,
    };
    pool.holders.set(holder.task_id, holder);
    pool.granted++;
    pool.peak = Math.max(pool.peak, pool.holders.size);
    granted.push(holder);
  }
  return granted;
}

function enqueue(
  pool: PoolState,
  taskId: string,
  accountId: string,
  now: number,
  atFront: boolean,
  strikes = 0,
  notBefore = 0,
): Waiter {
  const round = atFront ? pool.round : Math.max(pool.round, (pool.last_round.get(accountId) ?? Number.NEGATIVE_INFINITY) + 1);
  const seq = atFront ? --pool.front : ++pool.seq;
  if (!atFront) pool.last_round.set(accountId, round);
  const waiter: Waiter = {
    task_id: taskId,
    account_id: accountId,
    round,
    seq,
    enqueued_at: now,
    shown: Number.POSITIVE_INFINITY,
    strikes,
    not_before: notBefore,
  };
  pool.waiting.set(taskId, waiter);
  return waiter;
}

/**
 * A task asks for a slot: granted at once when one is free and nobody waits before it, else queued.
 * Asking again is safe: a holder gets its lease renewed (the same slot, confirmed), a waiter its
 * position. A holder that reports a provider 429 (`throttle`) gives its slot back and waits again:
 * see the top of this file for when that lowers the limit and where the task waits.
 * Returns the answer for the asking task and every other task granted meanwhile.
 */
export function admit(
  pool: PoolState,
  settings: PoolSettings,
  request: { task_id: string; account_id: string; throttle?: Throttle | null },
  now: number,
): { admission: Admission; granted: Holder[] } {
  const { task_id, account_id, throttle } = request;
  const holder = pool.holders.get(task_id);
  if (holder && !throttle) {
    holder.lease_until = now + settings.lease_ms;
    return { admission: { granted: true, lease_until: holder.lease_until }, granted: [] };
  }
  if (holder && throttle) {
    // In flight when the provider refused, this submit included.
    const inFlight = pool.holders.size;
    pool.holders.delete(task_id);
    pool.throttled++;
    const retryAfter = Math.min(MAX_PAUSE_MS, throttle.retry_after_ms ?? 0);
    // Only a pool using more than a cut would leave it has hit the account's capacity; below that the
    // 429 is about this submit, and cutting (or pausing everyone) would not help.
    if (inFlight > Math.floor(pool.limit * DECREASE)) {
      if (now - pool.last_decrease_at >= DECREASE_GAP_MS) {
        pool.limit = Math.max(minLimit(settings.cap), Math.min(pool.limit, Math.floor(pool.limit * DECREASE)));
        pool.last_decrease_at = now;
      }
      if (retryAfter > 0) pool.resume_at = Math.max(pool.resume_at, now + retryAfter);
    }
    // First refusal: straight back, first in line (most 429s pass). Again: behind its account's other
    // tasks, after a backoff of its own, so a task the provider keeps refusing cannot hold the head.
    const strikes = holder.strikes + 1;
    const backoff = strikes === 1 ? 0 : Math.min(MAX_PAUSE_MS, STRIKE_BACKOFF_MS * 2 ** (strikes - 2));
    enqueue(pool, task_id, account_id, now, strikes === 1, strikes, now + Math.max(retryAfter, backoff));
  } else if (!pool.waiting.has(task_id)) {
    enqueue(pool, task_id, account_id, now, false);
  }
  const granted = grantFree(pool, settings, now);
  const mine = granted.find((g) => g.task_id === task_id);
  if (mine) return { admission: { granted: true, lease_until: mine.lease_until }, granted: granted.filter((g) => g !== mine) };
  const position = positionOf(pool, task_id)!;
  const waiter = pool.waiting.get(task_id)!;
  waiter.shown = Math.min(waiter.shown, position);
  return { admission: { granted: false, position: waiter.shown }, granted };
}

/**
 * A task gives its slot back (its provider job ended) or leaves the queue (canceled, timed out).
 * `succeeded`: the provider took its submit, which grows the limit back toward the cap.
 * Returns the tasks granted in its place. Unknown tasks change nothing.
 */
export function release(pool: PoolState, settings: PoolSettings, taskId: string, succeeded: boolean, now: number): Holder[] {
  if (pool.holders.delete(taskId)) {
    if (succeeded) pool.limit = Math.min(settings.cap, pool.limit + INCREASE);
  } else {
    pool.waiting.delete(taskId);
  }
  return grantFree(pool, settings, now);
}

/** Renews a holder's lease; false when the task holds no slot (it expired and went to another). */
export function renew(pool: PoolState, settings: PoolSettings, taskId: string, now: number): number | null {
  const holder = pool.holders.get(taskId);
  if (!holder) return null;
  holder.lease_until = now + settings.lease_ms;
  return holder.lease_until;
}

const checkAfter = (settings: PoolSettings): number => Math.min(CHECK_AFTER_MS, settings.lease_ms / 4);
/** When a holder is next due a check: a while after it was granted or last renewed. */
const checkAt = (holder: Holder, settings: PoolSettings): number => holder.lease_until - settings.lease_ms + checkAfter(settings);

/** Holders not heard from for a while, to ask whether their task still wants the slot. */
export function holdersToCheck(pool: PoolState, settings: PoolSettings, now: number): Holder[] {
  return [...pool.holders.values()].filter((holder) => checkAt(holder, settings) <= now && holder.lease_until > now);
}

/** Takes back the slots of tasks that stopped renewing; returns the tasks granted in their place. */
export function expireLeases(pool: PoolState, settings: PoolSettings, now: number): { expired: Holder[]; granted: Holder[] } {
  const expired = [...pool.holders.values()].filter((holder) => holder.lease_until <= now);
  for (const holder of expired) pool.holders.delete(holder.task_id);
  pool.expired += expired.length;
  return { expired, granted: grantFree(pool, settings, now) };
}

/**
 * The waiting tasks to tell their new position: exactly for the last `EXACT_POSITIONS`, otherwise
 * once it has fallen to two thirds of the last one told, so a task hears O(log n) updates while
 * the queue drains, not one per grant. Marks them told.
 */
export function positionsToTell(pool: PoolState): Array<{ task_id: string; position: number }> {
  const told: Array<{ task_id: string; position: number }> = [];
  queueOrder(pool).forEach((waiter, i) => {
    const position = i + 1;
    if (position >= waiter.shown) return;
    if (position <= EXACT_POSITIONS || position <= (waiter.shown * 2) / 3) {
      waiter.shown = position;
      told.push({ task_id: waiter.task_id, position });
    }
  });
  return told;
}

/** When the pool next needs attention without being asked: a holder's check or lease running out, the end of a pause or of a task's backoff. */
export function nextWakeAt(pool: PoolState, settings: PoolSettings, now: number): number | null {
  let at = Number.POSITIVE_INFINITY;
  for (const holder of pool.holders.values()) {
    // A check that found no answer (the task's object did not reply) is tried again a while later.
    const check = checkAt(holder, settings);
    at = Math.min(at, holder.lease_until, check > now ? check : now + checkAfter(settings));
  }
  if (pool.waiting.size > 0 && pool.resume_at > now) at = Math.min(at, pool.resume_at);
  for (const waiter of pool.waiting.values()) if (waiter.not_before > now) at = Math.min(at, waiter.not_before);
  return Number.isFinite(at) ? at : null;
}

/**
 * The account's request rate limit: a token bucket per account, kept in memory by the account's
 * Durable Object, and the limit the BFF set, kept in its SQLite (table `rate_limit`):
 *
 *   singleton            INTEGER  always 1: one row, present only once the BFF has set a limit
 *   requests_per_minute  INTEGER  ≥ 1
 *   updated_at           TEXT     ISO time
 *
 * Why the account's object and not the Workers Rate Limiting binding: the binding's limit is fixed in
 * wrangler.toml (`limit()` takes only a key), so it cannot hold a limit the BFF sets per account at run
 * time, and its counters are per Cloudflare location and eventually consistent. One object per account
 * hands out every token of the account, wherever its requests come from. (Measured cost: README,
 * "Rate limits".)
 *
 * The bucket holds `requests_per_minute` tokens and refills at that many per minute; each answered
 * customer request takes one, most of them from the few an isolate was lent (`leaseSize`). It lives in
 * memory only: a write per request would cost more than the request, and an object that restarts
 * starts with a full bucket, as a minute of silence would leave it.
 */

/** The most the BFF may set: beyond this one object could not serve the account anyway. */
export const MAX_REQUESTS_PER_MINUTE = 1_000_000;
export const WINDOW_SECONDS = 60;
const WINDOW_MS = WINDOW_SECONDS * 1000;

/**
 * The most tokens handed to an isolate per call: a hundredth of the account's minute. Below 200 a
 * minute that is one, so small limits stay exact to the request; at the default 600, six.
 */
export const leaseSize = (requestsPerMinute: number): number => Math.max(1, Math.floor(requestsPerMinute / 100));

/** What one request found: allowed or not, and what the `RateLimit` headers report. */
export interface RateDecision {
  allowed: boolean;
  /** Tokens taken: 0 when refused, else 1 for the request plus any lent ahead to the asking isolate. */
  granted: number;
  /** The limit in force, per minute (the bucket's size). */
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token (≥ 1 when none is left): `t` of `RateLimit`, and `Retry-After` when refused. */
  reset_seconds: number;
}

/** The limits in force for an account, as the internal route shows them. */
export interface AccountLimits {
  requests_per_minute: number;
  /** True while the BFF has set nothing and the deployment's default applies. */
  is_default: boolean;
}

/**
 * A token bucket of `capacity` tokens refilled at `capacity` per minute. Pure: every call is told the
 * time, so tests drive it with any clock.
 */
export class TokenBucket {
  #capacity: number;
  #tokens: number;
  #at: number;

  constructor(capacity: number, now: number) {
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  get capacity(): number {
    return this.#capacity;
  }

  #refill(now: number): void {
    // A clock that steps back refills nothing rather than taking tokens away.
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#capacity) / WINDOW_MS);
    this.#at = Math.max(this.#at, now);
  }

  /**
   * Takes up to `want` whole tokens if there is at least one (the request's, then tokens lent ahead);
   * a refused request takes nothing.
   */
  take(now: number, want = 1): RateDecision {
    this.#refill(now);
    const granted = Math.min(Math.max(1, want), Math.floor(this.#tokens));
    const allowed = granted >= 1;
    if (allowed) this.#tokens -= granted;
    const whole = Math.floor(this.#tokens);
    // Until the bucket holds one more whole token than now (the first one, when it is empty).
    // Rounded to whole milliseconds first, so float noise cannot add a second.
    const nextTokenMs = Math.round(((whole + 1 - this.#tokens) * WINDOW_MS) / this.#capacity);
    return { allowed, granted, limit: this.#capacity, remaining: whole, reset_seconds: Math.max(1, Math.ceil(nextTokenMs / 1000)) };
  }

  /**
   * A new size: a lower limit applies at once (tokens above it are dropped); a higher one adds the
   * difference, so a customer moved to a bigger plan can use it right away.
   */
  resize(capacity: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(capacity, this.#tokens + Math.max(0, capacity - this.#capacity));
    this.#capacity = capacity;
  }
}

/** Creates the table if needed; the AccountDO calls it once per instance. */
export function createRateLimitTable(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS rate_limit (
      singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
      requests_per_minute INTEGER NOT NULL CHECK (requests_per_minute >= 1),
      updated_at TEXT NOT NULL
    );
  `);
}

/**
 * The account's limiter, as its object holds it: the limit read once from SQLite (or the default),
 * the bucket in memory. Every method is synchronous, so one call is atomic inside the object.
 */
export class RequestLimiter {
  readonly #sql: SqlStorage;
  readonly #defaultPerMinute: number;
  #bucket: TokenBucket | undefined;
  #limits: AccountLimits | undefined;

  constructor(sql: SqlStorage, defaultPerMinute: number) {
    this.#sql = sql;
    this.#defaultPerMinute = defaultPerMinute;
  }

  /** The limits in force. */
  limits(): AccountLimits {
    if (!this.#limits) {
      const row = this.#sql.exec<{ requests_per_minute: number }>('SELECT requests_per_minute FROM rate_limit').toArray()[0];
      this.#limits = row
        ? { requests_per_minute: row.requests_per_minute, is_default: false }
        : { requests_per_minute: this.#defaultPerMinute, is_default: true };
    }
    return this.#limits;
  }

  /** Takes one token for a request and up to `want − 1` more for the asking isolate, no more than `leaseSize`. */
  take(now: number, want: number): RateDecision {
    this.#bucket ??= new TokenBucket(this.limits().requests_per_minute, now);
    return this.#bucket.take(now, Math.min(want, leaseSize(this.#bucket.capacity)));
  }

  /** Sets the account's limit (kept until set again) and applies it to the bucket at once. */
  set(requestsPerMinute: number, now: number): AccountLimits {
    this.#sql.exec(
      `INSERT INTO rate_limit (singleton, requests_per_minute, updated_at) VALUES (1, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET requests_per_minute = excluded.requests_per_minute, updated_at = excluded.updated_at`,
      requestsPerMinute,
      new Date(now).toISOString(),
    );
    this.#limits = { requests_per_minute: requestsPerMinute, is_default: false };
    this.#bucket?.resize(requestsPerMinute, now);
    return this.#limits;
  }
}

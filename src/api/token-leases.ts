import type { RateDecision } from '../accounts/rate-limit';

/**
 * The tokens of accounts' rate limits that the account objects lent this isolate, so that most requests
 * are counted without a call to the object: that call cost about 6 ms at the median and a third of a
 * poll's throughput (README, "Rate limits").
 *
 * - An isolate asks for as many tokens as the account's requests it served in the last second (at
 *   least one, and no more than the object's `leaseSize`), so an isolate that sees an account rarely
 *   asks for one token per request, exactly as without leases, and a busy one about once a second.
 * - Tokens are spent for a second after they were lent; what is left then is lost to the account,
 *   never lent twice, so the limit can only come out stricter than the bucket's, by about what one
 *   isolate's traffic changed in a second.
 * - Requests that find no token while a call is out wait for its tokens instead of asking in turn.
 */

const LEASE_MS = 1_000;
/** Beyond this many accounts, the ones with nothing in hand are forgotten before another is kept. */
const MAX_ACCOUNTS = 10_000;
/** Rounds of waiting for a shared call before a request asks the object for itself alone. */
const MAX_SHARED_ROUNDS = 4;

/** Asks the account's object for `want` tokens (the request's own and some ahead); null when it cannot answer. */
export type AskTokens = (want: number) => Promise<RateDecision | null>;

interface AccountTokens {
  /** Tokens in hand; spent until `expires`. */
  left: number;
  expires: number;
  /** The object's last answer, for the `RateLimit` fields. */
  decision: RateDecision | undefined;
  /** The second being counted (epoch seconds), the requests in it, and in the one before. */
  second: number;
  count: number;
  previous: number;
  /** Requests waiting for the call in flight. */
  waiting: number;
  asking: Promise<RateDecision | null> | undefined;
}

/** What a request found: counted (with the fields' figures) or refused, or `null` when the object could not answer. */
export type LeaseDecision = RateDecision | null;

export class TokenLeases {
  readonly #accounts = new Map<string, AccountTokens>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Forgets what the isolate holds for an account, as its limit changes: its next request asks again. */
  forget(accountId: string): void {
    this.#accounts.delete(accountId);
  }

  /**
   * Counts one request of the account, asking its object through `ask` when the isolate holds no
   * token: the decision for the answer, or null when the object could not answer.
   */
  async take(accountId: string, ask: AskTokens): Promise<LeaseDecision> {
    const tokens = this.#tokensOf(accountId);
    for (let round = 0; round < MAX_SHARED_ROUNDS; round++) {
      const spent = this.#spend(tokens);
      if (spent) return spent;
      const answer = await this.#shared(tokens, ask);
      if (!answer?.allowed) return answer;
    }
    // Others took every token of the calls this request waited for: it asks for its own.
    return ask(1);
  }

  #tokensOf(accountId: string): AccountTokens {
    const now = this.now();
    const second = Math.floor(now / 1000);
    let tokens = this.#accounts.get(accountId);
    if (!tokens) {
      if (this.#accounts.size >= MAX_ACCOUNTS) this.#prune(now);
      tokens = { left: 0, expires: 0, decision: undefined, second, count: 0, previous: 0, waiting: 0, asking: undefined };
      this.#accounts.set(accountId, tokens);
    }
    if (second !== tokens.second) {
      tokens.previous = second === tokens.second + 1 ? tokens.count : 0;
      tokens.second = second;
      tokens.count = 0;
    }
    tokens.count++;
    return tokens;
  }

  #spend(tokens: AccountTokens): RateDecision | undefined {
    if (tokens.left < 1 || tokens.expires <= this.now() || !tokens.decision) return undefined;
    tokens.left--;
    // What the object has left plus what this isolate still holds: one fewer with each answer.
    return { ...tokens.decision, remaining: tokens.decision.remaining + tokens.left };
  }

  /** The call in flight for the account, or a new one sized to the last second's requests and those waiting. */
  async #shared(tokens: AccountTokens, ask: AskTokens): Promise<RateDecision | null> {
    tokens.waiting++;
    try {
      tokens.asking ??= this.#call(tokens, ask, Math.max(1, tokens.previous, tokens.waiting));
      return await tokens.asking;
    } finally {
      tokens.waiting--;
    }
  }

  async #call(tokens: AccountTokens, ask: AskTokens, want: number): Promise<RateDecision | null> {
    try {
      const answer = await ask(want);
      if (answer?.allowed) {
        const now = this.now();
        tokens.left = (tokens.expires > now ? tokens.left : 0) + answer.granted;
        tokens.expires = now + LEASE_MS;
      }
      if (answer) tokens.decision = answer;
      return answer;
    } finally {
      tokens.asking = undefined;
    }
  }

  #prune(now: number): void {
    for (const [id, tokens] of this.#accounts) {
      if (!tokens.asking && (tokens.left < 1 || tokens.expires <= now)) this.#accounts.delete(id);
    }
  }
}

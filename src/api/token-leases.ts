import type { RateDecision } from '../accounts/rate-limit';

/**
 * The tokens of accounts' rate limits that the account objects lent this isolate, so that most requests
 * are counted without a call to the object: that call cost about 6 ms at the median and a third of a
 * poll's throughput (README, "Rate limits").
 *
 * - A request that finds no token asks the object for as many as the isolate served of the account in
 *   the last second (at least one, and no more than the object's `leaseSize`), so an isolate that sees
 *   an account rarely asks for one token per request, exactly as without leases, and a busy one about
 *   once a second. While such a call is out, other requests that find no token ask for their own one
 *   only, so a second's worth is never asked for twice at once.
 * - Tokens are spent for a second after the last call that added some; what is left then is lost to the
 *   account, never lent twice, so an account never gets more than its bucket holds and refills.
 * - No request waits on another's call: a promise shared across requests hangs every waiter when the
 *   request that made it is canceled (the runtime then answers them 500; `npm run chaos` found it).
 */

const LEASE_MS = 1_000;
/** Beyond this many accounts, the ones with nothing in hand are forgotten before another is kept. */
const MAX_ACCOUNTS = 10_000;

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
  /** Calls to the object out now that ask for more than their request's own token. */
  lending: number;
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
    const spent = this.#spend(tokens);
    if (spent) return spent;
    const want = tokens.lending > 0 ? 1 : Math.max(1, tokens.previous);
    if (want > 1) tokens.lending++;
    let answer: RateDecision | null;
    try {
      answer = await ask(want);
    } finally {
      if (want > 1) tokens.lending--;
    }
    if (!answer?.allowed) return answer;
    const now = this.now();
    // This request's token is one of those granted; the rest join what the isolate holds.
    if (answer.granted > 1) {
      tokens.left = (tokens.expires > now ? tokens.left : 0) + answer.granted - 1;
      tokens.expires = now + LEASE_MS;
    }
    tokens.decision = answer;
    return { ...answer, remaining: answer.remaining + tokens.left };
  }

  #tokensOf(accountId: string): AccountTokens {
    const now = this.now();
    const second = Math.floor(now / 1000);
    let tokens = this.#accounts.get(accountId);
    if (!tokens) {
      if (this.#accounts.size >= MAX_ACCOUNTS) this.#prune(now);
      tokens = { left: 0, expires: 0, decision: undefined, second, count: 0, previous: 0, lending: 0 };
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

  #prune(now: number): void {
    for (const [id, tokens] of this.#accounts) {
      if (tokens.lending === 0 && (tokens.left < 1 || tokens.expires <= now)) this.#accounts.delete(id);
    }
  }
}

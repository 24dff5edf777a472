import { Hono } from 'hono';

/**
 * Providers' limits on work in flight, enforced per provider account as the providers document them,
 * and counted for tests and the bench:
 *   bfl       24 active tasks per API key (a task is active from its submit until it is ready); over it 429
 *   ideogram  10 images in progress per organisation (a request for n images takes n places); over it 429
 * Other providers publish per-minute limits by tier, not a concurrency: none is enforced unless a
 * test sets one. The account is the API key, or `[sim:tenant=NAME]` in the prompt, so that a test
 * can have a provider account (and its limit and counts) of its own while other tests run beside it.
 *
 *   GET  /__sim/capacity?provider=P&account=A   { limit, in_flight, peak, accepted, rejected }
 *   POST /__sim/capacity  { provider, account, limit }   sets (null: clears) that account's limit,
 *                                                         and starts its counts afresh
 */
export const DOCUMENTED_LIMITS: Readonly<Record<string, number>> = { bfl: 24, ideogram: 10 };

/** A job that never ends (`[sim:hang]`) is taken off the count after this long, as the provider would time it out. */
const HANG_HOLD_MS = 60_000;

interface Place {
  weight: number;
  /** When the work ends; Infinity while a synchronous request is being answered. */
  until: number;
}

interface AccountCount {
  places: Place[];
  peak: number;
  accepted: number;
  rejected: number;
}

export interface Admission {
  ok: boolean;
  limit: number | null;
  /** The work ends at `at` (an async job's ready time), or now (a synchronous answer sent); null: it never ends. */
  endsAt(at: number | null): void;
}

export interface SimCapacity {
  /** The provider account a request belongs to: `[sim:tenant=NAME]` in its prompt, else its key. */
  account(key: string, prompt: string): string;
  /** Takes `weight` places for new work, or refuses it when the account's limit would be passed. */
  admit(provider: string, account: string, weight: number): Admission;
  reset(): void;
  routes: Hono;
}

export function createCapacity(): SimCapacity {
  const counts = new Map<string, AccountCount>();
  const overrides = new Map<string, number | null>();
  const keyOf = (provider: string, account: string) => `${provider}\u0000${account}`;
  const limitOf = (provider: string, account: string): number | null => {
    const key = keyOf(provider, account);
    return overrides.has(key) ? overrides.get(key)! : (DOCUMENTED_LIMITS[provider] ?? null);
  };
  const countOf = (provider: string, account: string): AccountCount => {
    const key = keyOf(provider, account);
    let count = counts.get(key);
    if (!count) counts.set(key, (count = { places: [], peak: 0, accepted: 0, rejected: 0 }));
    const now = Date.now();
    count.places = count.places.filter((place) => place.until > now);
    return count;
  };
  const inFlight = (count: AccountCount) => count.places.reduce((sum, place) => sum + place.weight, 0);

  const routes = new Hono()
    .get('/', (c) => {
      const provider = c.req.query('provider') ?? '';
      const account = c.req.query('account') ?? '';
      const count = countOf(provider, account);
      const { peak, accepted, rejected } = count;
      return Response.json({ provider, account, limit: limitOf(provider, account), in_flight: inFlight(count), peak, accepted, rejected });
    })
    .post('/', async (c) => {
      const { provider, account, limit } = (await c.req.json()) as { provider: string; account: string; limit: number | null };
      overrides.set(keyOf(provider, account), limit);
      counts.delete(keyOf(provider, account));
      return Response.json({ provider, account, limit });
    });

  return {
    account: (key, prompt) => /\[sim:tenant=([\w.-]+)\]/.exec(prompt)?.[1] ?? key,
    admit(provider, account, weight) {
      const count = countOf(provider, account);
      const limit = limitOf(provider, account);
      if (limit !== null && inFlight(count) + weight > limit) {
        count.rejected++;
        return { ok: false, limit, endsAt: () => undefined };
      }
      const place: Place = { weight, until: Number.POSITIVE_INFINITY };
      count.places.push(place);
      count.accepted++;
      count.peak = Math.max(count.peak, inFlight(count));
      return {
        ok: true,
        limit,
        endsAt: (at) => {
          place.until = at ?? Date.now() + HANG_HOLD_MS;
        },
      };
    },
    reset() {
      counts.clear();
      overrides.clear();
    },
    routes,
  };
}

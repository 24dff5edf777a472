import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { accountStub } from '../accounts/account.do';
import { type RateDecision, WINDOW_SECONDS } from '../accounts/rate-limit';
import type { AppEnv } from '../env';
import { ApiError, ErrorBodySchema } from '../errors';
import { log } from '../log';
import { TokenLeases } from './token-leases';

/**
 * Rate limits as HTTP sees them (contract, "Operating"), with the header fields of the IETF draft
 * `httpapi-ratelimit-headers` (-11, May 2026: structured-field lists, one item per quota policy):
 *
 *   RateLimit-Policy: "account";q=600;w=60     the policy: 600 requests per 60 s for this account
 *   RateLimit: "account";r=599;t=1             599 left; the next one comes back within 1 s
 *
 * Two policies:
 * - `account`, on every route behind a customer key: a token bucket in the account's object
 *   (src/accounts/rate-limit.ts), its size set by the BFF. Every answer carries both fields.
 * - `address`, per client address, on the routes that take no credentials and on customer routes
 *   presented a bad key: the Workers Rate Limiting binding `ADDRESS_RATE_LIMITER` (a fixed limit in
 *   wrangler.toml, counted per Cloudflare location). It says only yes or no, so only its 429 carries a
 *   field, `RateLimit: "address";r=0;t=10`. Requests without `CF-Connecting-IP` (never the case behind
 *   Cloudflare; the tests' and service bindings' requests) are not counted: no address, no brake.
 *
 * Over a limit: `429 rate_limited` with `Retry-After`, in the one error envelope.
 */

/** The `period` of wrangler.toml's `[[ratelimits]]` binding, for `Retry-After` (a test keeps them equal). */
export const ADDRESS_WINDOW_SECONDS = 10;

/** The `RateLimit-Policy` and `RateLimit` fields of an account's decision. */
function accountHeaders(decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Policy': `"account";q=${decision.limit};w=${WINDOW_SECONDS}`,
    RateLimit: `"account";r=${decision.remaining};t=${decision.reset_seconds}`,
  };
}

/** The tokens the accounts' objects lent this isolate (./token-leases.ts). */
const leases = new TokenLeases();

/** Forgets the isolate's tokens of an account, as the BFF sets its limit: the next request asks its object. */
export function dropLease(accountId: string): void {
  leases.forget(accountId);
}

/**
 * Counts the request against the account's limit; over it, throws `429 rate_limited`. Returns the header
 * fields for the answer, or none when the account's object could not be asked: the limit is a brake,
 * not a gate, and every customer route needs that object or the task's anyway.
 */
export async function limitAccount(c: Context<AppEnv>, accountId: string): Promise<Record<string, string>> {
  const decision = await leases.take(accountId, (want) =>
    accountStub(c.env, accountId)
      .takeRequests(want)
      .catch((err: unknown) => {
        log.warn('rate_limit_unavailable', { request_id: c.get('requestId'), account_id: accountId }, err);
        return null;
      }),
  );
  if (!decision) return {};
  const headers = accountHeaders(decision);
  if (!decision.allowed) {
    throw new ApiError(
      'rate_limited',
      `Rate limit of ${decision.limit} requests per minute exceeded for this account; retry after ${decision.reset_seconds} s.`,
      { headers: { ...headers, 'Retry-After': String(decision.reset_seconds) } },
    );
  }
  return headers;
}

/** What the address limit counts by: an IPv4 address, or an IPv6 client's /64 (one host holds a whole /64). */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('::');
  const first = head === '' ? [] : head.split(':');
  const last = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? first : [...first, ...Array<string>(Math.max(0, 8 - first.length - last.length)).fill('0'), ...last];
  return `${groups
    .slice(0, 4)
    .map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? Number.parseInt(g, 16).toString(16) : '?'))
    .join(':')}::/64`;
}

/** Counts the request against its address's limit; over it, throws `429 rate_limited`. */
export async function limitAddress(c: Context<AppEnv>): Promise<void> {
  const address = c.req.header('cf-connecting-ip');
  if (!address) return;
  const { success } = await c.env.ADDRESS_RATE_LIMITER.limit({ key: addressKey(address.trim()) });
  if (success) return;
  const period = ADDRESS_WINDOW_SECONDS;
  throw new ApiError('rate_limited', `Too many requests from this address; retry after ${period} s.`, {
    headers: { RateLimit: `"address";r=0;t=${period}`, 'Retry-After': String(period) },
  });
}

const integerHeader = (description: string) => ({ description, schema: { type: 'integer' as const, minimum: 0 } });
const RATE_LIMIT_HEADERS = {
  'RateLimit-Policy': { description: 'The quota policy (IETF draft httpapi-ratelimit-headers), e.g. `"account";q=600;w=60`.', schema: { type: 'string' as const } },
  RateLimit: { description: 'What is left of it, e.g. `"account";r=599;t=1`: `r` requests, the next back within `t` seconds.', schema: { type: 'string' as const } },
};

/**
 * Documents the limits on every route outside `/internal`: a `429` answer (with `Retry-After` and the
 * rate-limit fields), and on customer routes the fields of every other answer. Call once all routes are
 * registered, before the document is served.
 */
export function documentRateLimits(registry: OpenAPIHono<AppEnv>['openAPIRegistry']): void {
  for (const definition of registry.definitions) {
    if (definition.type !== 'route' || definition.route.path.startsWith('/internal/')) continue;
    const route = definition.route;
    const customer = (route.security ?? []).some((requirement) => 'bearerAuth' in requirement);
    const responses = { ...route.responses };
    if (customer) {
      for (const [status, response] of Object.entries(responses)) {
        if ('$ref' in response || !status.startsWith('2') || response.headers instanceof z.ZodType) continue;
        responses[status] = { ...response, headers: { ...RATE_LIMIT_HEADERS, ...response.headers } };
      }
    }
    const retryAfter = integerHeader('Seconds to wait before trying again.');
    const limitHeaders = customer ? { 'Retry-After': retryAfter, ...RATE_LIMIT_HEADERS } : { 'Retry-After': retryAfter, RateLimit: RATE_LIMIT_HEADERS.RateLimit };
    const own = responses['429'];
    if (!own) {
      responses['429'] = {
        description: `Rate limited${customer ? ' (the account’s limit; with a bad key, the address’s)' : ' (per client address)'}.`,
        headers: limitHeaders,
        content: { 'application/json': { schema: ErrorBodySchema } },
      };
    } else if (!('$ref' in own) && !(own.headers instanceof z.ZodType)) {
      // A route's own 429 (the OpenAI-compatible routes' `insufficient_quota`) is also where the limits answer.
      responses['429'] = { ...own, headers: { ...limitHeaders, ...own.headers } };
    }
    route.responses = responses;
  }
}

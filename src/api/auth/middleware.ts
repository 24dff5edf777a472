import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../../env';
import { ApiError } from '../../errors';
import { limitAccount, limitAddress } from '../rate-limit';
import { API_KEY_PATTERN, findApiKey } from './api-keys';
import { secretsEqual } from './crypto';

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/**
 * Customer routes: a live `aio_` key; sets `accountId` and `keyId`, and counts the request against the
 * account's rate limit (../rate-limit.ts), whose fields every answer of the route carries.
 */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  const refuse = async (message: string): Promise<never> => {
    // A bad key costs us a lookup and its sender nothing: it counts against the sender's address.
    await limitAddress(c);
    throw new ApiError('unauthorized', message);
  };
  if (!token) return refuse('Missing API key: send Authorization: Bearer <API_KEY>.');
  if (!API_KEY_PATTERN.test(token)) return refuse('Malformed API key.');
  const record = await findApiKey(c.env, token);
  if (!record) return refuse('Unknown or revoked API key.');
  c.set('accountId', record.account_id);
  c.set('keyId', record.key_id);
  const limitFields = await limitAccount(c, record.account_id);
  await next();
  for (const [name, value] of Object.entries(limitFields)) c.header(name, value);
});

/** Internal routes: the BFF's `INTERNAL_API_TOKEN`, compared in constant time. */
export const requireInternalToken = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  const expected = c.env.INTERNAL_API_TOKEN;
  if (!token || !expected || !(await secretsEqual(token, expected))) {
    throw new ApiError('unauthorized', 'Missing or invalid internal token.');
  }
  await next();
});

/**
 * Every route that takes neither a customer key nor the internal token (the catalog, result files,
 * `/healthz`, the documents, unknown paths): counted per client address. Mounted once at the root; the
 * router has already matched the request, so its route's middleware says which kind it is. Provider
 * callbacks are left alone: they come in bursts from a few provider addresses, each carries its job's own
 * token, and one refused would only delay its task to the next poll.
 */
export const limitAnonymous = createMiddleware<AppEnv>(async (c, next) => {
  const credentialed = matchedRoutes(c).some((route) => route.handler === requireApiKey || route.handler === requireInternalToken);
  if (!credentialed && !c.req.path.startsWith('/callbacks/')) await limitAddress(c);
  await next();
});

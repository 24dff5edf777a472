import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env';
import { ApiError } from '../../errors';
import { API_KEY_PATTERN, findApiKey } from './api-keys';
import { secretsEqual } from './crypto';

function bearer(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1] ?? null;
}

/** Customer routes: a live `aio_` key; sets `accountId` and `keyId`. */
export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw new ApiError('unauthorized', 'Missing API key: send Authorization: Bearer <API_KEY>.');
  if (!API_KEY_PATTERN.test(token)) throw new ApiError('unauthorized', 'Malformed API key.');
  const record = await findApiKey(c.env, token);
  if (!record) throw new ApiError('unauthorized', 'Unknown or revoked API key.');
  c.set('accountId', record.account_id);
  c.set('keyId', record.key_id);
  await next();
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

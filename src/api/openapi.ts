import type { z } from '@hono/zod-openapi';
import { ErrorBodySchema } from '../errors';

/** An OpenAPI response entry with a JSON body. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** OpenAPI response entries for error statuses, all with the one error envelope. */
export function errorResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request; `error.details` names each offending field.',
    401: 'Missing, malformed, unknown or revoked credentials.',
    402: 'Not enough credits.',
    404: 'Not found (or owned by another account).',
    409: 'Conflict.',
    413: 'Body larger than 64 KiB.',
    415: 'Body is not application/json.',
    422: '`idempotency_key_reused`: the Idempotency-Key was already used with a different body.',
    429: 'Rate limited.',
    503: 'Provider unavailable.',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? 'Error', content: { 'application/json': { schema: ErrorBodySchema } } },
    ]),
  );
}

export const bearerSecurity = [{ bearerAuth: [] }];
export const internalSecurity = [{ internalToken: [] }];
